package io.sparkmerge.job;

import io.sparkmerge.exec.TensorLoader;
import io.sparkmerge.output.OutputLifecycle;
import io.sparkmerge.output.OverlapRule;
import io.sparkmerge.output.SafeNames;
import io.sparkmerge.output.Staging;
import io.sparkmerge.output.Tables;
import io.sparkmerge.analysis.SpectrumPlots;
import io.sparkmerge.analysis.SubspaceStats;
import io.sparkmerge.io.Storage;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.param.NameFilter;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.plan.Planner;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code sparkmerge subspaces CONFIG OUT}: per-tensor SVDs of the task vectors in parallel (one task
 * per 2-D tensor, largest first), written as Parquet (for Spark SQL) and CSV tables, PNG spectra of
 * chosen tensors, and a console summary. OUT is committed like a merge: staging first, _SUCCESS last.
 */
public final class SubspacesJob {

  /**
   * @param topK singular values kept per spectrum
   * @param k the subspace dimension for energy and overlap
   * @param plotFilter tensors whose spectra are plotted (substring, else regex)
   * @param maxPlots at most this many plots
   */
  public record Options(String out, boolean overwrite, int topK, int k, String plotFilter, int maxPlots, PrintStream console) {}

  private SubspacesJob() {}

  public static List<SubspaceStats.Report> run(SparkSession spark, MergeConfig cfg, Options o) throws IOException {
    Configuration conf = Storage.apply(spark.sparkContext().hadoopConfiguration());
    NameFilter.check(o.plotFilter(), "--plot");
    OutputLifecycle output = OutputLifecycle.directory(conf, o.out(), o.overwrite(), OverlapRule.inputsOf(cfg),
        OutputLifecycle.Settings.of(spark.conf()));
    Planner.AnalysisInputs inputs = new Planner(conf).openForAnalysis(cfg, "subspaces");
    List<TensorInfo> matrices = new ArrayList<>();
    for (TensorInfo t : inputs.base().dir().tensors().values()) {
      if (t.shape().length == 2 && t.dtype().isFloating()) {
        matrices.add(t);
      }
    }
    // largest SVD first, so the long tasks start early and the stage ends evenly
    matrices.sort(Comparator.comparingDouble((TensorInfo t) -> -(double) t.shape()[0] * t.shape()[1]
        * Math.min(t.shape()[0], t.shape()[1])).thenComparing(TensorInfo::name));
    List<String> names = matrices.stream().map(TensorInfo::name).toList();
    StageRunner runner = new StageRunner(spark, StatsJob.runId(), o.console());
    List<SubspaceStats.Report> reports = output.run(runner.runId(), runner::cancelAll, staging -> {
      List<SubspaceStats.Report> found = names.isEmpty() ? List.of() : analyse(runner, inputs, names, cfg.computeDouble(), o);
      write(spark, staging, inputs, found, o);
      return found;
    });
    o.console().println(summary(reports, inputs));
    return reports;
  }

