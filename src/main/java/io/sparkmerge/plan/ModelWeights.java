package io.sparkmerge.plan;

import io.sparkmerge.ConfigException;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.param.ParameterResolver;
import io.sparkmerge.param.ParameterValue;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;

/**
 * The per-model {@code weight} of an analysis config for one tensor (e.g. WSA scope fusion weights,
 * client sample counts), by the precedence every parameter follows ({@link ParameterResolver#lookup}):
 * the model's {@code parameters.weight}, else the config-wide {@code parameters.weight}, else 1;
 * gradients and conditions are evaluated at the tensor (methods.md §0).
 */
public final class ModelWeights {
  private ModelWeights() {}

  /** One weight per model of {@code models}. */
  public static double[] of(MergeConfig cfg, List<InputModel> models, String tensor, double position) {
    double[] w = new double[models.size()];
    for (int k = 0; k < w.length; k++) {
      Object o = ParameterResolver.lookup("weight", tensor, position, 1.0, layers(cfg, models.get(k)));
      if (!(o instanceof Number n) || !(n.doubleValue() >= 0)) {
        throw new ConfigException(models.get(k).role() + " (" + models.get(k).path() + "): weight must be a non-negative number"
            + " for " + tensor + ", got '" + o + "'");
      }
      w[k] = n.doubleValue();
    }
    return w;
  }

  /** The weight as the config writes it for this model (a number, a gradient, conditions), or null for the default 1. */
  public static ParameterValue declared(MergeConfig cfg, InputModel model) {
    return ParameterResolver.declared("weight", layers(cfg, model));
  }

  /** The model's entry parameters (none for a slices config), then the config-wide ones. */
  private static List<Map<String, ParameterValue>> layers(MergeConfig cfg, InputModel model) {
    Map<String, ParameterValue> entry = cfg.hasSlices() || model.index() < 0 ? Map.of() : cfg.models().get(model.index()).parameters();
    return List.of(entry, cfg.parameters());
  }

  /** Labels of the models for tables: the last directory name of each path ("#i" appended when two are equal). */
  public static List<String> labels(List<InputModel> models) {
    List<String> names = models.stream().map(m -> new Path(m.path()).getName()).toList();
    List<String> out = new ArrayList<>();
    for (int k = 0; k < names.size(); k++) {
      String n = names.get(k);
      out.add(Collections.frequency(names, n) > 1 || n.equals("base") ? n + "#" + models.get(k).index() : n);
    }
    return out;
  }
}
