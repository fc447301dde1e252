package io.sparkmerge.job;

import io.sparkmerge.exec.FaultInjection;
import io.sparkmerge.exec.ShardResult;
import io.sparkmerge.exec.ShardTask;
import io.sparkmerge.exec.TensorResult;
import io.sparkmerge.output.Manifest;
import io.sparkmerge.output.MethodSummary;
import io.sparkmerge.output.ModelCard;
import io.sparkmerge.output.ModelFiles;
import io.sparkmerge.output.OutputFiles;
import io.sparkmerge.output.OutputLifecycle;
import io.sparkmerge.output.OverlapRule;
import io.sparkmerge.output.Staging;
import io.sparkmerge.output.ShardReuse;
import io.sparkmerge.io.HfIndex;
import io.sparkmerge.plan.InputModel;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.plan.Planner;
import io.sparkmerge.plan.ShardPlan;
import io.sparkmerge.plan.TensorTask;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * The merge job: plan on the driver, one Spark task per output shard, commit on the driver
 * (DESIGN.md §2). Knows nothing of any method's math.
 */
public final class MergeJob {

  /**
   * @param out the output directory (any Hadoop FileSystem URI)
   * @param overwrite replace an existing, non-empty OUT
   * @param partitions at least this many output shards (tasks), when there are enough tensors; 0 for
   *     Spark's default parallelism
   * @param resume reuse the verified shards of an earlier run of the same plan left in OUT's staging,
   *     and keep this run's finished shards if it fails (see {@link ShardReuse})
   */
  public record Options(String out, boolean overwrite, int partitions, PrintStream console, boolean resume) {
    public Options(String out, boolean overwrite, int partitions, PrintStream console) {
      this(out, overwrite, partitions, console, false);
    }
  }

  /** What a finished merge produced. */
  public record Outcome(MergePlan plan, String out, long bytesWritten, Map<String, Long> timingsMs, List<String> warnings) {}

  private MergeJob() {}

  /** Plans a merge from headers alone (also what --dry-run prints). */
  public static MergePlan plan(Configuration conf, MergeConfig cfg, int partitions) {
    return new Planner(conf).plan(cfg, partitions, newRunId());
  }

  /** A run id: the start time and a random suffix. */
  static String newRunId() {
    return java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").format(java.time.LocalDateTime.now())
        + "-" + java.util.UUID.randomUUID().toString().substring(0, 8);
  }

  public static Outcome run(SparkSession spark, MergeConfig cfg, Options opts) throws IOException {
    return run(spark, cfg, opts, Map.of());
  }

  /**
   * A merge whose manifest carries extra top-level sections (e.g. the checkpoint-series merge's
   * checkpoints, steps, weights and schedule); values are plain maps, lists, strings and numbers.
   */
  public static Outcome run(SparkSession spark, MergeConfig cfg, Options opts, Map<String, Object> manifestSections)
      throws IOException {
    Map<String, Long> timings = new LinkedHashMap<>();
    long t0 = System.currentTimeMillis();
    Configuration conf = io.sparkmerge.io.Storage.apply(spark.sparkContext().hadoopConfiguration());
    // Fail on an existing OUT, or one that overlaps an input, before reading anything (exit 4, exit 2).
    OutputLifecycle output = OutputLifecycle.directory(conf, opts.out(), opts.overwrite(), OverlapRule.inputsOf(cfg),
        OutputLifecycle.Settings.of(spark.conf()));
    int partitions = opts.partitions() > 0 ? opts.partitions() : spark.sparkContext().defaultParallelism();
    MergePlan planned = plan(conf, cfg, partitions);
    opts.console().println(describe(planned));
    // side inputs that need the data (importances, whole-model thresholds) are resolved before the merge
    SideInputPasses.Resolved sides = SideInputPasses.resolve(spark, planned, partitions, opts.console());
    MergePlan plan = sides.plan();
    timings.put("plan", System.currentTimeMillis() - t0);

    String fingerprint = ShardReuse.fingerprint(plan, conf);
    StageRunner runner = new StageRunner(spark, plan.runId(), opts.console());
    long[] stagedAt = new long[1];
    Outcome outcome = output.runResumable(plan.runId(), ShardReuse.PLAN_FILE, fingerprint, opts.resume(), opts.resume(),
        runner::cancelAll, staging -> {
          Map<Integer, ShardResult> reused = new TreeMap<>();
          if (staging.adoptedRun() != null) {
            reused.putAll(ShardReuse.verified(staging.fs(), staging.scratch(), plan));
            opts.console().println("resuming run " + staging.adoptedRun() + ": reusing " + reused.size() + " of "
                + plan.shards().size() + " shards already written and verified in " + staging.scratch());
          }
          try {
            long t1 = System.currentTimeMillis();
            List<ShardResult> results = runShards(runner, plan, staging.scratch().toString(), staging.uploadDirOrNull(), reused);
            timings.put("merge", System.currentTimeMillis() - t1);
            Outcome staged = commit(conf, cfg, plan, staging, output.out(), results, timings, System.currentTimeMillis(),
                opts.console(), manifestSections, sides.report());
            stagedAt[0] = System.currentTimeMillis();
            return staged;
          } catch (IOException | RuntimeException e) {
            if (opts.resume()) {
              opts.console().println("the run failed; its finished shards stay in " + staging.scratch()
                  + ": run the same command with --resume to reuse them");
            }
            throw e;
          }
        });
    // the lifecycle publishes once the work returns (the manifest is written by then): console and Outcome only
    timings.put("publish", System.currentTimeMillis() - stagedAt[0]);
    return outcome;
  }

