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
    // a fence longer than any run of backticks in the YAML, so the YAML cannot close it (CommonMark)
    String fence = "`".repeat(Math.max(3, longestRun(cfg.rawYaml(), '`') + 1));
    sb.append("\n## Configuration\n\n").append(fence).append("yaml\n").append(cfg.rawYaml().strip()).append("\n")
        .append(fence).append("\n\n");
    sb.append("Seed ").append(plan.seed()).append(", compute dtype ").append(plan.computeDouble() ? "float64" : "float32")
        .append(". Per-tensor SHA-256 digests and timings are in `sparkmerge.json`.\n");
    return sb.toString();
  }

  static int longestRun(String s, char c) {
    int best = 0;
    int run = 0;
    for (int i = 0; i < s.length(); i++) {
      run = s.charAt(i) == c ? run + 1 : 0;
      best = Math.max(best, run);
    }
    return best;
  }
}
