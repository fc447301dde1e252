package io.sparkmerge.job;

import io.sparkmerge.exec.LoraExtraction;
import io.sparkmerge.io.SafetensorsHeader;
import io.sparkmerge.io.SafetensorsWriter;
import io.sparkmerge.io.Storage;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.io.TensorReader;
import io.sparkmerge.lora.AdapterConfig;
import io.sparkmerge.lora.ExtractionPlan;
import io.sparkmerge.output.LoraManifest;
import io.sparkmerge.output.OutputLifecycle;
import io.sparkmerge.output.OverlapRule;
import io.sparkmerge.plan.InputModel;
import io.sparkmerge.plan.Planner;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * {@code sparkmerge extract-lora}: a PEFT LoRA adapter whose B·A approximates τ = MODEL − BASE, module by module
 * (mergekit-extract-lora). The driver decides each module's fate from headers ({@link ExtractionPlan}); one Spark
 * task per module factors it ({@link LoraExtraction}) into a part file of the staging directory; the driver joins
 * the parts into {@code adapter_model.safetensors} (keys sorted), writes {@code adapter_config.json}, the manifest
 * {@code extract_lora.json} and the table {@code lora_modules.csv}, and publishes them with {@code _SUCCESS} through the output lifecycle (docs/reliability.md): nothing reaches OUT
 * until every part is written.
 */
public final class ExtractLoraJob {
  private ExtractLoraJob() {}

  /** @param modules a regex searched in module names (null: all) */
  public record Options(String base, String model, String out, int rank, String modules, boolean distribute, boolean embedLora,
      long seed, boolean overwrite, PrintStream console) {}

  /** Module results in plan order, and the adapter's size. */
  public record Outcome(ExtractionPlan plan, List<LoraExtraction.ModuleResult> results, long adapterBytes) {}

  public static final String ADAPTER_FILE = "adapter_model.safetensors";

  public static Outcome run(SparkSession spark, Options o) throws IOException {
    Configuration conf = Storage.apply(spark.sparkContext().hadoopConfiguration());
    OutputLifecycle output = OutputLifecycle.directory(conf, o.out(), o.overwrite(), inputs(o), OutputLifecycle.Settings.of(spark.conf()));
    Planner planner = new Planner(conf);
    InputModel base = planner.input(o.base(), "--base", true);
    InputModel model = planner.input(o.model(), "--model", false);
    ExtractionPlan plan = ExtractionPlan.of(base.dir(), model.dir(), o.modules(), o.embedLora());
    String runId = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").format(java.time.LocalDateTime.now())
        + "-" + UUID.randomUUID().toString().substring(0, 8);
    StageRunner runner = new StageRunner(spark, runId, o.console());
    Outcome outcome = output.run(runId, runner::cancelAll, staging -> {
      long t0 = System.nanoTime();
      List<LoraExtraction.ModuleResult> results = factor(runner, base, model, plan, o, staging.scratch().toString());
      long factorMs = (System.nanoTime() - t0) / 1_000_000;
      long bytes = join(staging.fs(), new Path(staging.dir(), ADAPTER_FILE), results);
      Map<String, Integer> ranks = new LinkedHashMap<>();
      List<String> targets = new ArrayList<>();
      List<String> saved = new ArrayList<>();
      boolean bias = false;
      for (int i = 0; i < plan.modules().size(); i++) {
        ExtractionPlan.Module m = plan.modules().get(i);
        List<String> into = m.kind() == ExtractionPlan.Kind.WHOLE ? saved : targets;
        if (!into.contains(m.key())) {
          into.add(m.key());
        }
        if (m.kind() != ExtractionPlan.Kind.WHOLE) {
          ranks.put(m.name(), results.get(i).rank());
          bias |= m.bias() != null;
        }
      }
      staging.writeStaged(AdapterConfig.FILE, AdapterConfig.write(o.base(), ranks, targets, saved, bias));
      staging.writeStaged(LoraManifest.FILE, LoraManifest.json(runId, settings(o), base, model, plan, results,
          Map.of("factor", factorMs)));
      staging.writeStaged(LoraManifest.TABLE, LoraManifest.csv(plan, results));
      return new Outcome(plan, results, bytes);
    });
    double worst = outcome.results().stream().mapToDouble(LoraExtraction.ModuleResult::relativeError)
        .filter(e -> !Double.isNaN(e)).max().orElse(0);
    long factored = plan.modules().stream().filter(m -> m.kind() != ExtractionPlan.Kind.WHOLE).map(ExtractionPlan.Module::name)
        .distinct().count();
    o.console().printf(Locale.ROOT, "LoRA adapter written to %s: %d modules factored (rank ≤ %d), %d stored whole, %d bytes;"
        + " worst relative error ‖τ − B·A‖/‖τ‖ %.4g (per module: %s)%n", output.out(), factored, o.rank(),
        plan.modules().size() - factored, outcome.adapterBytes(), worst, LoraManifest.TABLE);
    return outcome;
  }

