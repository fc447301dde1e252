package io.sparkmerge.bench;

import io.sparkmerge.io.DType;
import io.sparkmerge.job.MergeJob;
import io.sparkmerge.testing.S3Server;
import io.sparkmerge.testing.SmallCheckpoints;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.apache.spark.sql.SparkSession;

/**
 * Commit time on S3 against the number of output files and the bytes (S3Proxy on 127.0.0.1; not a test):
 * a linear merge of three local float32 models of 32 tensors into an S3 OUT, for each output size (MB)
 * and each shard count, once with the multipart commit (tasks upload to the final keys, the driver
 * completes) and once with the staged copy ({@code sparkmerge.multipart.commit=false}: attempt files in
 * scratch, promoted and published by S3A renames, i.e. copies). Prints one markdown row per run.
 *
 * <p>Usage: S3CommitBench OUT_MB[,OUT_MB...] SHARDS[,SHARDS...] WORK_DIR
 */
public final class S3CommitBench {
  private S3CommitBench() {}

  public static void main(String[] args) throws Exception {
    Path work = Path.of(args[2]);
    S3Server s3 = new S3Server();
    s3.start();
    try {
      SparkSession spark = io.sparkmerge.testing.SparkTestSession.get();
      s3.applyTo(spark.sparkContext().hadoopConfiguration());
      System.out.println("| output MB | shards | commit | merge stage s | commit (driver, before publish) s | publish s |");
      System.out.println("|---|---|---|---|---|---|");
      boolean warm = false;
      for (String mb : args[0].split(",")) {
        String cfg = family(work.resolve("f" + mb), Integer.parseInt(mb));
        for (String shards : args[1].split(",")) {
          for (boolean multipart : new boolean[] {true, false}) {
            spark.sparkContext().hadoopConfiguration().setBoolean("sparkmerge.multipart.commit", multipart);
            if (!warm) { // class loading, JIT, connection pool: not timed
              run(spark, cfg, s3.uri("warmup"), Integer.parseInt(shards));
              warm = true;
            }
            String out = s3.uri("out/" + mb + "-" + shards + "-" + multipart);
            MergeJob.Outcome o = run(spark, cfg, out, Integer.parseInt(shards));
            System.out.printf(Locale.ROOT, "| %s | %d | %s | %.2f | %.2f | %.2f |%n", mb, o.plan().shards().size(),
                multipart ? "multipart" : "staged copy", o.timingsMs().get("merge") / 1e3, o.timingsMs().get("commit") / 1e3,
                o.timingsMs().get("publish") / 1e3);
            s3.fs().delete(new org.apache.hadoop.fs.Path(out), true);
          }
        }
      }
    } finally {
      s3.stop();
    }
  }

  private static MergeJob.Outcome run(SparkSession spark, String cfg, String out, int shards) throws Exception {
    io.sparkmerge.config.MergeConfig c = io.sparkmerge.config.ConfigLoader.parse(Files.readString(Path.of(cfg)), cfg);
    return MergeJob.run(spark, c, new MergeJob.Options(out, true, shards, new PrintStream(OutputStream.nullOutputStream())));
  }

  /** Three models of 32 float32 tensors making {@code mb} MB each, and a linear merge config of them. */
  private static String family(Path dir, int mb) throws Exception {
    int cols = 1024;
    int rows = mb * (1 << 20) / 4 / cols / 32;
    Random rnd = new Random(mb);
    StringBuilder y = new StringBuilder("merge_method: linear\nmodels:\n");
    for (int m = 0; m < 3; m++) {
      List<SmallCheckpoints.Tensor> ts = new ArrayList<>();
      for (int t = 0; t < 32; t++) {
        double[] v = new double[rows * cols];
        for (int i = 0; i < v.length; i++) {
          v[i] = rnd.nextGaussian();
        }
        ts.add(new SmallCheckpoints.Tensor(String.format("layers.%02d.weight", t), new long[] {rows, cols}, v));
      }
      String d = SmallCheckpoints.write(dir.resolve("m" + m), DType.F32, ts);
      y.append("  - model: ").append(d).append("\n    parameters: {weight: 1.0}\n");
    }
    Path cfg = dir.resolve("linear.yml");
    Files.writeString(cfg, y.toString());
    return cfg.toString();
  }
}
