package io.sparkmerge.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.S3Server;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The analysis commands, `report` and `checkpoints --watch` on S3 (S3Proxy on 127.0.0.1 through S3A,
 * the settings as --conf): stats, masks and subspaces read their models from S3 and commit to S3, with
 * tables, masks and plots equal to the local run's; report renders an S3 output exactly as the local
 * one; the watcher polls an S3 prefix (bounded by --max-polls) and merges each new step once.
 */
@Timeout(value = 900, unit = TimeUnit.SECONDS)
class S3AnalysisTest {
  @RegisterExtension static final S3Server S3 = new S3Server();
  @TempDir static Path local;
  static List<String> localDirs;
  static List<String> s3Dirs = new ArrayList<>();
  static FileSystem s3;
  /** The local run of `stats`, shared by the tests that compare with it. */
  static String localStats;

  static final String TIES = """
      merge_method: ties
      base_model: BASE
      models:
        - model: FT1
          parameters: {weight: 0.6, density: 0.3}
        - model: FT2
          parameters: {weight: 0.4, density: 0.5}
      seed: 5
      """;

  @BeforeAll
  static void upload() throws IOException {
    s3 = S3.fs();
    localDirs = Checkpoints.tinyFamily(local.resolve("family"), 31, 2).stream().map(org.apache.hadoop.fs.Path::toString).toList();
    for (String d : localDirs) {
      s3Dirs.add(upload(d, "models/" + new org.apache.hadoop.fs.Path(d).getName()));
    }
    localStats = local.resolve("stats").toString();
    S3Server.Run r = S3.sparkmerge("stats", config(localDirs), localStats);
    assertEquals(0, r.code(), "stats local: " + r.err());
  }

  static String upload(String localDir, String key) throws IOException {
    return S3.upload(localDir, key);
  }

  static String config(List<String> dirs) throws IOException {
    return S3MergeTest.config(local, TIES, dirs);
  }

  /**
   * Every file under {@code dir} by relative path, with its bytes: Parquet part files (named by Spark with
   * a random id) are keyed by their directory, and Spark's .crc twins and _SUCCESS markers inside them are skipped.
   */
  static Map<String, byte[]> tree(FileSystem fs, String dir) throws IOException {
    Map<String, byte[]> m = new TreeMap<>();
    org.apache.hadoop.fs.Path root = fs.makeQualified(new org.apache.hadoop.fs.Path(dir));
    RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
    while (it.hasNext()) {
      org.apache.hadoop.fs.Path p = it.next().getPath();
      String rel = p.toUri().getPath().substring(root.toUri().getPath().length() + 1);
      if (rel.contains(".parquet/")) {
        String name = p.getName();
        if (!name.startsWith("part-")) {
          continue;
        }
        rel = rel.substring(0, rel.indexOf(".parquet/") + ".parquet".length()) + "/part";
      }
      try (InputStream in = fs.open(p)) {
        m.put(rel, in.readAllBytes());
      }
    }
    return m;
  }

  static void assertSameTree(String localOut, String s3Out) throws IOException {
    Map<String, byte[]> a = tree(Checkpoints.localFs(), localOut);
    Map<String, byte[]> b = tree(s3, s3Out);
    assertEquals(a.keySet(), b.keySet(), "same files");
    for (String n : a.keySet()) {
      if (n.endsWith(".csv")) { // subspaces names each model by its path: local in one, s3a:// in the other
        String local = new String(a.get(n), StandardCharsets.UTF_8).replace(modelsRoot(localDirs), "MODELS/");
        String remote = new String(b.get(n), StandardCharsets.UTF_8).replace(modelsRoot(s3Dirs), "MODELS/");
        assertEquals(local, remote, n + " differs between the local and the S3 run");
      } else if (!n.endsWith("/part")) { // Parquet files carry Spark's writer metadata; their rows are the CSV twins'
        assertArrayEquals(a.get(n), b.get(n), n + " differs between the local and the S3 run");
      }
    }
  }

  /** The directory holding the models (with a trailing slash), as the config names them. */
  static String modelsRoot(List<String> dirs) {
    return dirs.get(0).substring(0, dirs.get(0).lastIndexOf('/') + 1);
  }

