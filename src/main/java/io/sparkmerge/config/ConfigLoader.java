package io.sparkmerge.config;

import io.sparkmerge.ConfigException;
import io.sparkmerge.Messages;
import io.sparkmerge.param.NameFilter;
import io.sparkmerge.io.DType;
import io.sparkmerge.method.SideInput;
import io.sparkmerge.param.Names;
import io.sparkmerge.param.ParameterValue;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads a merge config (DESIGN.md §4): mergekit's schema where they overlap, plus sparkmerge's keys.
 * Unknown keys are errors that suggest the nearest valid key; nothing is silently ignored.
 */
public final class ConfigLoader {
  static final Set<String> TOP_KEYS = Set.of("merge_method", "base_model", "models", "parameters", "dtype", "out_dtype",
      "compute_dtype", "seed", "tensors", "out_shard_size", "copy", "allow_nonfinite", "slices", "tokenizer_source",
      "tokenizer", "chat_template");
  /** mergekit keys we know but do not support: a clear error rather than "unknown key". */
  static final Map<String, String> NOT_YET = Map.of(
      "modules", "'modules:' (per-module slices of multimodal models) is not supported; use top-level 'slices:'");
  /** An entry's keys: the model, its parameters, and the keys of the side inputs a method may read ({@link SideInput.Kind}). */
  static final Set<String> MODEL_KEYS = modelKeys();
  static final Set<String> TENSOR_KEYS = Set.of("filter", "merge_method", "parameters");

  private ConfigLoader() {}

  private static Set<String> modelKeys() {
    Set<String> keys = new java.util.HashSet<>(Set.of("model", "parameters"));
    for (SideInput.Kind k : SideInput.Kind.values()) {
      keys.addAll(k.entryKeys());
    }
    return Set.copyOf(keys);
  }

  public static MergeConfig parse(String yamlText, String file) {
    try {
      return parseChecked(yamlText, file);
    } catch (io.sparkmerge.SparkmergeException e) {
      throw e;
    } catch (RuntimeException | StackOverflowError e) {
      // SnakeYAML's constructors (e.g. a malformed !!binary value) and odd values must end as a config error, not a crash
      throw new ConfigException(file + ": cannot read the config: " + Messages.brief(e.getMessage() == null ? e.toString()
          : e.getMessage()));
    }
  }

  private static MergeConfig parseChecked(String yamlText, String file) {
    Map<String, Object> m = topLevel(yamlText, file);
    String method = string(m, "merge_method", file, true);
    String base = string(m, "base_model", file, false);
    Object modelsObj = m.get("models");
    List<MergeConfig.SliceEntry> slices = m.get("slices") == null ? List.of() : MergekitKeys.slices(m.get("slices"), file);
    if (!slices.isEmpty() && modelsObj != null) {
      throw new ConfigException(file + ": give either 'models:' (whole models) or 'slices:' (layer ranges), not both");
    }
    if (slices.isEmpty() && (!(modelsObj instanceof List<?> ml) || ml.isEmpty())) {
      throw new ConfigException(file + ": 'models' must be a non-empty list of {model: PATH, parameters: {...}} "
          + "(or give mergekit 'slices:')");
    }
    MergeConfig.Builder cfg = MergeConfig.builder(method).baseModel(base).text(yamlText, null);
    models(modelsObj == null ? List.of() : (List<?>) modelsObj, file).forEach(cfg::model);
    tensors(m.get("tensors"), file).forEach(cfg::tensor);
    // mergekit: 'dtype' is the dtype it computes in and, without 'out_dtype', the output dtype.
    DType out = dtype(m, m.containsKey("out_dtype") ? "out_dtype" : "dtype", file);
    Compute compute = compute(m, file);
    long seed = 0;
    if (m.get("seed") != null) {
      Object sv = m.get("seed");
      if (!(sv instanceof Integer || sv instanceof Long || (sv instanceof java.math.BigInteger b && b.bitLength() < 64))) {
        throw new ConfigException(file + ": seed must be an integer from " + Long.MIN_VALUE + " to " + Long.MAX_VALUE + ", got '"
            + Messages.brief(sv) + "'");
      }
      seed = ((Number) sv).longValue();
    }
    long shardSize = m.get("out_shard_size") == null ? MergeConfig.DEFAULT_OUT_SHARD_SIZE
        : parseSize(String.valueOf(m.get("out_shard_size")), file + ": out_shard_size");
    List<String> copy = m.get("copy") == null ? MergeConfig.DEFAULT_COPY : copy(m.get("copy"), file);
    if (m.get("allow_nonfinite") != null && !(m.get("allow_nonfinite") instanceof Boolean)) {
      throw new ConfigException(file + ": allow_nonfinite must be true or false");
    }
    cfg.output(out, shardSize, copy).compute(compute.inDouble(), compute.input(), compute.mergekitDtype(), seed,
        Boolean.TRUE.equals(m.get("allow_nonfinite"))).parameters(params(m.get("parameters"), file + ": parameters"));
    String tokenizerSource = MergekitKeys.tokenizerSource(string(m, "tokenizer_source", file, false), base, file);
    TokenizerSpec tokenizer = MergekitKeys.tokenizer(m.get("tokenizer"), tokenizerSource, base, file);
    if (tokenizer != null && tokenizer.explicit() && !slices.isEmpty()) {
      throw new ConfigException(file + ": vocabulary surgery (tokenizer_source: union, or a tokenizer: block) works on whole"
          + " models listed under 'models:', not on 'slices:'");
    }
    return cfg.mergekit(slices, tokenizer == null || tokenizer.union() ? null : tokenizer.source(),
        MergekitKeys.chatTemplate(string(m, "chat_template", file, false), file), tokenizer).build();
  }

