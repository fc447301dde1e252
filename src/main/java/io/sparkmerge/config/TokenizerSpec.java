package io.sparkmerge.config;

import java.io.Serializable;
import java.util.Map;

/**
 * The output vocabulary a merge asks for (mergekit's {@code tokenizer_source} / {@code tokenizer:} block):
 * {@code source} "union" (every model's tokens), "base" or a model path (that model's vocabulary), plus
 * tokens to add with where their embedding rows come from, and {@code pad_to_multiple_of}.
 *
 * @param source "union", "base" or a model path
 * @param tokens tokens to add (in order), each with the source of its embedding
 * @param padToMultipleOf embedding rows rounded up to a multiple of this (0: none)
 * @param explicit true for the {@code tokenizer:} block or {@code tokenizer_source: union}: vocabulary
 *     surgery is wanted; false for {@code tokenizer_source: base | PATH}, where the files are copied
 *     unchanged when every model already has that vocabulary
 */
public record TokenizerSpec(String source, Map<String, TokenEmbedding> tokens, int padToMultipleOf, boolean explicit)
    implements Serializable {

  /** Where a token's embedding row comes from. */
  public enum Kind {
    /** mergekit's defaults: the one model that has it, else the base's, else the mean of the models that have it. */
    DEFAULT,
    /** that model's row of the same token ({@code source: PATH}). */
    MODEL,
    /** zeros ({@code source: {kind: zero}}). */
    ZERO,
    /** that model's row of another token ({@code source: {kind: model_token, model: PATH, token: T | token_id: N}}). */
    MODEL_TOKEN
  }

  /** A token's embedding source; {@code force} uses it even for models that have the token. */
  public record TokenEmbedding(Kind kind, String model, String token, int tokenId, boolean force) implements Serializable {}

  public boolean union() {
    return source.equals("union");
  }
}