  private static List<ShardResult> runShards(StageRunner runner, MergePlan plan, String scratch, String uploadDir,
      Map<Integer, ShardResult> reused) {
    int n = plan.shards().size();
    Broadcast<MergePlan> planB = runner.broadcast(plan);
    FaultInjection faults = FaultInjection.from(runner.spark().conf());
    List<Integer> shards = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (!reused.containsKey(i)) {
        shards.add(i);
      }
    }
    if (shards.isEmpty()) {
      return new ArrayList<>(reused.values());
    }
    // Spark partition k computes shards.get(k); progress counts the shards this run computes.
    // One element per task: the shard index (not the partition index: a resumed run skips shards).
    List<ShardResult> all = new ArrayList<>(runner.run("merge " + plan.method(), String.format(Locale.ROOT,
        "sparkmerge merge (%s): %d tensors in %d shards, %.2f GB read", plan.method(), plan.tensorCount(), n,
        plan.totalReadBytes() / 1e9), shards, shards.size(), StageRunner.Progress.of(plan, shards),
        (StageRunner.NativeOnDemand<Integer, ShardResult>) (it, task) -> {
          int p = it.next();
          try (ShardTask t = new ShardTask(planB.value(), p, task.conf())) {
            ShardResult r = t.run(scratch, uploadDir, task.attempt(), faults, task.progress());
            ShardReuse.record(new Path(r.attemptFile()).getFileSystem(task.conf()), r);
            faults.maybePause(p, task.attempt());
            return List.of(r);
          }
        }));
    all.addAll(reused.values());
    all.sort(java.util.Comparator.comparingInt(ShardResult::partition));
    return all;
  }

  static Outcome commit(Configuration conf, MergeConfig cfg, MergePlan plan, Staging staging, Path out,
      List<ShardResult> results, Map<String, Long> timings, long t2, PrintStream console, Map<String, Object> manifestSections,
      Map<String, Object> sideInputs) throws IOException {
    // Every planned tensor must have come back exactly once, from the shard it was planned in.
    Map<String, TensorResult> byName = new TreeMap<>();
    Map<String, String> weightMap = new TreeMap<>();
    List<String> warnings = new ArrayList<>();
    List<String> staged = new ArrayList<>(); // what the manifest's files section describes, in staging order
    Map<String, Map<String, Object>> uploaded = new TreeMap<>(); // the files section of shards not in staging
    long bytes = 0;
    if (results.size() != plan.shards().size()) {
      throw new IllegalStateException("expected " + plan.shards().size() + " shard results, got " + results.size());
    }
    for (ShardResult r : results) {
      ShardPlan s = plan.shards().get(r.partition());
      if (r.tensors().size() != s.tensors().size()) {
        throw new IllegalStateException("shard " + s.fileName() + " returned " + r.tensors().size() + " tensors, planned " + s.tensors().size());
      }
      for (int i = 0; i < s.tensors().size(); i++) {
        TensorTask planned = s.tensors().get(i);
        TensorResult got = r.tensors().get(i);
        if (!planned.name().equals(got.name()) || byName.put(got.name(), got) != null) {
          throw new IllegalStateException("shard " + s.fileName() + " returned tensor " + got.name() + " out of plan");
        }
        weightMap.put(got.name(), s.fileName());
      }
      if (r.upload() != null) { // uploaded to its final key, completed at the publish
        staging.promote(r.upload(), s.fileName());
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("bytes", r.fileBytes());
        entry.put("header_sha256", ShardTask.headerSha256(s));
        uploaded.put(s.fileName(), entry);
      } else {
        staging.promote(r.attemptFile(), s.fileName());
      }
      staged.add(s.fileName());
      bytes += r.fileBytes();
      warnings.addAll(r.warnings());
    }
    if (byName.size() != plan.tensorCount()) {
      throw new IllegalStateException("expected " + plan.tensorCount() + " tensors, got " + byName.size());
    }
    long tensorBytes = 0;
    for (TensorResult r : byName.values()) {
      tensorBytes += r.bytes();
    }
    if (plan.shards().size() > 1) {
      staging.writeStaged("model.safetensors.index.json", HfIndex.json(tensorBytes, weightMap));
      staged.add("model.safetensors.index.json");
    }
    staged.addAll(ModelFiles.stage(conf, cfg, plan, staging, warnings));
    staging.writeStaged("README.md", ModelCard.build(cfg, plan));
    staged.add("README.md");
    timings.put("commit", System.currentTimeMillis() - t2);
    Map<String, Object> sections = new java.util.LinkedHashMap<>(manifestSections);
    Map<String, Object> summary = MethodSummary.of(plan, byName.values());
    summary.forEach((k, v) -> console.println(plan.method() + " " + k + ": " + v));
    summary.putAll(sideInputs);
    if (!summary.isEmpty()) {
      sections.put("method_summary", summary);
    }
    sections.put("files", OutputFiles.describe(staging.fs(), staging.dir(), staged, uploaded));
    staging.writeStaged("sparkmerge.json", Manifest.build(cfg, plan, byName, weightMap, timings, warnings, sections));
    return new Outcome(plan, out.toString(), bytes, timings, warnings);
  }

  /** The plan as --dry-run and the job's first lines print it. */
  public static String describe(MergePlan plan) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "plan %s: merge_method %s, %d model(s)%s, %d tensors, %d output shard(s), read %.3f GB, write %.3f GB%n",
        plan.runId(), plan.method(), plan.models().size(), plan.base() != null ? " + base" : "", plan.tensorCount(),
        plan.shards().size(), plan.totalReadBytes() / 1e9, plan.totalOutBytes() / 1e9));
    for (ShardPlan s : plan.shards()) {
      sb.append(String.format(Locale.ROOT, "  %s: %d tensors, %.3f GB out, %.3f GB read, est. task memory %.1f MB%n",
          s.fileName(), s.tensors().size(), s.outBytes() / 1e9, s.readBytes() / 1e9, s.peakMemoryBytes() / 1e6));
    }
    double maxCost = 0;
    double sumCost = 0;
    for (ShardPlan s : plan.shards()) {
      maxCost = Math.max(maxCost, s.cost());
      sumCost += s.cost();
    }
    // the slowest task sets the stage time: max / mean cost is the plan's balance (1 = perfect)
    sb.append(String.format(Locale.ROOT, "shard cost balance (max / mean): %.3f%n",
        plan.shards().isEmpty() ? 1.0 : maxCost / (sumCost / plan.shards().size())));
    sb.append(String.format(Locale.ROOT, "estimated executor memory per task (largest): %.1f MB", plan.peakMemoryBytes() / 1e6));
    return sb.toString();
  }
}
