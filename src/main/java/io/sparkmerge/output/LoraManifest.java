package io.sparkmerge.output;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmerge.Version;
import io.sparkmerge.exec.LoraExtraction;
import io.sparkmerge.lora.ExtractionPlan;
import io.sparkmerge.math.LowRank;
import io.sparkmerge.plan.InputModel;
import java.util.List;
import java.util.Map;

/**
 * What {@code extract-lora} writes beside the adapter: {@code extract_lora.json} (inputs, settings, per module its
 * kind, shape, rank, algorithm and the relative error ‖τ − B·A‖_F / ‖τ‖_F of the factors as written) and the same
 * per-module figures as the table {@code lora_modules.csv}, which {@code sparkmerge report} plots.
 */
public final class LoraManifest {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  public static final String FILE = "extract_lora.json";
  public static final String TABLE = "lora_modules.csv";
  static final List<String> COLUMNS = List.of("module", "kind", "rows", "cols", "rank", "algorithm", "relative_error", "tau_norm");

  private LoraManifest() {}

  public static String json(String runId, Map<String, Object> settings, InputModel base, InputModel model, ExtractionPlan plan,
      List<LoraExtraction.ModuleResult> results, Map<String, Long> timingsMs) {
    ObjectNode root = JSON.createObjectNode();
    root.put("tool", "sparkmerge extract-lora");
    root.put("version", Version.VERSION);
    root.put("run_id", runId);
    ObjectNode s = root.putObject("settings");
    settings.forEach(s::putPOJO);
    s.put("randomized_svd_from", "min(m, n) >= " + LowRank.RANDOMIZED_MIN_DIM + " and rank + " + LowRank.OVERSAMPLE + " <= min(m, n) / "
        + LowRank.RANDOMIZED_MAX_FRACTION);
    s.put("power_iterations", LowRank.POWER_ITERATIONS);
    ArrayNode inputs = root.putArray("inputs");
    for (InputModel m : List.of(base, model)) {
      Manifest.addInput(inputs, m);
    }
    ObjectNode modules = root.putObject("modules");
    for (int i = 0; i < plan.modules().size(); i++) {
      ExtractionPlan.Module m = plan.modules().get(i);
      LoraExtraction.ModuleResult r = results.get(i);
      ObjectNode o = modules.putObject(m.name());
      o.put("kind", m.kind().name().toLowerCase(java.util.Locale.ROOT));
      ArrayNode shape = o.putArray("shape");
      for (long d : m.shape()) {
        shape.add(d);
      }
      if (m.kind() != ExtractionPlan.Kind.WHOLE) {
        o.put("rank", r.rank());
        o.put("algorithm", r.algorithm());
        o.put("relative_error", r.relativeError());
        o.put("tau_norm", r.tauNorm());
      }
      if (m.bias() != null) {
        o.put("bias", m.bias());
      }
    }
    root.putPOJO("left_out", plan.skipped());
    root.putPOJO("timings_ms", timingsMs);
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** One row per factored module. */
  public static String csv(ExtractionPlan plan, List<LoraExtraction.ModuleResult> results) {
    List<Object[]> rows = new java.util.ArrayList<>();
    for (int i = 0; i < plan.modules().size(); i++) {
      ExtractionPlan.Module m = plan.modules().get(i);
      LoraExtraction.ModuleResult r = results.get(i);
      if (m.kind() != ExtractionPlan.Kind.WHOLE) {
        rows.add(new Object[] {m.name(), m.kind().name().toLowerCase(java.util.Locale.ROOT), m.shape()[0],
            m.shape()[1], r.rank(), r.algorithm(), r.relativeError(), r.tauNorm()});
      }
    }
    return io.sparkmerge.io.Csv.write(COLUMNS, rows);
  }
}
