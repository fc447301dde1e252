package io.sparkmerge.plan;

import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.ConfigException;
import io.sparkmerge.param.ParameterValue;
import java.util.List;

/**
 * The per-model {@code weight} of an analysis config for one tensor (e.g. WSA scope fusion weights,
 * client sample counts): the model's {@code parameters.weight}, else the config-wide
 * {@code parameters.weight}, else 1; gradients and conditions are evaluated at the tensor (methods.md §0).
 */
public final class ModelWeights {
  private ModelWeights() {}

  /** One weight per model of {@code models} (which carry their config index in their role, "models[i]"). */
  public static double[] of(MergeConfig cfg, List<InputModel> models, String tensor, double position) {
    double[] w = new double[models.size()];
    for (int k = 0; k < w.length; k++) {
      int i = configIndex(models.get(k));
      ParameterValue v = cfg.models().get(i).parameters().get("weight");
      if (v == null) {
        v = cfg.parameters().get("weight");
      }
      Object o = v == null ? 1.0 : v.evaluate(tensor, position);
      if (!(o instanceof Number n) || !(n.doubleValue() >= 0)) {
        throw new ConfigException("models[" + i + "] (" + models.get(k).path() + "): weight must be a non-negative number for "
            + tensor + ", got '" + o + "'");
      }
      w[k] = n.doubleValue();
    }
    return w;
  }

  /** The index under models: of a model opened from a config (its role is "models[i]"). */
  public static int configIndex(InputModel m) {
    String r = m.role();
    return Integer.parseInt(r.substring(r.indexOf('[') + 1, r.indexOf(']')));
  }

  /** Labels of the models for tables: the last directory name of each path ("#i" appended when two are equal). */
  public static List<String> labels(List<InputModel> models) {
    List<String> names = models.stream().map(m -> new org.apache.hadoop.fs.Path(m.path()).getName()).toList();
    java.util.List<String> out = new java.util.ArrayList<>();
    for (int k = 0; k < names.size(); k++) {
      String n = names.get(k);
      out.add(java.util.Collections.frequency(names, n) > 1 || n.equals("base") ? n + "#" + configIndex(models.get(k)) : n);
    }
    return out;
  }
}
