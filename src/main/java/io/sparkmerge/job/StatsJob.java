package io.sparkmerge.job;

import io.sparkmerge.exec.TensorLoader;
import io.sparkmerge.output.OutputLifecycle;
import io.sparkmerge.output.OverlapRule;
import io.sparkmerge.output.Staging;
import io.sparkmerge.output.Tables;
import io.sparkmerge.analysis.TensorStats;
import io.sparkmerge.io.Storage;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.math.WeightScope;
import io.sparkmerge.plan.InputModel;
import io.sparkmerge.plan.LayerPositions;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.plan.ModelWeights;
import io.sparkmerge.plan.Planner;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code sparkmerge stats CONFIG OUT} (methods.md §7, §6): one Spark task per tensor reads the tensor
 * of every model in row blocks and computes {@link TensorStats}; the driver writes the tables
 * tensor_stats and pair_stats as Parquet and CSV, committed like a merge (staging, _SUCCESS last),
 * and prints the layers whose scopes are furthest from the fused scope.
 */
public final class StatsJob {

  public record Options(String out, boolean overwrite, WeightScope.Fusion fusion, int top, PrintStream console) {}

  /** What the tasks computed, for the caller (tests, notebooks). */
  public record Outcome(List<TensorStats.StatRow> stats, List<TensorStats.PairRow> pairs) {}

  private StatsJob() {}

  public static Outcome run(SparkSession spark, MergeConfig cfg, Options o) throws IOException {
    Configuration conf = Storage.apply(spark.sparkContext().hadoopConfiguration());
    OutputLifecycle output = OutputLifecycle.directory(conf, o.out(), o.overwrite(), OverlapRule.inputsOf(cfg),
        OutputLifecycle.Settings.of(spark.conf()));
    Planner.AnalysisInputs inputs = new Planner(conf).openWithOptionalBase(cfg);
    List<TensorInfo> tensors = floatingTensors(inputs, false);
    Map<String, double[]> weights = fusionWeights(cfg, inputs, tensors);
    List<String> labels = ModelWeights.labels(inputs.models());
    StageRunner runner = new StageRunner(spark, runId(), o.console());
    Outcome outcome = output.run(runner.runId(), runner::cancelAll, staging -> {
      List<TensorStats.Result> results = tensors.isEmpty() ? List.of()
          : analyse(runner, inputs, tensors.stream().map(TensorInfo::name).toList(), weights, labels, cfg.computeDouble(), o.fusion(),
              "stats");
      List<TensorStats.StatRow> stats = new ArrayList<>();
      List<TensorStats.PairRow> pairs = new ArrayList<>();
      results.forEach(r -> {
        stats.addAll(r.stats());
        pairs.addAll(r.pairs());
      });
      stats.sort(Comparator.comparing(TensorStats.StatRow::tensor));
      pairs.sort(Comparator.comparing(TensorStats.PairRow::tensor));
      write(spark, staging, stats, pairs);
      return new Outcome(stats, pairs);
    });
    o.console().println(summary(outcome.stats(), outcome.pairs(), inputs.models().size(), o.top()));
    return outcome;
  }

  /** A run id for jobs without a merge plan: the time and a random suffix. */
  static String runId() {
    return java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").format(java.time.LocalDateTime.now()) + "-"
        + java.util.UUID.randomUUID().toString().substring(0, 8);
  }

