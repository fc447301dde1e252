package io.sparkmerge.vocab;

import io.sparkmerge.ConfigException;
import io.sparkmerge.config.TokenizerSpec;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Where every row of every input's embedding matrices comes from once the vocabulary changes
 * (mergekit tokenizer/embed.py, PermutedEmbeddings): an input's row of the same token when it has
 * one, else the token's default: given by {@code tokenizer.tokens}, or the one input that has the
 * token, else the base's row, else the mean of the inputs that have it (zeros when none has it);
 * {@code force} uses the default even where the input has the token. Rows past the vocabulary
 * ({@code pad_to_multiple_of}) are the mean of the input's own first {@code vocab} rows. Shipped to
 * executors in the plan; the same map serves every embedding tensor (input embeddings and lm_head).
 * Differs: a mean is computed in the compute dtype (float32), summing the inputs in plan order.
 *
 * @param vocab the output vocabulary's size
 * @param rows the output's rows (vocab rounded up to pad_to_multiple_of)
 * @param src per input (base first when there is one, then the models), per output token: the input's
 *     own row, or −1 for the token's default
 * @param fills per output token that needs a default: pairs (input, row) to average; empty = zeros
 */
public record EmbeddingRows(int vocab, int rows, int[][] src, Map<Integer, int[]> fills) implements Serializable {
  /** The embedding tensors of the HF architectures: input embeddings and output heads, outside the layers. */
  private static final Pattern EMBEDDING = Pattern.compile("(^|\\.)(embed_tokens|wte|word_embeddings|embed_in|embed_out|lm_head)\\.weight$");

  public static boolean isEmbedding(String tensorName, long[] shape) {
    return shape.length == 2 && EMBEDDING.matcher(tensorName).find();
  }

  /**
   * @param perms per input, its row of each output token (VocabularyMerge.permutation)
   * @param inputs per input, its vocabulary (null: the base's is assumed)
   * @param baseIndex the base's index among the inputs, or −1
   * @param indexOf a model path → its input index (−1 when it is not an input)
   * @param counted false for an input that repeats an earlier one (a base also listed among the models):
   *     a mean counts each model once, as mergekit's set of models does
   */
  public static EmbeddingRows plan(VocabularyMerge merged, TokenizerSpec spec, List<int[]> perms, List<Vocabulary> inputs,
      int baseIndex, Function<String, Integer> indexOf, boolean[] counted, List<String> warnings) {
    int vocab = merged.tokens().size();
    int pad = spec.padToMultipleOf();
    int rows = pad > 0 && vocab % pad != 0 ? (vocab / pad + 1) * pad : vocab;
    int[][] src = new int[perms.size()][vocab];
    Map<Integer, int[]> fills = new HashMap<>();
    List<String> absent = new ArrayList<>();
    for (int id = 0; id < vocab; id++) {
      String tok = merged.tokens().get(id);
      TokenizerSpec.TokenEmbedding given = spec.tokens().get(tok);
      boolean force = given != null && given.force();
      boolean missing = false;
      for (int i = 0; i < perms.size(); i++) {
        src[i][id] = force ? -1 : perms.get(i)[id];
        missing |= src[i][id] < 0;
      }
      if (!missing) {
        continue;
      }
      int[] fill = given == null || given.kind() == TokenizerSpec.Kind.DEFAULT
          ? defaultFill(perms, id, baseIndex, counted) : givenFill(given, tok, id, perms, inputs, indexOf);
      if (fill.length == 0 && (given == null || given.kind() != TokenizerSpec.Kind.ZERO)) {
        absent.add(tok);
      }
      fills.put(id, fill);
    }
    if (!absent.isEmpty()) {
      warnings.add(absent.size() + " token(s) have no embedding row in any model and get zeros, e.g. '" + absent.get(0) + "'");
    }
    return new EmbeddingRows(vocab, rows, src, fills);
  }

  /** The one input that has it, else the base, else the mean of those that have it. */
  private static int[] defaultFill(List<int[]> perms, int id, int baseIndex, boolean[] counted) {
    List<Integer> present = new ArrayList<>();
    for (int i = 0; i < perms.size(); i++) {
      if (counted[i] && perms.get(i)[id] >= 0) {
        present.add(i);
      }
    }
    if (present.size() > 1 && baseIndex >= 0 && perms.get(baseIndex)[id] >= 0) {
      present = List.of(baseIndex);
    }
    int[] fill = new int[2 * present.size()];
    for (int k = 0; k < present.size(); k++) {
      fill[2 * k] = present.get(k);
      fill[2 * k + 1] = perms.get(present.get(k))[id];
    }
    return fill;
  }

  private static int[] givenFill(TokenizerSpec.TokenEmbedding g, String tok, int id, List<int[]> perms, List<Vocabulary> inputs,
      Function<String, Integer> indexOf) {
    String where = "tokenizer.tokens['" + tok + "'].source";
    if (g.kind() == TokenizerSpec.Kind.ZERO) {
      return new int[0];
    }
    int m = indexOf.apply(g.model());
    if (m < 0) {
      throw new ConfigException(where + ": model " + g.model() + " is not among the models of the merge; name one of them");
    }
    if (g.kind() == TokenizerSpec.Kind.MODEL) {
      if (perms.get(m)[id] < 0) {
        throw new ConfigException(where + ": model " + g.model() + " has no token '" + tok + "'; choose a model that has it");
      }
      return new int[] {m, perms.get(m)[id]};
    }
    int row = g.tokenId();
    if (g.token() != null) {
      Vocabulary v = inputs.get(m);
      Integer r = v == null ? null : v.tokens().get(g.token());
      if (r == null) {
        throw new ConfigException(where + ": model " + g.model() + " has no token '" + g.token() + "'");
      }
      row = r;
    }
    return new int[] {m, row};
  }

  /** A text that changes whenever any output row's source does (part of the plan's fingerprint, for --resume). */
  public String fingerprint() {
    java.security.MessageDigest md;
    try {
      md = java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4);
    java.util.function.IntConsumer put = x -> {
      b.clear();
      md.update(b.putInt(x).array());
    };
    put.accept(vocab);
    put.accept(rows);
    for (int[] s : src) {
      put.accept(s.length);
      java.util.Arrays.stream(s).forEach(put);
    }
    new java.util.TreeMap<>(fills).forEach((k, v) -> {
      put.accept(k);
      put.accept(v.length);
      java.util.Arrays.stream(v).forEach(put);
    });
    return java.util.HexFormat.of().formatHex(md.digest());
  }

  /** The largest row of input i any output row reads (own rows and defaults), to check against its tensor. */
  public int maxRowRead(int input) {
    int max = -1;
    for (int r : src[input]) {
      max = Math.max(max, r);
    }
    for (int[] f : fills.values()) {
      for (int k = 0; k < f.length; k += 2) {
        if (f[k] == input) {
          max = Math.max(max, f[k + 1]);
        }
      }
    }
    return max;
  }
}