  /** What extract-lora reads, for the overlap rule: --base and --model, each with its adapter when given as MODEL+ADAPTER. */
  public static List<OverlapRule.Input> inputs(Options o) {
    List<OverlapRule.Input> in = new ArrayList<>();
    OverlapRule.addModel(in, "--base", o.base());
    OverlapRule.addModel(in, "--model", o.model());
    return in;
  }

  private static Map<String, Object> settings(Options o) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("rank", o.rank());
    s.put("modules", o.modules());
    s.put("distribute_scale", o.distribute());
    s.put("embed_lora", o.embedLora());
    s.put("seed", o.seed());
    return s;
  }

  /** One Spark task per module (part files in {@code scratch}), results in plan order. */
  private static List<LoraExtraction.ModuleResult> factor(StageRunner runner, InputModel base, InputModel model, ExtractionPlan plan,
      Options o, String scratch) {
    int n = plan.modules().size();
    Broadcast<ExtractionPlan> planB = runner.broadcast(plan);
    LoraExtraction.Options eo = new LoraExtraction.Options(o.rank(), o.distribute(), o.seed());
    List<Integer> indices = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      indices.add(i);
    }
    long[] bytes = new long[n]; // what each task reads: the module's weight in the base and the model
    for (int i = 0; i < n; i++) {
      String w = plan.modules().get(i).weight();
      bytes[i] = base.dir().tensors().get(w).byteLength() + model.dir().tensors().get(w).byteLength();
    }
    List<LoraExtraction.ModuleResult> out = runner.run("extract-lora",
        String.format(Locale.ROOT, "sparkmerge extract-lora: %d modules, rank %d", n, o.rank()), indices, n,
        StageRunner.Progress.perItem(bytes), (it, task) -> {
          List<LoraExtraction.ModuleResult> r = new ArrayList<>();
          while (it.hasNext()) {
            int i = it.next();
            r.add(LoraExtraction.run(base, model, planB.value().modules().get(i), i, eo, scratch, task.attempt(), task.conf()));
          }
          return r;
        });
    out.sort((a, b) -> Integer.compare(a.index(), b.index()));
    return out;
  }

  /** Copies every part's tensors into one file, keys sorted; returns its size. */
  static long join(FileSystem fs, Path file, List<LoraExtraction.ModuleResult> results) throws IOException {
    TreeMap<String, TensorInfo> tensors = new TreeMap<>();
    Map<String, Path> partOf = new LinkedHashMap<>();
    for (LoraExtraction.ModuleResult r : results) {
      Path part = new Path(r.file());
      SafetensorsHeader h = SafetensorsHeader.read(fs, part);
      h.tensors().forEach((k, t) -> {
        tensors.put(k, t);
        partOf.put(k, part);
      });
    }
    List<SafetensorsWriter.TensorSpec> specs = new ArrayList<>();
    tensors.values().forEach(t -> specs.add(new SafetensorsWriter.TensorSpec(t.name(), t.dtype(), t.shape())));
    try (SafetensorsWriter w = new SafetensorsWriter(fs, file, specs, Map.of("format", "pt"))) {
      for (TensorInfo t : tensors.values()) {
        byte[] b = new byte[Math.toIntExact(t.byteLength())];
        try (TensorReader r = new TensorReader(fs, partOf.get(t.name()))) {
          r.readFully(t.fileOffset(), b, 0, b.length);
        }
        w.write(ByteBuffer.wrap(b));
      }
      return w.fileSize();
    } finally {
      for (LoraExtraction.ModuleResult r : results) {
        fs.delete(new Path(r.file()), false);
      }
    }
  }
}
