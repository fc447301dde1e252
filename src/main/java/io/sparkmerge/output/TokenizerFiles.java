package io.sparkmerge.output;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmerge.vocab.VocabularySurgery;
import java.io.IOException;

/**
 * The tokenizer files of a merge that changed the vocabulary: the source's tokenizer.json with the
 * new tokens appended to {@code added_tokens}, and its tokenizer_config.json with them in
 * {@code added_tokens_decoder} (transformers reads both), written as transformers' save_pretrained
 * would after mergekit's add_tokens calls. Files that list the vocabulary in another form
 * (tokenizer.model, vocab.json, merges.txt, added_tokens.json) are not carried over: they would
 * disagree with the new tokens.
 */
final class TokenizerFiles {
  static final java.util.Set<String> STALE = java.util.Set.of("tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json");
  private static final ObjectMapper JSON = new ObjectMapper();

  private TokenizerFiles() {}

  static String tokenizerJson(VocabularySurgery v) throws IOException {
    ObjectNode j = v.merged().source().json().deepCopy();
    ArrayNode added = j.withArray("added_tokens");
    v.merged().appended().forEach(added::add);
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(j) + "\n";
  }

  /** @param source the source's tokenizer_config.json (null: none) */
  static String tokenizerConfig(String source, String file, VocabularySurgery v, String chatTemplate) throws IOException {
    ObjectNode c = source == null ? JSON.createObjectNode() : ConfigJson.object(source, file);
    ObjectNode decoder = c.with("added_tokens_decoder");
    for (ObjectNode e : v.merged().appended()) {
      ObjectNode d = e.deepCopy();
      d.remove("id");
      decoder.set(String.valueOf(e.get("id").asInt()), d);
    }
    if (chatTemplate != null) {
      c.put("chat_template", chatTemplate);
    }
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(c) + "\n";
  }
}
