package io.sparkmerge.output;

import io.sparkmerge.Version;
import io.sparkmerge.plan.InputModel;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.plan.MergePlan;

/** The README.md model card written with every merged model: the method, the models and the exact YAML. */
public final class ModelCard {
  private ModelCard() {}

  public static String build(MergeConfig cfg, MergePlan plan) {
    StringBuilder sb = new StringBuilder();
    sb.append("---\ntags:\n- merge\n- sparkmerge\n---\n\n");
    sb.append("# Merged model\n\n");
    sb.append("This model was merged with [sparkmerge](https://github.com/sparkmerge) ").append(Version.VERSION)
        .append(" using the **").append(plan.method()).append("** merge method.\n\n");
    sb.append("## Models\n\n");
    if (plan.base() != null) {
      sb.append("- base: `").append(plan.base().path()).append("`").append(plan.baseInMerge() ? "" : " (not used by the method)")
          .append("\n");
    }
    for (InputModel m : plan.models()) {
      sb.append("- `").append(m.path()).append("`\n");
    }
    sb.append("\n## Configuration\n\n```yaml\n").append(cfg.rawYaml().strip()).append("\n```\n\n");
    sb.append("Seed ").append(plan.seed()).append(", compute dtype ").append(plan.computeDouble() ? "float64" : "float32")
        .append(". Per-tensor SHA-256 digests and timings are in `sparkmerge.json`.\n");
    return sb.toString();
  }
}
