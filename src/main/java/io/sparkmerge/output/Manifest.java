package io.sparkmerge.output;

import io.sparkmerge.exec.MergeStatistics;
import io.sparkmerge.exec.TensorResult;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmerge.Version;
import io.sparkmerge.io.SafetensorsHeader;
import io.sparkmerge.plan.InputModel;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.plan.MergePlan;
import java.util.List;
import java.util.Map;

/**
 * {@code sparkmerge.json}: what was merged, how, and what came out — enough to audit a merged model
 * and to check a rerun gave the same bytes (per-tensor SHA-256).
 */
public final class Manifest {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Manifest() {}

  public static String build(MergeConfig cfg, MergePlan plan, Map<String, TensorResult> tensors, Map<String, String> weightMap,
      Map<String, Long> timingsMs, List<String> warnings, Map<String, Object> sections) {
    ObjectNode root = JSON.createObjectNode();
    root.put("tool", "sparkmerge");
    root.put("version", Version.VERSION);
    root.put("run_id", plan.runId());
    root.put("config_yaml", cfg.rawYaml());
    ObjectNode resolved = root.putObject("resolved");
    resolved.put("merge_method", plan.method());
    String note = io.sparkmerge.method.MethodRegistry.get(plan.method()).report().note();
    if (note != null) {
      resolved.put("method_note", note);
    }
    resolved.put("base_model", plan.base() == null ? null : plan.base().path());
    resolved.put("base_in_merge", plan.baseInMerge());
    ArrayNode models = resolved.putArray("models");
    plan.models().forEach(m -> models.add(m.path()));
    ObjectNode params = resolved.putObject("parameters");
    plan.globalDefaults().asMap().forEach((k, v) -> params.putPOJO(k, v));
    resolved.put("dtype", cfg.outDtype() == null ? "same as input" : cfg.outDtype().name());
    resolved.put("compute_dtype", plan.computeDouble() ? "float64" : "float32");
    resolved.put("seed", plan.seed());
    resolved.put("out_shard_size", cfg.outShardSize());
    resolved.put("shards", plan.shards().size());
    resolved.put("allow_nonfinite", plan.allowNonfinite());
    ArrayNode inputs = root.putArray("inputs");
    if (plan.base() != null) {
      addInput(inputs, plan.base());
    }
    plan.models().forEach(m -> addInput(inputs, m));
    root.put("seed", plan.seed());
    ObjectNode ts = root.putObject("tensors");
    tensors.values().stream().sorted((a, b) -> a.name().compareTo(b.name())).forEach(r -> {
      ObjectNode t = ts.putObject(r.name());
      t.put("file", weightMap.get(r.name()));
      t.put("dtype", r.dtype().name());
      ArrayNode shape = t.putArray("shape");
      for (long d : r.shape()) {
        shape.add(d);
      }
      t.put("bytes", r.bytes());
      t.put("sha256", r.sha256());
      if (!Double.isNaN(r.min())) {
        t.put("min", r.min());
        t.put("max", r.max());
      }
      if (r.nanCount() > 0 || r.infCount() > 0) {
        t.put("nan", r.nanCount());
        t.put("inf", r.infCount());
      }
      if (r.counters() != null && !r.counters().isEmpty()) {
        Map<String, Double> counters = new java.util.TreeMap<>();
        Map<String, Double> stats = new java.util.TreeMap<>();
        r.counters().forEach((k, v) -> (k.startsWith(MergeStatistics.PREFIX) ? stats : counters)
            .put(k.substring(k.startsWith(MergeStatistics.PREFIX) ? MergeStatistics.PREFIX.length() : 0), v));
        if (!counters.isEmpty()) {
          t.putPOJO("counters", counters);
        }
        if (!stats.isEmpty()) {
          t.putPOJO("stats", stats); // MergeStatistics: the report's by-products (docs/reports.md)
        }
      }
    });
    sections.forEach((k, v) -> root.set(k, JSON.valueToTree(v)));
    ObjectNode tm = root.putObject("timings_ms");
    timingsMs.forEach(tm::put);
    ArrayNode w = root.putArray("warnings");
    warnings.forEach(w::add);
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (Exception e) {
      throw new IllegalStateException("cannot write the manifest: " + e, e);
    }
  }

  static void addInput(ArrayNode inputs, InputModel m) {
    ObjectNode in = inputs.addObject();
    in.put("role", m.role());
    in.put("path", m.path());
    in.put("bytes", m.dir().totalBytes());
    files(in.putArray("files"), m.dir().headers());
    if (m.lora() != null) {
      ObjectNode lora = in.putObject("lora_adapter");
      lora.put("path", m.lora().path());
      lora.put("modules_changed", m.lora().changes().size());
      files(lora.putArray("files"), m.lora().dir().headers());
    }
  }

  private static void files(ArrayNode files, List<SafetensorsHeader> headers) {
    for (SafetensorsHeader h : headers) {
      ObjectNode f = files.addObject();
      f.put("file", h.file());
      f.put("size", h.fileSize());
      f.put("header_sha256", h.headerSha256());
    }
  }
}