  /** One Spark task per tensor name: {@link TensorStats} over every model (and the base, when inputs have one). */
  static List<TensorStats.Result> analyse(StageRunner runner, Planner.AnalysisInputs inputs, List<String> names,
      Map<String, double[]> weights, List<String> labels, boolean dbl, WeightScope.Fusion fusion, String stage) {
    Broadcast<Planner.AnalysisInputs> in = runner.broadcast(inputs);
    Broadcast<Map<String, double[]>> wB = runner.broadcast(weights);
    long[] bytes = new long[names.size()];
    for (int i = 0; i < names.size(); i++) {
      for (InputModel m : inputs.models()) {
        bytes[i] += m.dir().tensors().get(names.get(i)).byteLength();
      }
      bytes[i] += inputs.base() == null ? 0 : inputs.base().dir().tensors().get(names.get(i)).byteLength();
    }
    return runner.run(stage, String.format(Locale.ROOT, "sparkmerge " + stage + ": %d tensors × %d models%s", names.size(),
        inputs.models().size(), inputs.base() != null ? " + base" : ""), names, names.size(),
        StageRunner.Progress.perItem(bytes), (it, task) -> {
          String name = it.next();
          Planner.AnalysisInputs ins = in.value();
          try (TensorLoader loader = new TensorLoader(task.conf(), dbl ? DataType.DOUBLE : DataType.FLOAT, false)) {
            InputModel ref = ins.base() != null ? ins.base() : ins.models().get(0);
            TensorInfo info = ref.dir().tensors().get(name);
            long rows = info.rows();
            long rowLength = info.rowLength();
            long perChunk = Math.max(1, Math.min(rows, Planner.DEFAULT_CHUNK_BYTES / Math.max(1, rowLength * (dbl ? 8 : 4))));
            TensorStats st = new TensorStats(name, info.shape().length, ins.models().size(), ins.base() != null);
            for (long r = 0; r < rows; r += perChunk) {
              long n = Math.min(perChunk, rows - r);
              INDArray base = ins.base() != null ? loader.rows(ins.base(), name, r, n, false) : null;
              INDArray[] models = new INDArray[ins.models().size()];
              try {
                for (int k = 0; k < models.length; k++) {
                  models[k] = loader.rows(ins.models().get(k), name, r, n, false);
                }
                st.add(base, models);
              } finally {
                if (base != null) {
                  base.close();
                }
                for (INDArray m : models) {
                  if (m != null) {
                    m.close();
                  }
                }
              }
            }
            task.progress().tensorDone(loader.bytesRead());
            return List.of(st.finish(labels, wB.value().get(name), fusion));
          }
        });
  }

  /** The floating tensors of every input (only 2-D+ ones when asked), largest first so the long tasks start early. */
  static List<TensorInfo> floatingTensors(Planner.AnalysisInputs inputs, boolean matricesOnly) {
    InputModel reference = inputs.base() != null ? inputs.base() : inputs.models().get(0);
    List<TensorInfo> tensors = new ArrayList<>();
    for (TensorInfo t : reference.dir().tensors().values()) {
      boolean floating = t.dtype().isFloating() && (!matricesOnly || t.shape().length >= 2);
      for (InputModel m : inputs.models()) {
        floating &= m.dir().tensors().get(t.name()).dtype().isFloating();
      }
      if (floating) {
        tensors.add(t);
      }
    }
    tensors.sort(Comparator.comparingLong((TensorInfo t) -> -t.numel()).thenComparing(TensorInfo::name));
    return tensors;
  }

  /** The models' weights (per-model {@code weight} parameters) for each tensor's scope fusion. */
  static Map<String, double[]> fusionWeights(MergeConfig cfg, Planner.AnalysisInputs inputs, List<TensorInfo> tensors) {
    InputModel reference = inputs.base() != null ? inputs.base() : inputs.models().get(0);
    LayerPositions positions = new LayerPositions(reference.dir().tensors().keySet());
    Map<String, double[]> weights = new LinkedHashMap<>();
    for (TensorInfo t : tensors) {
      weights.put(t.name(), ModelWeights.of(cfg, inputs.models(), t.name(), positions.position(t.name())));
    }
    return weights;
  }

