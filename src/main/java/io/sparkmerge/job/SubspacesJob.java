package io.sparkmerge.job;

import io.sparkmerge.exec.HadoopConf;
import io.sparkmerge.exec.NativeThreads;
import io.sparkmerge.exec.TensorLoader;
import io.sparkmerge.output.OutputCommitter;
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
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
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
    Path outPath = new Path(o.out());
    FileSystem fs = outPath.getFileSystem(conf);
    new OutputCommitter(fs, outPath, "check", o.overwrite()).checkOutput();
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
    String runId = java.util.UUID.randomUUID().toString().substring(0, 8);
    OutputCommitter committer = new OutputCommitter(fs, outPath, runId, o.overwrite());
    committer.setUp();
    boolean done = false;
    try {
      List<SubspaceStats.Report> reports = names.isEmpty() ? List.of() : analyse(spark, inputs, names, cfg.computeDouble(), o);
      List<String> staged = new ArrayList<>(write(spark, committer, fs, inputs, reports, o));
      committer.commit(staged);
      done = true;
      o.console().println(summary(reports, inputs));
      return reports;
    } finally {
      if (!done) {
        committer.abort();
      }
    }
  }

  private static List<SubspaceStats.Report> analyse(SparkSession spark, Planner.AnalysisInputs inputs, List<String> names,
      boolean dbl, Options o) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<Planner.AnalysisInputs> in = jsc.broadcast(inputs);
    HadoopConf hconf = new HadoopConf(jsc.hadoopConfiguration());
    int topK = o.topK();
    int k = o.k();
    jsc.setJobDescription(String.format(Locale.ROOT, "sparkmerge subspaces: SVDs of %d tensors × %d models", names.size(),
        inputs.models().size()));
    return jsc.parallelize(names, names.size()).map(name -> {
      NativeThreads.use(org.apache.spark.TaskContext.get().cpus());
      Planner.AnalysisInputs ins = in.value();
      try (TensorLoader loader = new TensorLoader(hconf.get(), dbl ? DataType.DOUBLE : DataType.FLOAT, true)) {
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
          return SubspaceStats.compute(name, tau, topK, k);
        } finally {
          for (INDArray t : tau) {
            t.close();
          }
        }
      }
    }).collect();
  }

  private static List<String> write(SparkSession spark, OutputCommitter committer, FileSystem fs, Planner.AnalysisInputs inputs,
      List<SubspaceStats.Report> reports, Options o) throws IOException {
    List<String> modelPaths = inputs.models().stream().map(m -> m.path()).toList();
    List<Row> summary = new ArrayList<>();
    List<Row> spectra = new ArrayList<>();
    List<Row> overlaps = new ArrayList<>();
    StringBuilder summaryCsv = new StringBuilder("tensor,source,model,rows,cols,effective_rank,energy_top_k,k,nuclear_norm,frobenius_norm\n");
    StringBuilder spectraCsv = new StringBuilder("tensor,source,index,singular_value\n");
    StringBuilder overlapCsv = new StringBuilder("tensor,task_i,model_i,task_j,model_j,k,overlap\n");
    for (SubspaceStats.Report r : reports) {
      int k = r.overlaps().isEmpty() ? Math.min(o.k(), (int) Math.min(r.rows(), r.cols())) : r.overlaps().get(0).k();
      for (SubspaceStats.Spectrum s : r.spectra()) {
        String model = s.source().equals("delta") ? "" : modelPaths.get(Integer.parseInt(s.source().substring(5)));
        summary.add(RowFactory.create(r.tensor(), s.source(), model, r.rows(), r.cols(), s.effectiveRank(), s.energyTopK(), k,
            s.nuclearNorm(), s.frobeniusNorm()));
        summaryCsv.append(String.format(Locale.ROOT, "%s,%s,%s,%d,%d,%.6g,%.6g,%d,%.6g,%.6g%n", r.tensor(), s.source(), model,
            r.rows(), r.cols(), s.effectiveRank(), s.energyTopK(), k, s.nuclearNorm(), s.frobeniusNorm()));
        for (int i = 0; i < s.topValues().length; i++) {
          spectra.add(RowFactory.create(r.tensor(), s.source(), i, s.topValues()[i]));
          spectraCsv.append(String.format(Locale.ROOT, "%s,%s,%d,%.8g%n", r.tensor(), s.source(), i, s.topValues()[i]));
        }
      }
      for (SubspaceStats.Overlap ov : r.overlaps()) {
        overlaps.add(RowFactory.create(ov.tensor(), ov.taskI(), modelPaths.get(ov.taskI()), ov.taskJ(), modelPaths.get(ov.taskJ()),
            ov.k(), ov.overlap()));
        overlapCsv.append(String.format(Locale.ROOT, "%s,%d,%s,%d,%s,%d,%.6g%n", ov.tensor(), ov.taskI(), modelPaths.get(ov.taskI()),
            ov.taskJ(), modelPaths.get(ov.taskJ()), ov.k(), ov.overlap()));
      }
    }
    String st = committer.staging().toString();
    StructType summarySchema = new StructType().add("tensor", DataTypes.StringType).add("source", DataTypes.StringType)
        .add("model", DataTypes.StringType).add("rows", DataTypes.LongType).add("cols", DataTypes.LongType)
        .add("effective_rank", DataTypes.DoubleType).add("energy_top_k", DataTypes.DoubleType).add("k", DataTypes.IntegerType)
        .add("nuclear_norm", DataTypes.DoubleType).add("frobenius_norm", DataTypes.DoubleType);
    StructType spectraSchema = new StructType().add("tensor", DataTypes.StringType).add("source", DataTypes.StringType)
        .add("index", DataTypes.IntegerType).add("singular_value", DataTypes.DoubleType);
    StructType overlapSchema = new StructType().add("tensor", DataTypes.StringType).add("task_i", DataTypes.IntegerType)
        .add("model_i", DataTypes.StringType).add("task_j", DataTypes.IntegerType).add("model_j", DataTypes.StringType)
        .add("k", DataTypes.IntegerType).add("overlap", DataTypes.DoubleType);
    spark.createDataFrame(summary, summarySchema).coalesce(1).write().parquet(st + "/summary.parquet");
    spark.createDataFrame(spectra, spectraSchema).coalesce(1).write().parquet(st + "/spectra.parquet");
    spark.createDataFrame(overlaps, overlapSchema).coalesce(1).write().parquet(st + "/overlap.parquet");
    committer.writeStaged("summary.csv", summaryCsv.toString());
    committer.writeStaged("spectra.csv", spectraCsv.toString());
    committer.writeStaged("overlap.csv", overlapCsv.toString());
    List<String> staged = new ArrayList<>(List.of("summary.parquet", "spectra.parquet", "overlap.parquet", "summary.csv",
        "spectra.csv", "overlap.csv"));
    int plots = 0;
    for (SubspaceStats.Report r : reports.stream().sorted(Comparator.comparing(SubspaceStats.Report::tensor)).toList()) {
      if (plots >= o.maxPlots() || !NameFilter.matches(o.plotFilter(), r.tensor())) {
        continue;
      }
      if (plots == 0) {
        fs.mkdirs(new Path(st, "plots"));
        staged.add("plots");
      }
      try (OutputStream os = fs.create(new Path(st, "plots/" + r.tensor() + ".png"), true)) {
        SpectrumPlots.write(r, modelPaths, os);
      }
      plots++;
    }
    return staged;
  }

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