  /** The document's top-level mapping, every key known. */
  private static Map<String, Object> topLevel(String yamlText, String file) {
    Object doc;
    if (yamlText.length() > ConfigLimits.MAX_CONFIG_CHARS) {
      throw new ConfigException(file + ": the config is " + yamlText.length() + " characters, more than the limit of "
          + ConfigLimits.MAX_CONFIG_CHARS + "; a merge config is a few KB");
    }
    try {
      LoaderOptions lo = new LoaderOptions();
      lo.setAllowDuplicateKeys(false);
      lo.setMaxAliasesForCollections(50);
      lo.setNestingDepthLimit(32);
      lo.setCodePointLimit(ConfigLimits.MAX_CONFIG_CHARS);
      doc = new Yaml(new SafeConstructor(lo)).load(yamlText);
    } catch (YAMLException e) {
      throw new ConfigException(file + ": not valid YAML: " + Messages.cut(String.valueOf(e.getMessage()).replace('\n', ' '), 300));
    } catch (StackOverflowError e) {
      throw new ConfigException(file + ": not valid YAML: nested too deeply");
    }
    ConfigLimits.countValues(doc, new int[1], file, 0);
    if (!(doc instanceof Map<?, ?> top)) {
      throw new ConfigException(file + ": the config must be a YAML mapping with at least merge_method and models");
    }
    Map<String, Object> m = stringKeys(top, file);
    for (String k : m.keySet()) {
      if (NOT_YET.containsKey(k)) {
        throw new ConfigException(file + ": " + NOT_YET.get(k));
      }
      checkKey(k, TOP_KEYS, file, "top level");
    }
    return m;
  }

  private static List<MergeConfig.ModelEntry> models(List<?> modelList, String file) {
    List<MergeConfig.ModelEntry> models = new ArrayList<>();
    for (int i = 0; i < modelList.size(); i++) {
      String where = file + ": models[" + i + "]";
      Object e = modelList.get(i);
      if (e instanceof String s) {
        models.add(new MergeConfig.ModelEntry(s, Map.of()));
        continue;
      }
      if (!(e instanceof Map<?, ?> em)) {
        throw new ConfigException(where + " must be {model: PATH, parameters: {...}}");
      }
      Map<String, Object> entry = stringKeys(em, where);
      entry.keySet().forEach(k -> checkKey(k, MODEL_KEYS, file, "models[]"));
      String path = string(entry, "model", where, true);
      Object tv = entry.get("task_vector");
      if (tv != null && !(tv instanceof Boolean)) {
        throw new ConfigException(where + ": task_vector must be true or false, got '" + tv + "'");
      }
      models.add(new MergeConfig.ModelEntry(path, params(entry.get("parameters"), where + " (" + path + ").parameters"),
          string(entry, "masks", where, false), string(entry, "importance", where, false),
          string(entry, "activations", where, false), Boolean.TRUE.equals(tv)));
    }
    return models;
  }

  private static List<MergeConfig.TensorOverride> tensors(Object yaml, String file) {
    List<MergeConfig.TensorOverride> tensors = new ArrayList<>();
    if (yaml == null) {
      return tensors;
    }
    if (!(yaml instanceof List<?> tl)) {
      throw new ConfigException(file + ": 'tensors' must be a list of {filter: ..., merge_method: ..., parameters: {...}}");
    }
    for (int i = 0; i < tl.size(); i++) {
      String where = file + ": tensors[" + i + "]";
      if (!(tl.get(i) instanceof Map<?, ?> tm)) {
        throw new ConfigException(where + " must be {filter: ..., merge_method: ..., parameters: {...}}");
      }
      Map<String, Object> entry = stringKeys(tm, where);
      entry.keySet().forEach(k -> checkKey(k, TENSOR_KEYS, file, "tensors[]"));
      String filter = string(entry, "filter", where, true);
      NameFilter.check(filter, where + ".filter");
      tensors.add(new MergeConfig.TensorOverride(filter, string(entry, "merge_method", where, false),
          params(entry.get("parameters"), where + ".parameters")));
    }
    return tensors;
  }

