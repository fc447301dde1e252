package io.sparkmerge.vocab;

import io.sparkmerge.ConfigException;
import io.sparkmerge.InputDataException;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.config.TokenizerSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiPredicate;
import org.apache.hadoop.conf.Configuration;

/**
 * Decides, on the driver, whether a merge changes the vocabulary and builds what it needs: the output
 * vocabulary ({@link VocabularyMerge}) and every input's embedding row map ({@link EmbeddingRows}).
 * Reads tokenizer.json and config.json only. {@code tokenizer_source: base | PATH} changes nothing when
 * every model already has that vocabulary (the tokenizer files are then copied as they are).
 *
 * @param merged the output vocabulary
 * @param rows the embedding row map shipped to executors
 * @param sourcePath the model whose tokenizer files the output's extend
 * @param warnings what a user should know
 */
public record VocabularySurgery(VocabularyMerge merged, EmbeddingRows rows, String sourcePath, List<String> warnings) {

  /**
   * @param inputs the merge's input model paths: the base first when there is one, then the models
   * @param samePath whether two configured paths name the same model
   * @return null when the vocabulary does not change
   */
  public static VocabularySurgery plan(Configuration conf, MergeConfig cfg, List<String> inputs, boolean hasBase,
      BiPredicate<String, String> samePath) {
    TokenizerSpec spec = cfg.tokenizer();
    if (spec == null) {
      return null;
    }
    try {
      List<Vocabulary> vocabs = new ArrayList<>();
      for (String p : inputs) {
        vocabs.add(Vocabulary.read(conf, p));
      }
      String sourcePath = spec.union() ? inputs.get(0) : spec.source().equals("base") ? cfg.baseModel() : spec.source();
      Vocabulary source = Vocabulary.read(conf, sourcePath);
      if (source == null || (!spec.explicit() && vocabs.contains(null))) {
        if (!spec.explicit()) {
          return null; // tokenizer files copied unchanged, as before
        }
        throw new InputDataException(sourcePath + ": no tokenizer.json with a vocabulary; vocabulary surgery reads the fast"
            + " tokenizer's file (write it once with transformers: AutoTokenizer.from_pretrained(DIR).save_pretrained(DIR))");
      }
      List<String> warnings = new ArrayList<>();
      Vocabulary base = vocabs.get(0);
      for (int i = 0; i < vocabs.size(); i++) {
        if (vocabs.get(i) == null) {
          warnings.add(inputs.get(i) + " has no tokenizer.json; its vocabulary is taken to be " + inputs.get(0) + "'s (as mergekit does)");
        }
      }
      VocabularyMerge merged = VocabularyMerge.build(spec, vocabs, source, sourcePath);
      warnings.addAll(merged.warnings());
      List<int[]> perms = new ArrayList<>();
      boolean identity = true;
      for (Vocabulary v : vocabs) {
        int[] p = merged.permutation(v != null ? v : base);
        perms.add(p);
        for (int id = 0; id < p.length && identity; id++) {
          identity = p[id] == id;
        }
      }
      if (!spec.explicit() && identity) {
        return null;
      }
      boolean[] counted = new boolean[inputs.size()];
      for (int i = 0; i < inputs.size(); i++) {
        counted[i] = true;
        for (int j = 0; j < i; j++) {
          counted[i] &= !samePath.test(inputs.get(j), inputs.get(i));
        }
      }
      EmbeddingRows rows = EmbeddingRows.plan(merged, spec, perms, vocabs, hasBase ? 0 : -1, path -> {
        for (int i = 0; i < inputs.size(); i++) {
          if (samePath.test(inputs.get(i), path)) {
            return i;
          }
        }
        return -1;
      }, counted, warnings);
      return new VocabularySurgery(merged, rows, sourcePath, warnings);
    } catch (IOException e) {
      throw new UncheckedIOException("reading the tokenizers of the merge: " + e.getMessage(), e);
    }
  }

  /** The methods whose side inputs are read outside the merge's row reads cannot see permuted rows. */
  public static void checkMethod(String method, boolean sideInputs) {
    if (sideInputs) {
      throw new ConfigException("merge_method '" + method + "' reads masks, importances or task vectors beside the models;"
          + " it cannot be combined with a vocabulary change (tokenizer_source: union, or a tokenizer: block)");
    }
  }
}