  private static List<SubspaceStats.Report> analyse(StageRunner runner, Planner.AnalysisInputs inputs, List<String> names,
      boolean dbl, Options o) {
    Broadcast<Planner.AnalysisInputs> in = runner.broadcast(inputs);
    int topK = o.topK();
    int k = o.k();
    long[] bytes = new long[names.size()];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = inputs.base().dir().tensors().get(names.get(i)).byteLength();
      for (var m : inputs.models()) {
        bytes[i] += m.dir().tensors().get(names.get(i)).byteLength();
      }
    }
    return runner.run("subspaces", String.format(Locale.ROOT, "sparkmerge subspaces: SVDs of %d tensors × %d models",
        names.size(), inputs.models().size()), names, names.size(), StageRunner.Progress.perItem(bytes), (it, task) -> {
          String name = it.next();
          Planner.AnalysisInputs ins = in.value();
          try (TensorLoader loader = new TensorLoader(task.conf(), dbl ? DataType.DOUBLE : DataType.FLOAT, true)) {
            long rows = ins.base().dir().tensors().get(name).rows();
            INDArray base = loader.rows(ins.base(), name, 0, rows, true);
            INDArray[] tau = new INDArray[ins.models().size()];
            for (int i = 0; i < tau.length; i++) {
              try (INDArray m = loader.rows(ins.models().get(i), name, 0, rows, true)) {
                tau[i] = m.sub(base);
              }
            }
            base.close();
            try {
              return List.of(SubspaceStats.compute(name, tau, topK, k));
            } finally {
              for (INDArray t : tau) {
                t.close();
              }
            }
          }
        });
  }

  private static void write(SparkSession spark, Staging staging, Planner.AnalysisInputs inputs, List<SubspaceStats.Report> reports,
      Options o) throws IOException {
    List<String> modelPaths = inputs.models().stream().map(m -> m.path()).toList();
    List<Object[]> summary = new ArrayList<>();
    List<Object[]> spectra = new ArrayList<>();
    List<Object[]> overlaps = new ArrayList<>();
    for (SubspaceStats.Report r : reports) {
      int k = r.overlaps().isEmpty() ? Math.min(o.k(), (int) Math.min(r.rows(), r.cols())) : r.overlaps().get(0).k();
      for (SubspaceStats.Spectrum s : r.spectra()) {
        String model = s.source().equals("delta") ? "" : modelPaths.get(Integer.parseInt(s.source().substring(5)));
        summary.add(new Object[] {r.tensor(), s.source(), model, r.rows(), r.cols(), s.effectiveRank(), s.energyTopK(), k,
            s.nuclearNorm(), s.frobeniusNorm()});
        for (int i = 0; i < s.topValues().length; i++) {
          spectra.add(new Object[] {r.tensor(), s.source(), i, s.topValues()[i]});
        }
      }
      for (SubspaceStats.Overlap ov : r.overlaps()) {
        overlaps.add(new Object[] {ov.tensor(), ov.taskI(), modelPaths.get(ov.taskI()), ov.taskJ(), modelPaths.get(ov.taskJ()),
            ov.k(), ov.overlap()});
      }
    }
    Tables.write(spark, staging, "summary", SUMMARY_SCHEMA, summary);
    Tables.write(spark, staging, "spectra", SPECTRA_SCHEMA, spectra);
    Tables.write(spark, staging, "overlap", OVERLAP_SCHEMA, overlaps);
    int plots = 0;
    for (SubspaceStats.Report r : reports.stream().sorted(Comparator.comparing(SubspaceStats.Report::tensor)).toList()) {
      if (plots >= o.maxPlots() || !NameFilter.matches(o.plotFilter(), r.tensor())) {
        continue;
      }
      // the tensor name comes from the input's header: escaped into one file name, never a path
      try (OutputStream os = staging.fs().create(new Path(staging.dir(), "plots/" + SafeNames.fileName(r.tensor()) + ".png"), true)) {
        SpectrumPlots.write(r, modelPaths, os);
      }
      plots++;
    }
  }

  static final StructType SUMMARY_SCHEMA = new StructType().add("tensor", DataTypes.StringType).add("source", DataTypes.StringType)
      .add("model", DataTypes.StringType).add("rows", DataTypes.LongType).add("cols", DataTypes.LongType)
      .add("effective_rank", DataTypes.DoubleType).add("energy_top_k", DataTypes.DoubleType).add("k", DataTypes.IntegerType)
      .add("nuclear_norm", DataTypes.DoubleType).add("frobenius_norm", DataTypes.DoubleType);
  static final StructType SPECTRA_SCHEMA = new StructType().add("tensor", DataTypes.StringType).add("source", DataTypes.StringType)
      .add("index", DataTypes.IntegerType).add("singular_value", DataTypes.DoubleType);
  static final StructType OVERLAP_SCHEMA = new StructType().add("tensor", DataTypes.StringType).add("task_i", DataTypes.IntegerType)
      .add("model_i", DataTypes.StringType).add("task_j", DataTypes.IntegerType).add("model_j", DataTypes.StringType)
      .add("k", DataTypes.IntegerType).add("overlap", DataTypes.DoubleType);

  static String summary(List<SubspaceStats.Report> reports, Planner.AnalysisInputs inputs) {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "subspaces: %d 2-D tensors, %d task vectors%n",
        reports.size(), inputs.models().size()));
    List<SubspaceStats.Overlap> all = new ArrayList<>();
    reports.forEach(r -> all.addAll(r.overlaps()));
    all.sort(Comparator.comparingDouble(SubspaceStats.Overlap::overlap).reversed());
    if (!all.isEmpty()) {
      sb.append("highest task-subspace overlap (where tasks share directions and may interfere):\n");
      for (SubspaceStats.Overlap ov : all.subList(0, Math.min(5, all.size()))) {
        sb.append(String.format(Locale.ROOT, "  %-50s tasks %d,%d  overlap %.3f (k=%d)%n", ov.tensor(), ov.taskI(), ov.taskJ(),
            ov.overlap(), ov.k()));
      }
    }
    List<SubspaceStats.Spectrum> deltas = new ArrayList<>();
    reports.forEach(r -> r.spectra().stream().filter(s -> s.source().equals("delta")).forEach(deltas::add));
    deltas.sort(Comparator.comparingDouble(SubspaceStats.Spectrum::effectiveRank));
    if (!deltas.isEmpty()) {
      sb.append("lowest effective rank of Δ = Σ τ (updates concentrated in few directions):\n");
      for (SubspaceStats.Spectrum s : deltas.subList(0, Math.min(5, deltas.size()))) {
        sb.append(String.format(Locale.ROOT, "  %-50s effective rank %.1f, top-k energy %.3f%n", s.tensor(), s.effectiveRank(),
            s.energyTopK()));
      }
    }
    return sb.toString().stripTrailing();
  }
}
