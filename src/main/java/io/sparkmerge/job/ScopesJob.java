package io.sparkmerge.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmerge.Version;
import io.sparkmerge.analysis.TensorStats;
import io.sparkmerge.io.Storage;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.math.WeightScope;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.output.OutputLifecycle;
import io.sparkmerge.output.OutputPath;
import io.sparkmerge.output.OverlapRule;
import io.sparkmerge.plan.ModelWeights;
import io.sparkmerge.plan.Planner;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code sparkmerge scopes CONFIG OUT.json} (methods.md §6): the fused target scope (μ*, σ*²) of every
 * 2-D+ tensor over the config's models, weighted by their {@code weight} parameters (e.g. client sample
 * counts), as JSON for the training-time regulariser (docs/wsa.md) and as Parquet beside it
 * ({@code OUT.parquet}). Both are published by the output lifecycle (the Parquet first, the JSON last), so a
 * reader that finds the JSON finds complete scopes.
 */
public final class ScopesJob {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  static final StructType SCHEMA = new StructType().add("tensor", DataTypes.StringType).add("layer", DataTypes.IntegerType)
      .add("numel", DataTypes.LongType).add("fused_mean", DataTypes.DoubleType).add("fused_variance", DataTypes.DoubleType);

  public record Options(String out, boolean overwrite, WeightScope.Fusion fusion, PrintStream console) {}

  /** The fused scope of one tensor. */
  public record TargetScope(String tensor, int layer, long numel, double mean, double variance) {}

  private ScopesJob() {}

  /** The Parquet table's path beside the JSON: OUT.json → OUT.parquet. */
  public static Path parquetPath(Path json) {
    String n = json.getName();
    return new Path(json.getParent(), (n.endsWith(".json") ? n.substring(0, n.length() - 5) : n) + ".parquet");
  }

  /** The output check of OUT.json and OUT.parquet (the overlap rule; existing files need --overwrite). */
  public static OutputLifecycle check(Configuration conf, MergeConfig cfg, String out, boolean overwrite) throws IOException {
    return check(conf, cfg, out, overwrite, OutputLifecycle.Settings.DEFAULT);
  }

  private static OutputLifecycle check(Configuration conf, MergeConfig cfg, String out, boolean overwrite,
      OutputLifecycle.Settings settings) throws IOException {
    Path given = OutputPath.parse(out);
    Path json = given.getFileSystem(conf).makeQualified(given);
    return OutputLifecycle.files(conf, json.getParent(), List.of(json.getName(), parquetPath(json).getName()), overwrite,
        OverlapRule.inputsOf(cfg), settings);
  }

  public static List<TargetScope> run(SparkSession spark, MergeConfig cfg, Options o) throws IOException {
    Configuration conf = Storage.apply(spark.sparkContext().hadoopConfiguration());
    OutputLifecycle output = check(conf, cfg, o.out(), o.overwrite(), OutputLifecycle.Settings.of(spark.conf()));
    Path json = output.out();
    Path parquet = parquetPath(json);
    // the scopes being fused are the models'; a base (if configured) is not one of them
    Planner.AnalysisInputs all = new Planner(conf).openWithOptionalBase(cfg);
    Planner.AnalysisInputs inputs = new Planner.AnalysisInputs(null, all.models());
    List<TensorInfo> tensors = StatsJob.floatingTensors(inputs, true);
    Map<String, double[]> weights = StatsJob.fusionWeights(cfg, inputs, tensors);
    List<String> labels = ModelWeights.labels(inputs.models());
    StageRunner runner = new StageRunner(spark, StatsJob.runId(), o.console());
    List<TargetScope> scopes = output.run(runner.runId(), runner::cancelAll, staging -> {
      List<TargetScope> found = new ArrayList<>();
      if (!tensors.isEmpty()) {
        for (TensorStats.Result r : StatsJob.analyse(runner, inputs, tensors.stream().map(TensorInfo::name).toList(), weights,
            labels, cfg.computeDouble(), o.fusion(), "scopes")) {
          TensorStats.StatRow row = r.stats().get(0);
          found.add(new TargetScope(row.tensor(), row.layer(), row.numel(), row.fusedMean(), row.fusedVariance()));
        }
      }
      found.sort(Comparator.comparing(TargetScope::tensor));
      List<Row> rows = new ArrayList<>();
      found.forEach(s -> rows.add(RowFactory.create(s.tensor(), s.layer(), s.numel(), s.mean(), s.variance())));
      spark.createDataFrame(rows, SCHEMA).coalesce(1).write().parquet(new Path(staging.dir(), parquet.getName()).toString());
      staging.writeStaged(json.getName(), json(cfg, inputs, labels, found, o.fusion()));
      return found;
    });
    o.console().println(String.format(Locale.ROOT, "scopes: fused target scopes of %d tensors over %d models (fusion %s) → %s and %s",
        scopes.size(), inputs.models().size(), o.fusion().name().toLowerCase(Locale.ROOT), json, parquet));
    return scopes;
  }

  static String json(MergeConfig cfg, Planner.AnalysisInputs inputs, List<String> labels, List<TargetScope> scopes,
      WeightScope.Fusion fusion) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("tool", "sparkmerge");
    root.put("version", Version.VERSION);
    root.put("kind", "wsa_target_scopes");
    root.put("note", "target scopes for the WSA training-time regulariser (arXiv 2408.12237): "
        + "loss += beta * sum over tensors of KL(N(mean, variance) of the tensor || N(this mean, this variance)); see docs/wsa.md");
    root.put("fusion", fusion.name().toLowerCase(Locale.ROOT));
    ArrayNode models = root.putArray("models");
    for (int k = 0; k < inputs.models().size(); k++) {
      ObjectNode m = models.addObject();
      m.put("label", labels.get(k));
      m.put("path", inputs.models().get(k).path());
      var w = ModelWeights.declared(cfg, inputs.models().get(k));
      if (w == null) {
        m.put("weight", 1.0);
      } else if (w instanceof io.sparkmerge.param.ParameterValue.Scalar && w.evaluate("", 0) instanceof Number n) {
        m.put("weight", n.doubleValue());
      } else {
        m.put("weight", w.toString()); // a gradient or conditions: the value differs per tensor
      }
    }
    ObjectNode s = root.putObject("scopes");
    for (TargetScope t : scopes) {
      ObjectNode n = s.putObject(t.tensor());
      n.put("layer", t.layer());
      n.put("numel", t.numel());
      n.put("mean", t.mean());
      n.put("variance", t.variance());
    }
    return JSON.writeValueAsString(root) + "\n";
  }
}
