package io.sparkmerge.cli;

import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.job.MergeJob;
import io.sparkmerge.synth.FamilyPreset;
import io.sparkmerge.synth.ModelFamilyGenerator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(mixinStandardHelpOptions = true, name = "demo", description = "Generate a tiny model family, merge it with TIES in local mode, write an HTML report of the merge, and print a summary.",
    footer = {"", "Examples:", "  sparkmerge demo", "  sparkmerge demo --dir /tmp/sparkmerge-demo"})
final class DemoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--dir", description = "working directory (default: a new temporary directory)")
  String dir;

  @Option(names = "--master", description = "Spark master (default local[*])")
  String master;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    java.nio.file.Path work = dir != null ? java.nio.file.Path.of(dir) : Files.createTempDirectory("sparkmerge-demo-");
    Files.createDirectories(work);
    Path root = new Path(work.toAbsolutePath().toUri().toString(), "family");
    FileSystem fs = root.getFileSystem(io.sparkmerge.io.Storage.configuration());
    long t0 = System.currentTimeMillis();
    List<Path> dirs = new ModelFamilyGenerator(FamilyPreset.of("tiny"), 1).generate(fs, root, 2);
    out.printf(Locale.ROOT, "1/4 generated a tiny family (base + 2 fine-tunes) under %s%n", root);
    String yaml = String.format(Locale.ROOT, """
        merge_method: ties
        base_model: %s
        models:
          - model: %s
            parameters: {weight: 0.5, density: 0.5}
          - model: %s
            parameters: {weight: 0.5, density: 0.5}
        parameters: {normalize: true}
        dtype: float32
        seed: 42
        """, dirs.get(0), dirs.get(1), dirs.get(2));
    java.nio.file.Path cfgFile = work.resolve("ties.yml");
    Files.writeString(cfgFile, yaml);
    MergeConfig cfg = ConfigLoader.parse(yaml, cfgFile.toString());
    String outDir = work.resolve("merged").toString();
    try (SparkSession spark = SparkSessions.create("sparkmerge demo", master, List.of())) {
      MergeJob.Outcome o = MergeJob.run(spark, cfg, new MergeJob.Options(outDir, true, 2, System.out));
      out.printf(Locale.ROOT, "2/4 merged with TIES (density 0.5, seed 42): %d tensors, %d shard(s), %.2f MB, timings %s ms%n",
          o.plan().tensorCount(), o.plan().shards().size(), o.bytesWritten() / 1e6, o.timingsMs());
    }
    String report = work.resolve("report.html").toString();
    ReportWriter.write(io.sparkmerge.io.Storage.configuration(), outDir, report, true);
    out.printf(Locale.ROOT, "3/4 report of the merge (per layer: each model's task-vector norm against merged − base, their "
        + "cosine and sign conflicts; then inputs, method, parameters, timings): %s%n", report);
    out.printf(Locale.ROOT, "4/4 output in %s (config: %s); inspect it with: bin/sparkmerge inspect %s%n", outDir, cfgFile, outDir);
    out.printf(Locale.ROOT, "demo finished in %.1fs%n", (System.currentTimeMillis() - t0) / 1e3);
    return 0;
  }
}
