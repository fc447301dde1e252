package io.sparkmerge.job;

import io.sparkmerge.exec.ShardTask;
import io.sparkmerge.output.SafeNames;
import io.sparkmerge.output.Staging;
import io.sparkmerge.output.Tables;
import io.sparkmerge.ConfigException;
import io.sparkmerge.io.DType;
import io.sparkmerge.io.HfIndex;
import io.sparkmerge.io.SafetensorsWriter;
import io.sparkmerge.method.MethodRegistry;
import io.sparkmerge.method.TensorMerge;
import io.sparkmerge.plan.LayerPositions;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.plan.ModelWeights;
import io.sparkmerge.plan.ShardPlan;
import io.sparkmerge.plan.TensorTask;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code sparkmerge masks CONFIG OUT} (methods.md §7): the binary masks the config's method applies
 * (Localize-and-Stitch's localization, TIES' magnitude trim, LEWIS' per-tensor densities through its
 * base method's trim). The merge is planned and its whole-model pre-passes run exactly as
 * {@code merge} runs them; then one Spark task per planned shard runs each tensor's merge through
 * {@link ShardTask} and keeps, instead of the merged values, the masks the method reports
 * ({@link TensorMerge#observeMasks}): so the masks are the ones the merge uses, by construction.
 * Written per model as a BOOL checkpoint {@code OUT/masks/<model label>/} (the merge's shard layout,
 * an index when sharded), usable as {@code masks:} input of a localize_stitch merge, plus the tables
 * mask_density and mask_overlap (Parquet + CSV), all committed atomically.
 */
public final class MasksJob {

  public record Options(String out, boolean overwrite, int partitions, PrintStream console) {}

  /** One row of mask_density. */
  public record DensityRow(String tensor, int layer, String model, String method, long numel, long kept, double density)
      implements Serializable {}

  /** One row of mask_overlap; jaccard is null when neither mask keeps an entry of the tensor (0/0). */
  public record OverlapRow(String tensor, int layer, String modelI, String modelJ, Double jaccard) implements Serializable {}

  /** What one shard's task produced: per model its mask file in staging, and the tables' rows. */
  record ShardMasks(int shard, List<String> files, List<DensityRow> density, List<OverlapRow> overlap) implements Serializable {}

  public record Outcome(MergePlan plan, List<String> labels, List<DensityRow> density, List<OverlapRow> overlap) {}

  static final String MASKS_DIR = "masks";

  private MasksJob() {}

  public static Outcome run(SparkSession spark, MergeConfig cfg, Options o) throws IOException {
    PlannedRun run = PlannedRun.start(spark, cfg, o.out(), o.overwrite(), o.partitions());
    checkMethods(run.plan());
    MergePlan plan = SideInputPasses.resolve(spark, run.plan(), run.partitions(), o.console()).plan();
    // model directory names become directory names: escaped, never a path of their own
    List<String> labels = ModelWeights.labels(plan.models()).stream().map(SafeNames::fileName).toList();
    StageRunner runner = new StageRunner(spark, plan.runId(), o.console());
    Outcome outcome = run.output().run(plan.runId(), runner::cancelAll, staging -> {
      List<ShardMasks> results = runShards(runner, plan, labels, staging.scratch().toString());
      List<DensityRow> density = new ArrayList<>();
      List<OverlapRow> overlap = new ArrayList<>();
      stageCheckpoints(plan, labels, staging, results);
      for (ShardMasks r : results) {
        density.addAll(r.density());
        overlap.addAll(r.overlap());
      }
      density.sort(Comparator.comparing(DensityRow::tensor).thenComparing(DensityRow::model));
      overlap.sort(Comparator.comparing(OverlapRow::tensor).thenComparing(OverlapRow::modelI).thenComparing(OverlapRow::modelJ));
      writeTables(spark, staging, density, overlap);
      return new Outcome(plan, labels, density, overlap);
    });
    o.console().println(summary(plan, labels, outcome.density(), outcome.overlap()));
    return outcome;
  }

  /**
   * Tensors get a mask when their method applies one: raw copies and tensors a per-tensor override
   * gives to a dense method (e.g. {@code tensors: [{filter: lm_head, merge_method: linear}]}) get none.
   */
  static boolean masked(TensorTask t) {
    return !t.isRawCopy() && MethodRegistry.get(t.method()).report().appliesMasks();
  }

  /** At least one tensor must get a mask; else the config's method is not one that masks. */
  private static void checkMethods(MergePlan plan) {
    for (ShardPlan s : plan.shards()) {
      for (TensorTask t : s.tensors()) {
        if (masked(t)) {
          return;
        }
      }
    }
    throw new ConfigException("masks: no tensor is merged by a method that applies a per-entry mask ('" + plan.method()
        + "' applies none); use merge_method localize_stitch, ties (or another sparsifying method) or lewis");
  }

  private static List<ShardMasks> runShards(StageRunner runner, MergePlan plan, List<String> labels, String scratch) {
    var planB = runner.broadcast(plan);
    return runner.run("masks " + plan.method(), String.format(Locale.ROOT,
        "sparkmerge masks (%s): %d tensors × %d models in %d shards", plan.method(), plan.tensorCount(), plan.models().size(),
        plan.shards().size()), StageRunner.shards(plan), plan.shards().size(), StageRunner.Progress.of(plan), (it, task) ->
        List.of(shardMasks(planB.value(), it.next(), labels, scratch, task.attempt(), task.conf(), task.progress())));
  }

  /** One shard: per model a BOOL safetensors file of the shard's merged tensors, and the tables' rows. */
  static ShardMasks shardMasks(MergePlan plan, int shard, List<String> labels, String staging, int attempt, Configuration conf,
      ShardTask.Progress progress) throws IOException {
    ShardPlan s = plan.shards().get(shard);
    int models = plan.models().size();
    List<SafetensorsWriter.TensorSpec> specs = new ArrayList<>();
    for (TensorTask t : s.tensors()) {
      if (masked(t)) {
        specs.add(new SafetensorsWriter.TensorSpec(t.name(), DType.BOOL, t.shape()));
      }
    }
    List<String> files = new ArrayList<>();
    List<DensityRow> density = new ArrayList<>();
    List<OverlapRow> overlap = new ArrayList<>();
    SafetensorsWriter[] writers = new SafetensorsWriter[models];
    try (ShardTask task = new ShardTask(plan, shard, conf)) {
      for (int m = 0; m < models; m++) {
        Path file = new Path(staging, String.format(Locale.ROOT, "%s/%s/part-%05d-attempt-%d.safetensors", MASKS_DIR,
            labels.get(m), shard, attempt));
        files.add(file.toString());
        writers[m] = new SafetensorsWriter(file.getFileSystem(conf), file, specs, Map.of("format", "pt"));
      }
      for (TensorTask t : s.tensors()) {
        if (!masked(t)) {
          continue;
        }
        long before = task.bytesRead();
        MaskCounts counts = new MaskCounts(models, writers);
        task.masks(t, counts);
        int layer = LayerPositions.layerIndex(t.name());
        long numel = t.numel();
        for (int i = 0; i < models; i++) {
          density.add(new DensityRow(t.name(), layer, labels.get(i), t.method(), numel, counts.kept[i],
              (double) counts.kept[i] / numel));
          for (int j = i + 1; j < models; j++) {
            long u = counts.union[i][j];
            overlap.add(new OverlapRow(t.name(), layer, labels.get(i), labels.get(j),
                u == 0 ? null : (double) counts.intersection[i][j] / u));
          }
        }
        progress.tensorDone(task.bytesRead() - before);
      }
      for (SafetensorsWriter w : writers) {
        w.close();
      }
    } finally {
      for (SafetensorsWriter w : writers) {
        if (w != null) {
          try {
            w.close(); // a writer closed before its last byte deletes its file
          } catch (IOException | RuntimeException e) {
            // the task already fails with the first error; this one only says the file is gone
          }
        }
      }
    }
    return new ShardMasks(shard, files, density, overlap);
  }

  /** Streams each model's mask bytes (0/1) to its writer and counts kept entries and pairwise overlaps. */
  private static final class MaskCounts implements TensorMerge.MaskObserver {
    final long[] kept;
    final long[][] intersection;
    final long[][] union;
    private final SafetensorsWriter[] writers;
    private byte[] bytes = new byte[0];

    MaskCounts(int models, SafetensorsWriter[] writers) {
      this.kept = new long[models];
      this.intersection = new long[models][models];
      this.union = new long[models][models];
      this.writers = writers;
    }

    @Override
    public void block(long flatFrom, int n, boolean[][] keep) {
      if (bytes.length < n) {
        bytes = new byte[n];
      }
      try {
        for (int t = 0; t < keep.length; t++) {
          boolean[] k = keep[t];
          long c = 0;
          for (int i = 0; i < n; i++) {
            bytes[i] = (byte) (k[i] ? 1 : 0);
            c += bytes[i];
          }
          kept[t] += c;
          writers[t].write(ByteBuffer.wrap(bytes, 0, n));
          for (int u = t + 1; u < keep.length; u++) {
            boolean[] l = keep[u];
            for (int i = 0; i < n; i++) {
              intersection[t][u] += k[i] && l[i] ? 1 : 0;
              union[t][u] += k[i] || l[i] ? 1 : 0;
            }
          }
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }

  /** Promotes each shard's mask files to the merge's shard names; writes an index per model when sharded. */
  private static void stageCheckpoints(MergePlan plan, List<String> labels, Staging staging, List<ShardMasks> results)
      throws IOException {
    if (results.size() != plan.shards().size()) {
      throw new IllegalStateException("expected " + plan.shards().size() + " shard results, got " + results.size());
    }
    for (int m = 0; m < labels.size(); m++) {
      String dir = MASKS_DIR + "/" + labels.get(m);
      Map<String, String> weightMap = new TreeMap<>();
      long bytes = 0;
      for (ShardMasks r : results) {
        ShardPlan s = plan.shards().get(r.shard());
        staging.promote(r.files().get(m), dir + "/" + s.fileName());
        for (TensorTask t : s.tensors()) {
          if (masked(t)) {
            weightMap.put(t.name(), s.fileName());
            bytes += t.numel();
          }
        }
      }
      if (plan.shards().size() > 1) {
        staging.writeStaged(dir + "/model.safetensors.index.json", HfIndex.json(bytes, weightMap));
      }
    }
  }

  static final StructType DENSITY_SCHEMA = new StructType().add("tensor", DataTypes.StringType).add("layer", DataTypes.IntegerType)
      .add("model", DataTypes.StringType).add("method", DataTypes.StringType).add("numel", DataTypes.LongType)
      .add("kept", DataTypes.LongType).add("density", DataTypes.DoubleType);
  static final StructType OVERLAP_SCHEMA = new StructType().add("tensor", DataTypes.StringType).add("layer", DataTypes.IntegerType)
      .add("model_i", DataTypes.StringType).add("model_j", DataTypes.StringType).add("jaccard", DataTypes.DoubleType);

  private static void writeTables(SparkSession spark, Staging staging, List<DensityRow> density, List<OverlapRow> overlap)
      throws IOException {
    List<Object[]> d = new ArrayList<>();
    for (DensityRow r : density) {
      d.add(new Object[] {r.tensor(), r.layer(), r.model(), r.method(), r.numel(), r.kept(), r.density()});
    }
    List<Object[]> o = new ArrayList<>();
    for (OverlapRow r : overlap) {
      o.add(new Object[] {r.tensor(), r.layer(), r.modelI(), r.modelJ(), r.jaccard()});
    }
    Tables.write(spark, staging, "mask_density", DENSITY_SCHEMA, d);
    Tables.write(spark, staging, "mask_overlap", OVERLAP_SCHEMA, o);
  }

  /** Per model its density over every masked entry. */
  static String summary(MergePlan plan, List<String> labels, List<DensityRow> density, List<OverlapRow> overlap) {
    long maskedTensors = density.stream().map(DensityRow::tensor).distinct().count();
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "masks (%s): %d tensors, %d models", plan.method(),
        maskedTensors, labels.size()));
    if (plan.tensorCount() > maskedTensors) {
      sb.append(String.format(Locale.ROOT, " (%d tensors without a mask: raw copies or merged by a dense method)",
          plan.tensorCount() - maskedTensors));
    }
    sb.append(System.lineSeparator());
    for (String label : labels) {
      long kept = 0;
      long numel = 0;
      for (DensityRow r : density) {
        if (r.model().equals(label)) {
          kept += r.kept();
          numel += r.numel();
        }
      }
      sb.append(String.format(Locale.ROOT, "  %s: kept %d of %d entries (density %.6f)%n", label, kept, numel,
          numel == 0 ? 0.0 : (double) kept / numel));
    }
    return sb.toString().stripTrailing();
  }
}
