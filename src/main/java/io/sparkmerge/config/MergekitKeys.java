package io.sparkmerge.config;

import io.sparkmerge.ConfigException;
import io.sparkmerge.param.Names;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The mergekit keys beyond {@code models:}: {@code slices} with {@code sources} and
 * {@code layer_range}, {@code tokenizer_source}, the {@code tokenizer:} block and {@code chat_template}
 * (docs/mergekit.md).
 */
public final class MergekitKeys {
  static final Set<String> SLICE_KEYS = Set.of("sources", "parameters");
  static final Set<String> SOURCE_KEYS = Set.of("model", "layer_range", "parameters");

  private MergekitKeys() {}

  static List<MergeConfig.SliceEntry> slices(Object yaml, String file) {
    if (!(yaml instanceof List<?> list) || list.isEmpty()) {
      throw new ConfigException(file + ": 'slices' must be a non-empty list of {sources: [{model: PATH, layer_range: [FROM, TO]}]}");
    }
    List<MergeConfig.SliceEntry> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String where = file + ": slices[" + i + "]";
      if (!(list.get(i) instanceof Map<?, ?> sm)) {
        throw new ConfigException(where + " must be {sources: [...], parameters: {...}}");
      }
      Map<String, Object> slice = ConfigLoader.stringKeys(sm, where);
      slice.keySet().forEach(k -> ConfigLoader.checkKey(k, SLICE_KEYS, file, "slices[]"));
      if (!(slice.get("sources") instanceof List<?> sources) || sources.isEmpty()) {
        throw new ConfigException(where + ": 'sources' must be a non-empty list of {model: PATH, layer_range: [FROM, TO]}");
      }
      List<MergeConfig.SliceSource> srcs = new ArrayList<>();
      for (int j = 0; j < sources.size(); j++) {
        srcs.add(source(sources.get(j), file, where + ".sources[" + j + "]"));
      }
      int len = srcs.get(0).to() - srcs.get(0).from();
      for (int j = 1; j < srcs.size(); j++) {
        MergeConfig.SliceSource s = srcs.get(j);
        if (s.to() - s.from() != len) {
          throw new ConfigException(where + ".sources[" + j + "] (" + s.path() + "): layer_range [" + s.from() + ", " + s.to()
              + "] has " + (s.to() - s.from()) + " layers but sources[0] has " + len
              + "; every source of a slice must give the same number of layers");
        }
      }
      out.add(new MergeConfig.SliceEntry(List.copyOf(srcs), ConfigLoader.params(slice.get("parameters"), where + ".parameters")));
    }
    return List.copyOf(out);
  }

  private static MergeConfig.SliceSource source(Object yaml, String file, String where) {
    if (!(yaml instanceof Map<?, ?> em)) {
      throw new ConfigException(where + " must be {model: PATH, layer_range: [FROM, TO], parameters: {...}}");
    }
    Map<String, Object> src = ConfigLoader.stringKeys(em, where);
    src.keySet().forEach(k -> ConfigLoader.checkKey(k, SOURCE_KEYS, file, "slices[].sources[]"));
    String path = ConfigLoader.string(src, "model", where, true);
    Object range = src.get("layer_range");
    if (!(range instanceof List<?> r) || r.size() != 2 || !(r.get(0) instanceof Integer from) || !(r.get(1) instanceof Integer to)) {
      throw new ConfigException(where + " (" + path + "): 'layer_range' must be [FROM, TO], two integers (TO exclusive), got " + range);
    }
    if (from < 0 || to <= from) {
      throw new ConfigException(where + " (" + path + "): layer_range [" + from + ", " + to + "] is empty or negative; "
          + "give 0 <= FROM < TO (TO is exclusive, as in mergekit)");
    }
    return new MergeConfig.SliceSource(path, from, to, ConfigLoader.params(src.get("parameters"), where + " (" + path + ").parameters"));
  }

  /** null, "union", "base" or a model path (mergekit's {@code tokenizer_source}). */
  static String tokenizerSource(String value, String base, String file) {
    if (value == null) {
      return null;
    }
    String v = value.trim();
    if (v.equals("base") && base == null) {
      throw new ConfigException(file + ": tokenizer_source 'base' needs 'base_model:'; give a model path instead");
    }
    return v;
  }

  static final java.util.Set<String> TOKENIZER_KEYS = java.util.Set.of("source", "tokens", "pad_to_multiple_of");
  static final java.util.Set<String> TOKEN_KEYS = java.util.Set.of("source", "force");
  static final java.util.Set<String> MODEL_TOKEN_KEYS = java.util.Set.of("kind", "model", "token", "token_id");

  /**
   * The output vocabulary: from the {@code tokenizer:} block (source defaults to union), or from
   * {@code tokenizer_source}; null when neither is given.
   */
  static TokenizerSpec tokenizer(Object block, String source, String base, String file) {
    if (block == null) {
      return source == null ? null : new TokenizerSpec(source, Map.of(), 0, source.equals("union"));
    }
    if (source != null) {
      throw new ConfigException(file + ": give either 'tokenizer_source:' or a 'tokenizer:' block (its 'source:'), not both");
    }
    if (!(block instanceof Map<?, ?> bm)) {
      throw new ConfigException(file + ": 'tokenizer' must be {source: union|base|PATH, tokens: {...}, pad_to_multiple_of: N}");
    }
    Map<String, Object> b = ConfigLoader.stringKeys(bm, file + ": tokenizer");
    b.keySet().forEach(k -> ConfigLoader.checkKey(k, TOKENIZER_KEYS, file, "tokenizer"));
    String src = tokenizerSource(b.get("source") == null ? "union" : String.valueOf(b.get("source")), base, file);
    int pad = 0;
    if (b.get("pad_to_multiple_of") != null) {
      if (!(b.get("pad_to_multiple_of") instanceof Integer n) || n <= 0) {
        throw new ConfigException(file + ": tokenizer.pad_to_multiple_of must be a positive integer, got " + b.get("pad_to_multiple_of"));
      }
      pad = n;
    }
    Map<String, TokenizerSpec.TokenEmbedding> tokens = new java.util.LinkedHashMap<>();
    if (b.get("tokens") != null) {
      if (!(b.get("tokens") instanceof Map<?, ?> tm)) {
        throw new ConfigException(file + ": tokenizer.tokens must map each token to {source: ..., force: true|false}");
      }
      ConfigLoader.stringKeys(tm, file + ": tokenizer.tokens").forEach((tok, v) -> tokens.put(tok, token(tok, v, file)));
    }
    return new TokenizerSpec(src, java.util.Collections.unmodifiableMap(tokens), pad, true);
  }

  private static TokenizerSpec.TokenEmbedding token(String tok, Object v, String file) {
    String where = file + ": tokenizer.tokens['" + tok + "']";
    if (v == null) {
      return new TokenizerSpec.TokenEmbedding(TokenizerSpec.Kind.DEFAULT, null, null, -1, false);
    }
    if (!(v instanceof Map<?, ?> vm)) {
      throw new ConfigException(where + " must be {source: PATH | {kind: zero} | {kind: model_token, model: PATH, token: T}, force: BOOL}");
    }
    Map<String, Object> m = ConfigLoader.stringKeys(vm, where);
    m.keySet().forEach(k -> ConfigLoader.checkKey(k, TOKEN_KEYS, file, "tokenizer.tokens[]"));
    Object f = m.getOrDefault("force", false);
    if (!(f instanceof Boolean force)) {
      throw new ConfigException(where + ".force must be true or false, got " + f);
    }
    Object s = m.get("source");
    if (s == null) {
      return new TokenizerSpec.TokenEmbedding(TokenizerSpec.Kind.DEFAULT, null, null, -1, force);
    }
    if (s instanceof String path) {
      return new TokenizerSpec.TokenEmbedding(TokenizerSpec.Kind.MODEL, path, null, -1, force);
    }
    if (!(s instanceof Map<?, ?> sm)) {
      throw new ConfigException(where + ".source must be a model path or {kind: zero | model_token, ...}, got " + s);
    }
    Map<String, Object> src = ConfigLoader.stringKeys(sm, where + ".source");
    src.keySet().forEach(k -> ConfigLoader.checkKey(k, MODEL_TOKEN_KEYS, file, "tokenizer.tokens[].source"));
    String kind = String.valueOf(src.get("kind"));
    if (kind.equals("zero")) {
      return new TokenizerSpec.TokenEmbedding(TokenizerSpec.Kind.ZERO, null, null, -1, force);
    }
    if (!kind.equals("model_token")) {
      throw new ConfigException(where + ".source.kind must be zero or model_token, got '" + kind + "'");
    }
    String model = ConfigLoader.string(src, "model", where + ".source", true);
    Object id = src.get("token_id");
    Object token = src.get("token");
    if ((id == null) == (token == null)) {
      throw new ConfigException(where + ".source: give exactly one of token_id and token");
    }
    if (id != null && !(id instanceof Integer)) {
      throw new ConfigException(where + ".source.token_id must be an integer, got " + id);
    }
    return new TokenizerSpec.TokenEmbedding(TokenizerSpec.Kind.MODEL_TOKEN, model, token == null ? null : String.valueOf(token),
        id == null ? -1 : (Integer) id, force);
  }

  /** mergekit's built-in chat templates, shipped as resources with the same text. */
  static final List<String> NAMED_TEMPLATES = List.of("alpaca", "chatml", "exaone", "llama3", "mistral");

  /** null, "auto", a Jinja template, or one of mergekit's named templates (replaced by its text). */
  static String chatTemplate(String value, String file) {
    if (value == null || value.equals("auto")) {
      return value;
    }
    if (NAMED_TEMPLATES.contains(value)) {
      return namedTemplate(value);
    }
    if (value.length() < 20 || !value.contains("{")) {
      throw new ConfigException(file + ": chat_template '" + value + "' is neither 'auto', a Jinja template nor one of the named"
          + " templates " + String.join(", ", NAMED_TEMPLATES) + Names.suggestion(value, new java.util.TreeSet<>(NAMED_TEMPLATES)));
    }
    return value;
  }

  /** The text of a named template (io/sparkmerge/chat_templates/NAME.jinja). */
  public static String namedTemplate(String name) {
    try (java.io.InputStream in = MergekitKeys.class.getResourceAsStream("/io/sparkmerge/chat_templates/" + name + ".jinja")) {
      if (in == null) {
        throw new IllegalStateException("chat template " + name + " is missing from the jar");
      }
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
