package io.sparkmerge.vocab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmerge.InputDataException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * One model's vocabulary as transformers' fast tokenizer sees it, read from its {@code tokenizer.json}
 * (the format of the Hugging Face tokenizers library; no tokenizer library is needed to read token
 * ids): the model's vocabulary (BPE, WordPiece and WordLevel maps, Unigram lists) plus the added
 * tokens, and {@code vocab_size} from config.json (tokens at or past it have no embedding row and are
 * left out, as mergekit does).
 *
 * @param tokens token → id, {@code get_vocab()}: the model vocabulary and the added tokens
 * @param added the added tokens by id, their tokenizer.json entries (content, special, normalized, ...)
 * @param modelVocabSize entries of the model vocabulary (the tokenizers library numbers new tokens from here)
 * @param rows the tokens that have an embedding row: config.json's vocab_size, else the vocabulary's size
 * @param json the parsed tokenizer.json (kept for the output tokenizer when this is its source)
 */
public record Vocabulary(Map<String, Integer> tokens, TreeMap<Integer, ObjectNode> added, int modelVocabSize, long rows,
    ObjectNode json) {
  static final ObjectMapper JSON = new ObjectMapper();

  /** The vocabulary of the model in {@code dir}, or null when it has no tokenizer.json with a vocabulary. */
  public static Vocabulary read(Configuration conf, String ref) throws IOException {
    String dir = io.sparkmerge.lora.LoraReference.modelPath(ref); // MODEL+ADAPTER: the tokenizer is MODEL's
    Path tj = new Path(dir, "tokenizer.json");
    FileSystem fs = tj.getFileSystem(conf);
    if (!fs.exists(tj)) {
      return null;
    }
    JsonNode root;
    try {
      root = JSON.readTree(readText(fs, tj));
    } catch (IOException e) {
      return null;
    }
    if (!(root instanceof ObjectNode o) || !o.path("model").has("vocab")) {
      return null;
    }
    Map<String, Integer> tokens = new LinkedHashMap<>();
    JsonNode vocab = o.path("model").path("vocab");
    if (vocab.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        tokens.put(e.getKey(), e.getValue().asInt());
      }
    } else if (vocab.isArray()) { // Unigram: [[piece, score], ...], ids are positions
      for (int i = 0; i < vocab.size(); i++) {
        tokens.put(vocab.get(i).get(0).asText(), i);
      }
    } else {
      throw new InputDataException(tj + ": model.vocab is neither a map nor a list; give a tokenizer.json written by the"
          + " tokenizers library");
    }
    int modelSize = tokens.size();
    TreeMap<Integer, ObjectNode> added = new TreeMap<>();
    for (JsonNode a : o.path("added_tokens")) {
      if (a instanceof ObjectNode an && an.has("id") && an.has("content")) {
        added.put(an.get("id").asInt(), an);
        tokens.put(an.get("content").asText(), an.get("id").asInt());
      }
    }
    long rows = configVocabSize(fs, new Path(dir, "config.json"));
    return new Vocabulary(tokens, added, modelSize, rows > 0 ? rows : tokens.size(), o);
  }

  /** Whether {@code token} has an embedding row in this model (present and below its vocab_size). */
  public boolean has(String token) {
    Integer id = tokens.get(token);
    return id != null && id < rows;
  }

  /** The token's id when it has an embedding row, else -1. */
  public int row(String token) {
    return has(token) ? tokens.get(token) : -1;
  }

  /** Whether {@code token} is one of the added tokens (special or not). */
  public boolean isAdded(String token) {
    Integer id = tokens.get(token);
    return id != null && added.containsKey(id) && added.get(id).get("content").asText().equals(token);
  }

  private static long configVocabSize(FileSystem fs, Path config) throws IOException {
    if (!fs.exists(config)) {
      return -1;
    }
    try {
      JsonNode c = JSON.readTree(readText(fs, config));
      JsonNode v = c.path("vocab_size").isNumber() ? c.get("vocab_size") : c.path("text_config").path("vocab_size");
      return v.isNumber() ? v.asLong() : -1;
    } catch (IOException e) {
      return -1;
    }
  }

  static String readText(FileSystem fs, Path p) throws IOException {
    try (InputStream in = fs.open(p)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
