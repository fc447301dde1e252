package io.sparkmerge.config;

import io.sparkmerge.param.ParameterValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The YAML a config built in code ({@link MergeConfig#builder}) would have been written as, for the
 * manifest and the model card: merge method, base, models with their parameters and side-input keys,
 * method-wide parameters, seed and dtypes. Not read back: the config object is the source.
 */
final class ConfigYaml {
  private ConfigYaml() {}

  static String render(MergeConfig cfg, String comment) {
    StringBuilder sb = new StringBuilder();
    if (comment != null) {
      sb.append("# ").append(comment).append('\n');
    }
    sb.append("merge_method: ").append(cfg.mergeMethod()).append('\n');
    if (cfg.baseModel() != null) {
      sb.append("base_model: ").append(cfg.baseModel()).append('\n');
    }
    if (!cfg.parameters().isEmpty()) {
      sb.append("parameters: ").append(flow(cfg.parameters())).append('\n');
    }
    sb.append("models:\n");
    for (MergeConfig.ModelEntry e : cfg.models()) {
      sb.append("  - model: ").append(e.path()).append('\n');
      if (!e.parameters().isEmpty()) {
        sb.append("    parameters: ").append(flow(e.parameters())).append('\n');
      }
      if (e.masks() != null) {
        sb.append("    masks: ").append(e.masks()).append('\n');
      }
      if (e.taskVector()) {
        sb.append("    task_vector: true\n");
      }
      if (e.importance() != null) {
        sb.append("    importance: ").append(e.importance()).append('\n');
      }
      if (e.activations() != null) {
        sb.append("    activations: ").append(e.activations()).append('\n');
      }
    }
    if (cfg.seed() != 0) {
      sb.append("seed: ").append(cfg.seed()).append('\n');
    }
    if (cfg.computeDouble()) {
      sb.append("compute_dtype: float64\n");
    }
    if (cfg.outDtype() != null) {
      sb.append("out_dtype: ").append(cfg.outDtype().name()).append('\n');
    }
    return sb.toString();
  }

  /** {@code {a: 1.0, b: false}} */
  private static String flow(Map<String, ParameterValue> params) {
    List<String> kv = new ArrayList<>();
    params.forEach((k, v) -> kv.add(k + ": " + v));
    return "{" + String.join(", ", kv) + "}";
  }
}
