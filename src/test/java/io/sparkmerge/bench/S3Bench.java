package io.sparkmerge.bench;

import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.io.TensorReader;
import io.sparkmerge.testing.S3Server;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * S3 throughput through S3A against S3Proxy on 127.0.0.1 (bench/s3/run.sh; not a test): uploads a model
 * family (writes), reads every tensor back with positioned reads in 64 MB chunks as executors do, under
 * fadvise sequential and random (reads), then runs the same linear merge local→local and S3→S3 and takes
 * the plan/merge/commit timings from each manifest. Prints one markdown table row per measurement.
 *
 * <p>Usage: S3Bench FAMILY_DIR MODEL... (model directory names under FAMILY_DIR, the first is merged with the rest)
 */
public final class S3Bench {
  private static final int CHUNK = 64 << 20;

  private S3Bench() {}

  public static void main(String[] args) throws Exception {
    String family = args[0];
    List<String> models = List.of(args).subList(1, args.length);
    S3Server s3 = new S3Server();
    s3.start();
    try {
      FileSystem fs = s3.fs();
      FileSystem local = FileSystem.getLocal(new Configuration());
      // warm-up (class loading, JIT, connection pool): one model up and back, not timed
      for (FileStatus st : local.listStatus(new Path(family, models.get(0)))) {
        copy(local, st.getPath(), fs, new Path(s3.uri("warmup/" + st.getPath().getName())));
      }
      readTensors(fs, new Path(s3.uri("warmup")));
      fs.delete(new Path(s3.uri("warmup")), true);
      long bytes = 0;
      long t0 = System.nanoTime();
      for (String m : models) {
        for (FileStatus st : local.listStatus(new Path(family, m))) {
          bytes += copy(local, st.getPath(), fs, new Path(s3.uri("models/" + m + "/" + st.getPath().getName())));
        }
      }
      row("write (upload the inputs, S3A block output)", bytes, System.nanoTime() - t0, "");
      for (String policy : List.of("sequential", "random")) {
        Configuration c = s3.configuration();
        c.set("fs.s3a.experimental.input.fadvise", policy);
        try (FileSystem f = FileSystem.newInstance(URI.create(s3.uri("")), c)) {
          long t1 = System.nanoTime();
          long read = 0;
          for (String m : models) {
            read += readTensors(f, new Path(s3.uri("models/" + m)));
          }
          row("read every tensor, 64 MB positioned reads, fadvise " + policy, read, System.nanoTime() - t1, "");
        }
      }
      String cfgLocal = config(family, models, family);
      String cfgS3 = config(family, models, s3.uri("models").replaceAll("/$", ""));
      java.nio.file.Path work = Files.createTempDirectory("s3bench-");
      merge(s3, "linear merge local → local (bytes written)", cfgLocal, work.resolve("out").toString());
      merge(s3, "linear merge S3 → S3 (bytes written)", cfgS3, s3.uri("out/linear"));
    } finally {
      s3.stop();
    }
  }

  static long copy(FileSystem src, Path from, FileSystem dst, Path to) throws Exception {
    byte[] buf = new byte[8 << 20];
    long n = 0;
    try (InputStream in = src.open(from); OutputStream os = dst.create(to, true)) {
      for (int r; (r = in.read(buf)) > 0; ) {
        os.write(buf, 0, r);
        n += r;
      }
    }
    return n;
  }

  static long readTensors(FileSystem fs, Path dir) throws Exception {
    ModelDirectory md = ModelDirectory.open(fs, dir);
    byte[] buf = new byte[CHUNK];
    long n = 0;
    for (String file : md.shardFiles()) {
      try (TensorReader r = new TensorReader(fs, new Path(file))) {
        for (TensorInfo t : md.tensors().values()) {
          if (!md.fileOf(t.name()).equals(file)) {
            continue;
          }
          for (long pos = 0; pos < t.byteLength(); pos += CHUNK) {
            int len = (int) Math.min(CHUNK, t.byteLength() - pos);
            r.readFully(t.fileOffset() + pos, buf, 0, len);
            n += len;
          }
        }
      }
    }
    return n;
  }

  /** A linear merge of the models (equal weights) from {@code root}. */
  static String config(String family, List<String> models, String root) throws Exception {
    StringBuilder y = new StringBuilder("merge_method: linear\nmodels:\n");
    for (String m : models) {
      y.append("  - model: ").append(root).append('/').append(m).append("\n    parameters: {weight: 1.0}\n");
    }
    java.nio.file.Path p = Files.createTempFile("s3bench-", ".yml");
    Files.writeString(p, y.toString());
    return p.toString();
  }

  static void merge(S3Server s3, String label, String cfg, String out) throws Exception {
    org.apache.spark.sql.SparkSession spark = io.sparkmerge.testing.SparkTestSession.get();
    s3.applyTo(spark.sparkContext().hadoopConfiguration());
    io.sparkmerge.config.MergeConfig c = io.sparkmerge.config.ConfigLoader.parse(Files.readString(java.nio.file.Path.of(cfg)), cfg);
    long t0 = System.nanoTime();
    io.sparkmerge.job.MergeJob.Outcome o = io.sparkmerge.job.MergeJob.run(spark, c,
        new io.sparkmerge.job.MergeJob.Options(out, false, 0, new java.io.PrintStream(java.io.OutputStream.nullOutputStream())));
    long wall = System.nanoTime() - t0;
    var t = o.timingsMs();
    row(label, o.bytesWritten(), wall, String.format(Locale.ROOT,
        "plan %.1f s, merge stage %.1f s, commit %.1f s (promote + small files %.1f s, publish into OUT %.1f s; %d shards)",
        t.get("plan") / 1e3, t.get("merge") / 1e3, (t.get("commit") + t.get("publish")) / 1e3, t.get("commit") / 1e3,
        t.get("publish") / 1e3, o.plan().shards().size()));
  }

  static void row(String what, long bytes, long nanos, String note) {
    System.out.printf(Locale.ROOT, "| %s | %.1f | %.2f | %.1f | %s |%n", what, bytes / 1e6, nanos / 1e9, bytes / 1e6 / (nanos / 1e9), note);
  }
}