  /** How the merge computes: {@code compute_dtype}, and mergekit's {@code dtype} (its compute dtype). */
  private record Compute(boolean inDouble, boolean input, DType mergekitDtype) {}

  /**
   * {@code compute_dtype: float32 | float64 | input}; without it float64 only when mergekit's {@code dtype}
   * (its compute dtype when {@code out_dtype} is given) is float64.
   */
  private static Compute compute(Map<String, Object> m, String file) {
    DType mergekitDtype = dtype(m, "dtype", file);
    String compute = string(m, "compute_dtype", file, false);
    if (compute == null) {
      return new Compute(m.containsKey("out_dtype") && mergekitDtype == DType.F64, false, mergekitDtype);
    }
    DType c = DType.fromConfigName(compute);
    boolean input = compute.equals("input");
    if (c != DType.F32 && c != DType.F64 && !input) {
      throw new ConfigException(file + ": compute_dtype '" + compute + "' must be float32, float64 or input (mergekit's"
          + " arithmetic: each operation rounded to the inputs' dtype, or to 'dtype:')");
    }
    return new Compute(c == DType.F64, input, mergekitDtype);
  }

  private static List<String> copy(Object yaml, String file) {
    if (!(yaml instanceof List<?> cl)) {
      throw new ConfigException(file + ": 'copy' must be a list of file names");
    }
    List<String> copy = new ArrayList<>();
    for (Object o : cl) {
      copy.add(ConfigLimits.copyEntry(o, copy, file));
    }
    return copy;
  }

  private static DType dtype(Map<String, Object> m, String key, String file) {
    String name = string(m, key, file, false);
    if (name == null) {
      return null;
    }
    DType d = DType.fromConfigName(name);
    if (d == null) {
      throw new ConfigException(file + ": " + key + " '" + name + "' is not one of bfloat16, float16, float32, float64");
    }
    return d;
  }

  /** "5GB", "500MB", "1.5GiB", "1024" (bytes); decimal units are powers of 1000, binary (KiB, MiB, GiB) of 1024. */
  public static long parseSize(String s, String where) {
    Matcher mt = Pattern.compile("\\s*([0-9]+(?:\\.[0-9]+)?)\\s*([KMGT]i?B|B)?\\s*", Pattern.CASE_INSENSITIVE).matcher(s);
    if (!mt.matches()) {
      throw new ConfigException(where + " '" + s + "' is not a size like 5GB, 500MB or 2GiB");
    }
    double v = Double.parseDouble(mt.group(1));
    String unit = mt.group(2) == null ? "B" : mt.group(2).toUpperCase(Locale.ROOT);
    double mult = switch (unit) {
      case "KB" -> 1e3; case "MB" -> 1e6; case "GB" -> 1e9; case "TB" -> 1e12;
      case "KIB" -> 1024.0; case "MIB" -> 1024.0 * 1024; case "GIB" -> 1024.0 * 1024 * 1024; case "TIB" -> 1024.0 * 1024 * 1024 * 1024;
      default -> 1;
    };
    long bytes = (long) (v * mult);
    if (bytes <= 0) {
      throw new ConfigException(where + " must be positive, got '" + s + "'");
    }
    return bytes;
  }

  static Map<String, ParameterValue> params(Object o, String where) {
    if (o == null) {
      return Map.of();
    }
    if (!(o instanceof Map<?, ?> pm)) {
      throw new ConfigException(where + " must be a mapping of parameter names to values");
    }
    Map<String, ParameterValue> out = new LinkedHashMap<>();
    stringKeys(pm, where).forEach((k, v) -> out.put(k, ParameterValue.parse(v, where + "." + k)));
    return out;
  }

  static void checkKey(String k, Set<String> valid, String file, String section) {
    if (!valid.contains(k)) {
      throw new ConfigException(file + ": unknown key '" + k + "' at " + section + Names.suggestion(k, valid)
          + "; valid keys: " + String.join(", ", new java.util.TreeSet<>(valid)));
    }
  }

  static Map<String, Object> stringKeys(Map<?, ?> map, String where) {
    Map<String, Object> out = new LinkedHashMap<>();
    map.forEach((k, v) -> {
      if (!(k instanceof String s)) {
        throw new ConfigException(where + ": key '" + k + "' must be a string");
      }
      out.put(s, v);
    });
    return out;
  }

  static String string(Map<String, Object> m, String key, String where, boolean required) {
    Object v = m.get(key);
    if (v == null) {
      if (required) {
        throw new ConfigException(where + ": '" + key + "' is required");
      }
      return null;
    }
    if (!(v instanceof String) && !(v instanceof Number)) {
      throw new ConfigException(where + ": '" + key + "' must be a string, got " + Messages.brief(v));
    }
    return v.toString();
  }
}
