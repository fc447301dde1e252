package io.sparkmerge.config;

import io.sparkmerge.ConfigException;
import io.sparkmerge.Messages;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The bounds a config must keep before anything else reads it: its size, how far its YAML aliases expand
 * (an alias bomb stays under SnakeYAML's alias limit but expands to millions of values), and the rules of
 * {@code copy:} entries, all checked on the driver before any work.
 */
final class ConfigLimits {
  /** The largest config accepted: real configs are a few KB (a pasted chat template included). */
  static final int MAX_CONFIG_CHARS = 1 << 20;
  /** The most values a config may hold with its aliases expanded (a YAML alias bomb stays below SnakeYAML's alias limit). */
  static final int MAX_VALUES = 100_000;
  /** Names of the files an output holds itself, which 'copy:' may not shadow. */
  static final Set<String> OUTPUT_OWNED = Set.of("README.md", "sparkmerge.json", "_SUCCESS", "model.safetensors.index.json");
  /** Weight files: copied beside the merged shards, a loader would read them instead of the merge. */
  private static final Pattern WEIGHTS = Pattern.compile(
      "(?i).*\\.(safetensors|bin|pt|pth|ckpt|h5|msgpack|gguf|ggml|onnx|pb|npz|pkl|pickle)(\\.index\\.json)?$");

  private ConfigLimits() {}

  /**
   * One {@code copy:} entry, checked before any work: a plain file name of the model directory (no path,
   * no ':' which Hadoop would read as a URI scheme), not a weight file (a loader would read it instead of
   * the merged shards), not a name the output writes itself, and not listed twice.
   */
  static String copyEntry(Object o, List<String> earlier, String file) {
    String name = String.valueOf(o);
    String where = file + ": copy entry '" + Messages.brief(name) + "'";
    if (!(o instanceof String) || name.isEmpty() || name.contains("/") || name.contains("\\") || name.equals("..")
        || name.equals(".") || name.contains(":") || !name.equals(Messages.printable(name))) {
      throw new ConfigException(where + " must be a plain file name inside the model directory (no '/', '\\', ':' or control characters)");
    }
    if (WEIGHTS.matcher(name).matches() || name.matches("(?i)model-\\d+-of-\\d+.*")) {
      throw new ConfigException(where + " is a weights file: copied beside the merged shards, loaders would read it instead of the"
          + " merge; list only config and tokenizer files");
    }
    if (OUTPUT_OWNED.contains(name)) {
      throw new ConfigException(where + " is a file sparkmerge writes into the output itself; remove it from 'copy:'");
    }
    if (earlier.contains(name)) {
      throw new ConfigException(where + " is listed twice; list each file once");
    }
    return name;
  }

  /** Counts the config's values with aliases expanded; fails beyond {@link #MAX_VALUES}. */
  static void countValues(Object o, int[] count, String file, int depth) {
    if (++count[0] > MAX_VALUES || depth > 64) {
      throw new ConfigException(file + ": the config expands to more than " + MAX_VALUES + " values (YAML aliases referring to"
          + " aliases?); write the values out");
    }
    if (o instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        countValues(e.getKey(), count, file, depth + 1);
        countValues(e.getValue(), count, file, depth + 1);
      }
    } else if (o instanceof List<?> l) {
      for (Object v : l) {
        countValues(v, count, file, depth + 1);
      }
    }
  }
}