  @Test
  void statsMasksAndSubspacesOnS3EqualTheLocalRuns() throws IOException {
    for (String cmd : List.of("stats", "masks", "subspaces")) {
      String localOut = local.resolve(cmd).toString();
      if (!cmd.equals("stats")) {
        S3Server.Run r = S3.sparkmerge(cmd, config(localDirs), localOut);
        assertEquals(0, r.code(), cmd + " local: " + r.err());
      }
      String s3Out = S3.uri("analysis/" + cmd);
      S3Server.Run r = S3.sparkmerge(cmd, config(s3Dirs), s3Out);
      assertEquals(0, r.code(), cmd + " on S3: " + r.err());
      assertSameTree(localOut, s3Out);
      assertTrue(tree(s3, s3Out).keySet().stream().anyMatch(n -> n.endsWith(".parquet/part")), cmd + " wrote Parquet on S3");
    }
  }

  @Test
  void reportReadsAnS3OutputAsItReadsALocalOne() throws IOException {
    String localOut = localStats;
    String s3Out = S3.uri("analysis/report-stats");
    FileUtil.copy(Checkpoints.localFs(), new org.apache.hadoop.fs.Path(localOut), s3, new org.apache.hadoop.fs.Path(s3Out), false,
        s3.getConf());
    Path fromLocal = local.resolve("local.html");
    Path fromS3 = local.resolve("s3.html");
    S3Server.Run r = S3.sparkmerge("report", localOut, fromLocal.toString());
    assertEquals(0, r.code(), r.err());
    r = S3.sparkmerge("report", s3Out, fromS3.toString());
    assertEquals(0, r.code(), r.err());
    String a = Files.readString(fromLocal, StandardCharsets.UTF_8).replace(localOut, "DIR");
    String b = Files.readString(fromS3, StandardCharsets.UTF_8).replace(s3Out, "DIR");
    assertTrue(a.contains("<img"), "the report has plots");
    assertEquals(a, b, "the report of the S3 copy equals the local one's");
  }

  @Test
  void checkpointsWatchPollsAnS3PrefixAndMergesEachNewStepOnce() throws IOException {
    // three checkpoints of a "run" on S3 (the family's models stand in for them), a fourth one later
    String root = "run";
    for (int i = 0; i < 3; i++) {
      upload(localDirs.get(i), root + "/checkpoint-" + (i + 1) * 1000);
    }
    String out = S3.uri("wsm");
    S3Server.Run r = S3.sparkmerge("checkpoints", S3.uri(root), out, "--window", "2", "--schedule", "1-sqrt", "--watch",
        "--poll-interval", "0.2", "--max-polls", "2");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("merged steps [3000]"), r.out());
    assertEquals("step-3000", read(out + "/latest"));

    upload(localDirs.get(0), root + "/checkpoint-4000");
    r = S3.sparkmerge("checkpoints", S3.uri(root), out, "--window", "2", "--schedule", "1-sqrt", "--watch",
        "--poll-interval", "0.2", "--max-polls", "2");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("merged steps [4000]"), "the second watcher merges only the new step: " + r.out());
    assertEquals("step-4000", read(out + "/latest"));
    assertTrue(s3.exists(new org.apache.hadoop.fs.Path(out + "/step-3000/_SUCCESS")));

    // the same window merged from local disk gives the same tensors
    Path localRoot = local.resolve("run");
    Files.createDirectories(localRoot);
    FileUtil.copy(Checkpoints.localFs(), new org.apache.hadoop.fs.Path(localDirs.get(2)), Checkpoints.localFs(),
        new org.apache.hadoop.fs.Path(localRoot.resolve("checkpoint-3000").toString()), false, s3.getConf());
    FileUtil.copy(Checkpoints.localFs(), new org.apache.hadoop.fs.Path(localDirs.get(0)), Checkpoints.localFs(),
        new org.apache.hadoop.fs.Path(localRoot.resolve("checkpoint-4000").toString()), false, s3.getConf());
    String localOut = local.resolve("wsm-local").toString();
    r = S3.sparkmerge("checkpoints", localRoot.toString(), localOut, "--window", "2", "--schedule", "1-sqrt", "--once");
    assertEquals(0, r.code(), r.err());
    Map<String, byte[]> a = Checkpoints.rawBytes(Checkpoints.localFs(), localOut + "/step-4000");
    Map<String, byte[]> b = Checkpoints.rawBytes(s3, out + "/step-4000");
    assertEquals(a.keySet(), b.keySet());
    for (String t : a.keySet()) {
      assertArrayEquals(a.get(t), b.get(t), t);
    }
  }

  static String read(String file) throws IOException {
    try (InputStream in = s3.open(new org.apache.hadoop.fs.Path(file))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
    }
  }
}