  static final StructType STATS_SCHEMA = new StructType().add("tensor", DataTypes.StringType).add("layer", DataTypes.IntegerType)
      .add("model", DataTypes.StringType).add("kind", DataTypes.StringType).add("numel", DataTypes.LongType)
      .add("mean", DataTypes.DoubleType).add("variance", DataTypes.DoubleType).add("min", DataTypes.DoubleType)
      .add("max", DataTypes.DoubleType).add("l2_norm", DataTypes.DoubleType).add("zero_fraction", DataTypes.DoubleType)
      .add("nonfinite_count", DataTypes.LongType).add("fused_mean", DataTypes.DoubleType)
      .add("fused_variance", DataTypes.DoubleType).add("kl_to_fused", DataTypes.DoubleType);
  static final StructType PAIR_SCHEMA = new StructType().add("tensor", DataTypes.StringType).add("layer", DataTypes.IntegerType)
      .add("model_i", DataTypes.StringType).add("model_j", DataTypes.StringType).add("cosine", DataTypes.DoubleType)
      .add("sign_conflict", DataTypes.DoubleType);

  private static void write(SparkSession spark, Staging staging, List<TensorStats.StatRow> stats, List<TensorStats.PairRow> pairs)
      throws IOException {
    List<Object[]> statRows = new ArrayList<>();
    for (TensorStats.StatRow r : stats) {
      statRows.add(new Object[] {r.tensor(), r.layer(), r.model(), r.kind(), r.numel(), r.mean(), r.variance(), r.min(), r.max(),
          r.l2Norm(), r.zeroFraction(), r.nonfiniteCount(), r.fusedMean(), r.fusedVariance(), r.klToFused()});
    }
    List<Object[]> pairRows = new ArrayList<>();
    for (TensorStats.PairRow r : pairs) {
      pairRows.add(new Object[] {r.tensor(), r.layer(), r.modelI(), r.modelJ(), r.cosine(), r.signConflict()});
    }
    Tables.write(spark, staging, "tensor_stats", STATS_SCHEMA, statRows);
    Tables.write(spark, staging, "pair_stats", PAIR_SCHEMA, pairRows);
  }

  /** The layers whose models' scopes are furthest from the fused scope (largest KL), and the most conflicting task pairs. */
  static String summary(List<TensorStats.StatRow> stats, List<TensorStats.PairRow> pairs, int models, int top) {
    Map<Integer, TensorStats.StatRow> worstPerLayer = new LinkedHashMap<>();
    Map<Integer, double[]> layerKl = new LinkedHashMap<>();
    int tensors = (int) stats.stream().map(TensorStats.StatRow::tensor).distinct().count();
    for (TensorStats.StatRow r : stats) {
      if (r.klToFused() == null) {
        continue;
      }
      layerKl.computeIfAbsent(r.layer(), l -> new double[2]);
      layerKl.get(r.layer())[0] += r.klToFused();
      layerKl.get(r.layer())[1]++;
      TensorStats.StatRow w = worstPerLayer.get(r.layer());
      if (w == null || r.klToFused() > w.klToFused()) {
        worstPerLayer.put(r.layer(), r);
      }
    }
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "stats: %d tensors, %d models, %d stat rows, %d pair rows%n",
        tensors, models, stats.size(), pairs.size()));
    if (!worstPerLayer.isEmpty()) {
      sb.append("most scope-mismatched layers (largest KL of a model's scope to the fused scope: averaging is at risk there):\n");
      worstPerLayer.values().stream().sorted(Comparator.comparingDouble((TensorStats.StatRow r) -> -r.klToFused())).limit(top)
          .forEach(r -> sb.append(String.format(Locale.ROOT, "  layer %-4s max KL %.4g (%s, %s), mean KL %.4g%n",
              r.layer() < 0 ? "-" : Integer.toString(r.layer()), r.klToFused(), r.tensor(), r.model(),
              layerKl.get(r.layer())[0] / layerKl.get(r.layer())[1])));
    }
    pairs.stream().filter(p -> p.signConflict() != null).max(Comparator.comparingDouble(TensorStats.PairRow::signConflict))
        .ifPresent(p -> sb.append(String.format(Locale.ROOT, "highest task-vector sign conflict: %.3f (%s, %s vs %s)%n",
            p.signConflict(), p.tensor(), p.modelI(), p.modelJ())));
    return sb.toString().stripTrailing();
  }
}
