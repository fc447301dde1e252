package io.sparkmerge.cli;

import io.sparkmerge.ConfigException;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.job.TaskVectorsJob;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(mixinStandardHelpOptions = true, name = "task-vectors",
    description = "τ = MODEL − BASE (computed in float64) as a checkpoint in OUT: dense (the model's floating tensors under "
        + "their names, written as F32), or sparse with --density s (Localize-and-Stitch's top-s selection, over the whole "
        + "model or per tensor): per tensor <name>.indices (I32, I64 beyond 2^31 entries) and <name>.values (F64 for F32/F64 "
        + "models, F32 for BF16/F16 ones: τ's values exactly), shape and dtype in the header's metadata. Prints the storage "
        + "ratio.",
    footer = {"", "Examples:", "  sparkmerge task-vectors --base /models/base --model /models/ft-math /data/tv/math",
        "  sparkmerge task-vectors --base /models/base --model /models/ft-math /data/tv/math-1pct --density 0.01"})
final class TaskVectorsCommand implements Callable<Integer> {
  @Mixin TaskVectorOptions models;

  @Parameters(index = "0", paramLabel = "OUT", description = "output directory")
  String out;

  @Option(names = "--density", description = "keep this fraction s in (0, 1] of τ's entries, the largest magnitudes (sparse layout)")
  Double density;

  @Option(names = "--mask-scope", description = "with --density: global (k-th largest over the whole model, default) or tensor")
  String maskScope = "global";

  @Option(names = "--partitions", description = "at least this many Spark tasks (default: Spark's default parallelism)")
  int partitions;

  @Mixin SparkSessions.Options sparkOptions;

  @Mixin OverwriteOption output;

  @Override
  public Integer call() throws IOException {
    if (density != null && !(density > 0 && density <= 1)) {
      throw new ConfigException("--density must be in (0, 1], got " + density);
    }
    if (!maskScope.equals("global") && !maskScope.equals("tensor")) {
      throw new ConfigException("--mask-scope must be global or tensor, got " + maskScope);
    }
    MergeConfig cfg = config(models.base, models.model, density == null ? 1.0 : density, maskScope);
    SparkSessions.preflight(out, output.overwrite, cfg, sparkOptions.confs);
    try (SparkSession spark = sparkOptions.create("sparkmerge task-vectors")) {
      TaskVectorsJob.run(spark, cfg, new TaskVectorsJob.Options(out, output.overwrite, density, maskScope, partitions, System.out));
      return 0;
    }
  }

  /** The selection is Localize-and-Stitch's dataless one: a config of the base and the one model. */
  static MergeConfig config(String base, String model, double sparsity, String scope) {
    return MergeConfig.builder("localize_stitch").baseModel(base).model(model, Map.of())
        .parameter("sparsity", sparsity).parameter("mask_scope", scope).build();
  }
}
