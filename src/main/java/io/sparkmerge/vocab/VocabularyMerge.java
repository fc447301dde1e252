package io.sparkmerge.vocab;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmerge.InputDataException;
import io.sparkmerge.config.TokenizerSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The output vocabulary of a merge (mergekit tokenizer/build.py, rewritten on tokenizer.json data):
 * for a union, the source's tokens (the base's tokenizer), then every model's regular tokens it lacks,
 * then every model's added tokens it lacks (first model wins a conflict of settings); otherwise the
 * source model's tokens. Tokens named under {@code tokenizer.tokens} are added last. New tokens are
 * numbered as the tokenizers library numbers added tokens (from the model vocabulary's size, or past
 * the largest added id). Differs: mergekit visits a model's regular tokens in the order of a hash map
 * (which changes from run to run); here in the order of their ids, models in config order, so the
 * ids are reproducible.
 *
 * @param tokens the output tokens by id (ids are 0 .. size − 1)
 * @param ids token → output id
 * @param source the vocabulary the output tokenizer extends
 * @param appended the entries appended to the source's added_tokens (with their new ids)
 * @param warnings what a user should know (conflicting added-token settings)
 */
public record VocabularyMerge(List<String> tokens, Map<String, Integer> ids, Vocabulary source, List<ObjectNode> appended,
    List<String> warnings) {

  /**
   * @param inputs every input's vocabulary, base first when there is one; null for a model without a
   *     tokenizer.json (mergekit assumes the base's tokenizer for it)
   * @param source the vocabulary the output extends: the base's (or first model's) for a union, else
   *     the named source's
   */
  public static VocabularyMerge build(TokenizerSpec spec, List<Vocabulary> inputs, Vocabulary source, String sourcePath) {
    for (Map.Entry<String, Integer> e : source.tokens().entrySet()) {
      if (e.getValue() >= source.rows()) {
        throw new InputDataException(sourcePath + "/tokenizer.json: token '" + e.getKey() + "' has id " + e.getValue()
            + ", past the model's vocab_size " + source.rows() + "; vocabulary surgery needs a tokenizer within the embedding");
      }
    }
    Map<String, Integer> ids = new LinkedHashMap<>(source.tokens());
    int[] maxAdded = {source.added().isEmpty() ? -1 : source.added().lastKey()};
    List<ObjectNode> appended = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    if (spec.union()) {
      Set<String> regular = new LinkedHashSet<>();
      Map<String, ObjectNode> added = new LinkedHashMap<>();
      for (Vocabulary v : inputs) {
        if (v == null) {
          continue;
        }
        v.tokens().entrySet().stream().filter(e -> e.getValue() < v.rows() && !v.isAdded(e.getKey()))
            .sorted(Map.Entry.comparingByValue()).forEach(e -> regular.add(e.getKey()));
        v.added().forEach((id, entry) -> {
          String content = entry.get("content").asText();
          if (id >= v.rows()) {
            return;
          }
          ObjectNode prev = added.putIfAbsent(content, entry);
          if (prev != null && !withoutId(prev).equals(withoutId(entry))) {
            warnings.add("added token '" + content + "' has different settings in different models; the first model's are used");
          }
        });
      }
      for (String tok : regular) {
        if (!added.containsKey(tok)) {
          add(tok, null, ids, source, maxAdded, appended);
        }
      }
      for (ObjectNode entry : added.values()) {
        add(entry.get("content").asText(), entry, ids, source, maxAdded, appended);
      }
    }
    for (String tok : spec.tokens().keySet()) {
      add(tok, null, ids, source, maxAdded, appended);
    }
    String[] byId = new String[ids.size()];
    for (Map.Entry<String, Integer> e : ids.entrySet()) {
      if (e.getValue() < 0 || e.getValue() >= byId.length || byId[e.getValue()] != null) {
        throw new InputDataException(sourcePath + "/tokenizer.json: token ids are not 0 .. " + (byId.length - 1) + " (token '"
            + e.getKey() + "' has id " + e.getValue() + "); vocabulary surgery needs a tokenizer whose ids are dense");
      }
      byId[e.getValue()] = e.getKey();
    }
    return new VocabularyMerge(List.of(byId), ids, source, appended, warnings);
  }

  /** Adds a token the output lacks with the next id the tokenizers library would give it. */
  private static void add(String tok, ObjectNode entry, Map<String, Integer> ids, Vocabulary source, int[] maxAdded,
      List<ObjectNode> appended) {
    if (ids.containsKey(tok)) {
      return;
    }
    int model = source.modelVocabSize();
    int id = maxAdded[0] < 0 ? model : maxAdded[0] >= model || model == 0 ? maxAdded[0] + 1 : model;
    maxAdded[0] = id;
    ids.put(tok, id);
    ObjectNode e = entry != null ? entry.deepCopy() : regularToken(tok);
    ObjectNode out = Vocabulary.JSON.createObjectNode().put("id", id);
    e.fields().forEachRemaining(f -> {
      if (!f.getKey().equals("id")) {
        out.set(f.getKey(), f.getValue());
      }
    });
    appended.add(out);
  }

  /** How transformers' add_tokens(str) registers a plain token. */
  private static ObjectNode regularToken(String tok) {
    return Vocabulary.JSON.createObjectNode().put("content", tok).put("single_word", false).put("lstrip", false)
        .put("rstrip", false).put("normalized", true).put("special", false);
  }

  private static ObjectNode withoutId(ObjectNode entry) {
    ObjectNode c = entry.deepCopy();
    c.remove("id");
    return c;
  }

  /** Model {@code v}'s row of each output token (−1: the model has no row for it); null v: the base's. */
  public int[] permutation(Vocabulary v) {
    int[] p = new int[tokens.size()];
    for (int id = 0; id < p.length; id++) {
      p[id] = v.row(tokens.get(id));
    }
    return p;
  }
}
