package io.sparkmerge.testing;

import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.config.MergeConfig;
import java.util.List;
import java.util.Locale;

/** Merge configs as the tests write them: YAML with BASE, FT1, FT2, … standing for a generated family's models. */
public final class Configs {
  private Configs() {}

  /** The YAML with BASE replaced by {@code dirs[0]} and FTi by {@code dirs[i]}. */
  public static String withPaths(String yaml, List<?> dirs) {
    String y = yaml;
    for (int i = dirs.size() - 1; i >= 1; i--) {
      y = y.replace("FT" + i, dirs.get(i).toString());
    }
    return y.replace("BASE", dirs.get(0).toString());
  }

  /** The config, parsed, with the family's paths put in. */
  public static MergeConfig parse(String yaml, List<?> dirs) {
    return ConfigLoader.parse(withPaths(yaml, dirs), "test.yml");
  }

  /** {@code method} over BASE of FT1 and FT2 with these weights and densities, and a seed. */
  public static String twoFineTunes(String method, double w1, double d1, double w2, double d2, long seed) {
    return String.format(Locale.ROOT, """
        merge_method: %s
        base_model: BASE
        models:
          - model: FT1
            parameters: {weight: %s, density: %s}
          - model: FT2
            parameters: {weight: %s, density: %s}
        seed: %d
        """, method, w1, d1, w2, d2, seed);
  }
}
