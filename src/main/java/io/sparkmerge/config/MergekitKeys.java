package io.sparkmerge.config;

import io.sparkmerge.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The mergekit keys beyond {@code models:}: {@code slices} with {@code sources} and
 * {@code layer_range}, {@code tokenizer_source} and {@code chat_template} (docs/mergekit.md).
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

  /** null, "base" or a model path; "union" and other vocabulary merges are refused. */
  static String tokenizerSource(String value, String base, String file) {
    if (value == null) {
      return null;
    }
    String v = value.trim();
    if (v.toLowerCase(Locale.ROOT).equals("union")) {
      throw new ConfigException(file + ": tokenizer_source '" + v + "' needs vocabulary surgery (merged vocabularies, "
          + "permuted embeddings), which sparkmerge does not support; use 'tokenizer_source: base' or a model path "
          + "to copy that model's tokenizer files unchanged");
    }
    if (v.equals("base") && base == null) {
      throw new ConfigException(file + ": tokenizer_source 'base' needs 'base_model:'; give a model path instead");
    }
    return v;
  }

  /** null, "auto" or a Jinja template; mergekit's built-in template names are refused with the fix. */
  static String chatTemplate(String value, String file) {
    if (value == null || value.equals("auto")) {
      return value;
    }
    if (value.length() < 20 || !value.contains("{")) {
      throw new ConfigException(file + ": chat_template '" + value + "' is neither 'auto' nor a Jinja template; sparkmerge "
          + "does not ship mergekit's named templates (chatml, llama3, ...): paste the template text");
    }
    return value;
  }
}
