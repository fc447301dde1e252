package io.sparkmerge.cli;

import io.sparkmerge.ConfigException;
import io.sparkmerge.io.Storage;
import io.sparkmerge.job.ExtractLoraJob;
import io.sparkmerge.output.OutputLifecycle;
import java.io.IOException;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(mixinStandardHelpOptions = true, name = "extract-lora",
    description = "A PEFT LoRA adapter approximating MODEL − BASE (mergekit-extract-lora): the rank-r truncated SVD of each"
        + " linear module's task vector (one Spark task per module; a randomised SVD for large matrices), embeddings and"
        + " norms stored whole (modules_to_save). Writes adapter_model.safetensors + adapter_config.json, and the relative"
        + " error ‖τ − B·A‖/‖τ‖ per module in extract_lora.json and lora_modules.csv ('sparkmerge report OUT' plots it)."
        + " BASE and MODEL may be MODEL+ADAPTER references.",
    footer = {"", "Examples:", "  sparkmerge extract-lora --base /models/base --model /models/ft /data/lora-ft --rank 32",
        "  sparkmerge extract-lora --base /models/base --model /models/ft /data/lora-attn --rank 64 --modules 'self_attn\\.'",
        "  sparkmerge merge merge-with-lora.yml /data/merged-lora   # its models: - model: /models/base+/data/lora-ft"})
final class ExtractLoraCommand implements Callable<Integer> {
  @Mixin TaskVectorOptions models;

  @Parameters(index = "0", paramLabel = "OUT", description = "output directory (the adapter)")
  String out;

  @Option(names = "--rank", required = true, description = "the LoRA rank r (smaller where a module has fewer rows or columns)")
  int rank;

  @Option(names = "--modules", paramLabel = "REGEX", description = "only modules whose name this regex finds (default: all)")
  String modules;

  @Option(names = "--no-distribute-scale", description = "put the singular values on lora_A (B = U) instead of √S on each factor")
  boolean noDistribute;

  @Option(names = "--embed-lora", description = "factor the embeddings too (lora_embedding_A/B; lm_head as a linear module)"
      + " instead of storing them whole")
  boolean embedLora;

  @Option(names = "--seed", description = "seed of the randomised SVD's test matrices (default 0)")
  long seed;

  @Mixin SparkSessions.Options sparkOptions;

  @Mixin OverwriteOption output;

  @Override
  public Integer call() throws IOException {
    if (rank <= 0) {
      throw new ConfigException("--rank must be a positive integer, got " + rank);
    }
    if (modules != null) {
      try {
        Pattern.compile(modules);
      } catch (PatternSyntaxException e) {
        throw new ConfigException("--modules '" + modules + "' is not a regular expression: " + e.getDescription());
      }
    }
    ExtractLoraJob.Options o = new ExtractLoraJob.Options(models.base, models.model, out, rank, modules, !noDistribute, embedLora, seed,
        output.overwrite, System.out);
    // the output lifecycle's check before a Spark session starts (SparkSessions.preflight for a config's inputs)
    OutputLifecycle.directory(Storage.configuration(SparkSessions.settings(sparkOptions.confs)), out, output.overwrite,
        ExtractLoraJob.inputs(o), OutputLifecycle.Settings.DEFAULT);
    try (SparkSession spark = sparkOptions.create("sparkmerge extract-lora")) {
      ExtractLoraJob.run(spark, o);
      return 0;
    }
  }
}
