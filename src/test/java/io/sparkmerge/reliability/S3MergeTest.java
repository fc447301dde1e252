package io.sparkmerge.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.job.MergeJob;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.S3Server;
import io.sparkmerge.testing.S3Server.Run;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Merges on S3 through S3A against a real S3 API server (S3Proxy on 127.0.0.1, {@link S3Server}):
 * inputs and OUT on S3, and mixed local/S3, through the CLI with the S3A settings as --conf; the
 * commit protocol and --resume on S3; `sparkmerge verify` on S3. Every output's tensors equal the
 * local-disk run's bit for bit.
 */
@Timeout(value = 900, unit = TimeUnit.SECONDS)
class S3MergeTest {
  @RegisterExtension static final S3Server S3 = new S3Server();
  @TempDir static Path local;
  static List<String> localDirs;
  static List<String> s3Dirs = new ArrayList<>();
  static String localOut;
  static FileSystem s3;


  @BeforeAll
  static void uploadAndMergeLocally() throws IOException {
    s3 = S3.fs();
    localDirs = Checkpoints.tinyFamily(local.resolve("family"), 23, 2).stream().map(org.apache.hadoop.fs.Path::toString).toList();
    for (String d : localDirs) {
      s3Dirs.add(S3.upload(d, "models/" + new org.apache.hadoop.fs.Path(d).getName()));
    }
    localOut = local.resolve("local-out").toString();
    assertEquals(0, cli("merge", config(localDirs), localOut, "--partitions", "3").code());
  }

  @AfterEach
  void clearFaults() {
    SparkTestSession.get().conf().unset("spark.sparkmerge.test.failPartition");
    SparkTestSession.get().conf().unset("spark.sparkmerge.test.failAttempts");
    SparkTestSession.get().conf().unset("spark.sparkmerge.test.slowPartition");
    SparkTestSession.get().conf().unset("spark.sparkmerge.test.slowMs");
  }

  static Run cli(String... args) {
    return S3.sparkmerge(args);
  }

  static String config(List<String> dirs) throws IOException {
    return config(local, HdfsMergeTest.TIES, dirs);
  }

  /** A config file in {@code dir}: the template with BASE, FT1, FT2 replaced by the given paths. */
  static String config(Path dir, String template, List<String> dirs) throws IOException {
    Path p = Files.createTempFile(dir, "config", ".yml");
    Files.writeString(p, template.replace("BASE", dirs.get(0)).replace("FT1", dirs.get(1)).replace("FT2", dirs.get(2)));
    return p.toString();
  }

  /** The shared test session, pointed at the S3 server (the API-level runs below use it directly). */
  static SparkSession session() {
    SparkSession spark = SparkTestSession.get();
    S3.applyTo(spark.sparkContext().hadoopConfiguration());
    return spark;
  }

  static List<String> names(FileSystem fs, String dir) throws IOException {
    return HdfsMergeTest.names(fs, dir);
  }


  static byte[] bytes(FileSystem fs, String file) throws IOException {
    try (InputStream in = fs.open(new org.apache.hadoop.fs.Path(file))) {
      return in.readAllBytes();
    }
  }

  /** Same files, the shards and the index byte for byte, every tensor bit for bit (manifests differ in run id and timings). */
  static void assertSameOutput(FileSystem fs, String out) throws IOException {
    FileSystem lfs = Checkpoints.localFs();
    assertEquals(names(lfs, localOut), names(fs, out), "same files as the local run");
    for (String n : names(lfs, localOut)) {
      if (n.endsWith(".safetensors") || n.endsWith(".index.json")) {
        assertArrayEquals(bytes(lfs, localOut + "/" + n), bytes(fs, out + "/" + n), n + " differs from the local run's");
      }
    }
    Map<String, byte[]> a = Checkpoints.rawBytes(lfs, localOut);
    Map<String, byte[]> b = Checkpoints.rawBytes(fs, out);
    assertEquals(a.keySet(), b.keySet());
    for (String t : a.keySet()) {
      assertArrayEquals(a.get(t), b.get(t), t);
    }
  }

  @Test
  void mergeWithInputsAndOutOnS3EqualsTheLocalRunAndVerifies() throws IOException {
    String out = S3.uri("out/ties");
    Run r = cli("merge", config(s3Dirs), out, "--partitions", "3");
    assertEquals(0, r.code(), r.err());
    assertSameOutput(s3, out);
    assertTrue(names(s3, out).contains("_SUCCESS"));
    assertEquals(List.of(), leftovers(out), "nothing but the released lock left in OUT's work directory");
    assertTrue(names(s3, workDir(out)).stream().anyMatch(n -> n.matches("lock-\\d+\\.released")), "the lock is released");

    Run v = cli("verify", out);
    assertEquals(0, v.code(), v.out() + v.err());
    assertTrue(v.out().startsWith(out + ": ok: "), v.out());

    // one flipped byte in a shard on S3: verify names it and exits 3
    String shard = out + "/model-00002-of-00003.safetensors";
    byte[] b = bytes(s3, shard);
    b[b.length - 3] ^= 0x01;
    try (OutputStream os = s3.create(new org.apache.hadoop.fs.Path(shard), true)) {
      os.write(b);
    }
    v = cli("verify", out);
    assertEquals(3, v.code(), v.out() + v.err());
    assertTrue(v.out().contains("model-00002-of-00003.safetensors: tensor ") && v.out().contains("SHA-256 differs"), v.out());
  }

  @Test
  void mixedLocalAndS3InputsAndOutputsEqualTheLocalRun() throws IOException {
    // base on local disk, fine-tunes on S3, OUT local
    String out1 = local.resolve("mixed-out").toString();
    Run r = cli("merge", config(List.of(localDirs.get(0), s3Dirs.get(1), s3Dirs.get(2))), out1, "--partitions", "3");
    assertEquals(0, r.code(), r.err());
    assertSameOutput(Checkpoints.localFs(), out1);
    // every input local, OUT on S3
    String out2 = S3.uri("out/from-local");
    r = cli("merge", config(localDirs), out2, "--partitions", "3");
    assertEquals(0, r.code(), r.err());
    assertSameOutput(s3, out2);
  }

  @Test
  void commitProtocolHoldsOnS3() throws IOException {
    List<String> dirs = s3Dirs;
    String fresh = S3.uri("out/never");
    SparkSession spark = session();
    spark.conf().set("spark.sparkmerge.test.failPartition", "1");
    spark.conf().set("spark.sparkmerge.test.failAttempts", "100");
    assertThrows(Exception.class, () -> run(dirs, fresh, true, false));
    assertFalse(s3.exists(new org.apache.hadoop.fs.Path(fresh)), "a failed run leaves no OUT on S3");
    assertEquals(List.of(), pendingUploads(fresh), "nor a pending upload");

    // an existing OUT survives a failed --overwrite run untouched
    String old = S3.uri("out/old");
    write(old + "/model.safetensors", "old model");
    write(old + "/_SUCCESS", "");
    assertThrows(Exception.class, () -> run(dirs, old, true, false));
    assertEquals("old model", new String(bytes(s3, old + "/model.safetensors"), StandardCharsets.UTF_8));
    assertEquals(List.of("_SUCCESS", "model.safetensors"), names(s3, old), "OUT untouched");
    assertEquals(List.of(), leftovers(old), "no run directory left behind");
    assertEquals(List.of(), pendingUploads(old), "no pending upload left behind");

    // a retried task (its first attempt fails after writing part of its shard) commits cleanly over the old OUT
    spark.conf().set("spark.sparkmerge.test.failAttempts", "1");
    run(dirs, old, true, false);
    assertSameOutput(s3, old);
    // a second run into an existing OUT without --overwrite: exit 4, nothing touched
    Run again = cli("merge", config(dirs), old, "--partitions", "3");
    assertEquals(4, again.code(), again.err());
    assertSameOutput(s3, old);
  }

  @Test
  void resumeOnS3ReusesVerifiedShardsAndEqualsTheLocalRun() throws IOException {
    String out = S3.uri("out/resumed");
    SparkSession spark = session();
    spark.conf().set("spark.sparkmerge.test.failPartition", "2");
    spark.conf().set("spark.sparkmerge.test.failAttempts", "100");
    assertThrows(Exception.class, () -> run(s3Dirs, out, false, true));
    List<String> runs = leftovers(out).stream().filter(n -> n.startsWith("run-")).toList();
    assertEquals(1, runs.size(), "the failed run is kept for --resume: " + leftovers(out));
    String staging = workDir(out) + "/" + runs.get(0) + "/scratch";
    List<String> kept = names(s3, staging).stream().filter(n -> n.endsWith(".safetensors.result")).toList();
    assertTrue(!kept.isEmpty() && kept.size() < 3, "the failed run kept its finished shards on S3: " + kept);
    assertEquals(kept.size(), pendingUploads(out).size(), "as pending uploads to their final keys: " + pendingUploads(out));
    assertFalse(s3.exists(new org.apache.hadoop.fs.Path(out)), "nothing visible at OUT");

    // a kept shard gets a fault: it must be reused, not computed again (or the job fails)
    int reusedPartition = Integer.parseInt(kept.get(0).substring("part-".length(), "part-".length() + 5));
    spark.conf().set("spark.sparkmerge.test.failPartition", String.valueOf(reusedPartition));
    String log = run(s3Dirs, out, false, true);
    assertTrue(log.contains("reusing " + kept.size() + " of 3 shards"), log);
    assertSameOutput(s3, out);
    assertEquals(List.of(), leftovers(out), "the run's directory gone after the publish");
    assertEquals(List.of(), pendingUploads(out), "every upload completed or aborted");
  }

  @Test
  void shardsGoStraightToTheirFinalKeysAsPendingUploadsWithNoStagedCopy() throws Exception {
    String out = S3.uri("out/direct");
    SparkSession spark = session();
    spark.conf().set("spark.sparkmerge.test.slowPartition", "0"); // holds its task 8 s after its shard is uploaded
    spark.conf().set("spark.sparkmerge.test.slowMs", "8000");
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      java.util.concurrent.Future<String> merge = pool.submit(() -> run(s3Dirs, out, false, false));
      org.apache.hadoop.fs.Path result = new org.apache.hadoop.fs.Path(workDir(out) + "/run-*/scratch/part-00000-attempt-0.safetensors.result");
      long deadline = System.currentTimeMillis() + 120_000;
      while (globCount(result) == 0 && !merge.isDone() && System.currentTimeMillis() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(1, globCount(result), "shard 0's task reported its upload while paused");
      List<String> staged = new ArrayList<>();
      var it = s3.listFiles(new org.apache.hadoop.fs.Path(workDir(out)), true);
      while (it.hasNext()) {
        staged.add(it.next().getPath().getName());
      }
      assertTrue(staged.stream().noneMatch(n -> n.endsWith(".safetensors")), "no shard bytes in the work directory: " + staged);
      assertFalse(s3.exists(new org.apache.hadoop.fs.Path(out + "/model-00001-of-00003.safetensors")), "not visible before the commit");
      assertTrue(pendingUploads(out).contains(key(out) + "/model-00001-of-00003.safetensors"), "pending at its final key: " + pendingUploads(out));
      merge.get();
    } finally {
      pool.shutdownNow();
    }
    assertSameOutput(s3, out);
    assertEquals(List.of(), pendingUploads(out));
    assertEquals(List.of(), leftovers(out));
    Run v = cli("verify", out);
    assertEquals(0, v.code(), v.out() + v.err());
  }

  @Test
  void anInputChangedUnderResumeIsNotReusedAndTheKeptUploadsAreAborted() throws IOException {
    String out = S3.uri("out/changed");
    List<String> inputs = new ArrayList<>();
    for (String d : localDirs) {
      inputs.add(S3.upload(d, "changing/" + new org.apache.hadoop.fs.Path(d).getName()));
    }
    SparkSession spark = session();
    spark.conf().set("spark.sparkmerge.test.failPartition", "2");
    spark.conf().set("spark.sparkmerge.test.failAttempts", "100");
    assertThrows(Exception.class, () -> run(inputs, out, false, true));
    assertFalse(pendingUploads(out).isEmpty(), "the failed --resume run kept its finished shards' uploads");
    // the first fine-tune's objects replaced by the second's: same tensors and shapes, other values
    s3.delete(new org.apache.hadoop.fs.Path(inputs.get(1)), true);
    S3.upload(localDirs.get(2), "changing/" + new org.apache.hadoop.fs.Path(localDirs.get(1)).getName());
    clearFaults();
    String log = run(inputs, out, false, true);
    assertFalse(log.contains("reusing"), "the changed input's plan differs: nothing reused\n" + log);
    assertEquals(List.of(), pendingUploads(out), "the dead run's uploads aborted, the new ones completed");
    String expected = local.resolve("changed-expected").toString();
    assertEquals(0, cli("merge", config(List.of(localDirs.get(0), localDirs.get(2), localDirs.get(2))), expected, "--partitions", "3").code());
    FileSystem lfs = Checkpoints.localFs();
    Map<String, byte[]> a = Checkpoints.rawBytes(lfs, expected);
    Map<String, byte[]> b = Checkpoints.rawBytes(s3, out);
    assertEquals(a.keySet(), b.keySet());
    a.forEach((t, v) -> assertArrayEquals(v, b.get(t), t));
  }

  @Test
  void aKilledDriverLeavesPendingUploadsThatRecoverAborts_andASecondWriterIsRefused() throws Exception {
    String out = S3.uri("out/killed");
    java.io.File log = local.resolve("killed-driver.log").toFile();
    List<String> args = new ArrayList<>(List.of("merge", config(s3Dirs), out, "--master", "local[2]", "--partitions", "3",
        "--conf", "spark.sparkmerge.test.slowPartition=1", "--conf", "spark.sparkmerge.test.slowMs=600000"));
    args.addAll(S3.confArgs());
    Process driver = io.sparkmerge.testing.ChildJvm.start("1g", "io.sparkmerge.cli.Main", args, log);
    org.apache.hadoop.fs.Path uploaded = new org.apache.hadoop.fs.Path(workDir(out) + "/run-*/scratch/part-00001-attempt-0.safetensors.result");
    long deadline = System.currentTimeMillis() + 600_000; // a child JVM on a loaded machine may take minutes to get there
    while (globCount(uploaded) == 0 && driver.isAlive() && System.currentTimeMillis() < deadline) {
      Thread.sleep(200);
    }
    io.sparkmerge.testing.ChildJvm.killWhenReady(driver, () -> {
      if (globCount(uploaded) == 0) {
        return false;
      }
      Run second = cli("merge", config(s3Dirs), out, "--partitions", "3"); // while the first holds OUT's lock
      assertEquals(4, second.code(), "a second writer is refused: " + second.err());
      return true;
    }, log);
    assertFalse(s3.exists(new org.apache.hadoop.fs.Path(out)), "nothing visible at OUT");
    assertFalse(pendingUploads(out).isEmpty(), "the killed run left pending uploads");
    Run r = cli("recover", out);
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("aborted "), r.out());
    assertEquals(List.of(), pendingUploads(out), "recover aborted them");
    Run again = cli("merge", config(s3Dirs), out, "--partitions", "3");
    assertEquals(0, again.code(), again.err());
    assertSameOutput(s3, out);
    assertEquals(List.of(), pendingUploads(out));
  }

  @Test
  void aDriverKilledMidCommitIsRolledForwardByRecover() throws Exception {
    String out = S3.uri("out/midcommit");
    write(out + "/model.safetensors", "old model");
    write(out + "/_SUCCESS", "");
    java.io.File log = local.resolve("midcommit-driver.log").toFile();
    List<String> args = new ArrayList<>(List.of("merge", config(s3Dirs), out, "--overwrite", "--master", "local[2]", "--partitions", "3",
        "--verbose", "--conf", io.sparkmerge.output.CommitStep.HALT_KEY + "=NEW_MOVED_IN"));
    args.addAll(S3.confArgs());
    Process driver = io.sparkmerge.testing.ChildJvm.start("1g", "io.sparkmerge.cli.Main", args, log);
    assertTrue(driver.waitFor(300, TimeUnit.SECONDS), "the driver halted itself");
    assertEquals(137, driver.exitValue(), Files.readString(log.toPath()));
    assertFalse(names(s3, out).contains("_SUCCESS"), "halted between the completions and _SUCCESS: " + names(s3, out));
    Run r = cli("recover", out);
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("finished an interrupted commit"), r.out());
    assertSameOutput(s3, out);
    assertTrue(names(s3, out).contains("_SUCCESS"));
    assertEquals(List.of(), pendingUploads(out));
    assertEquals(0, cli("verify", out).code());
  }

  /** The pending (not completed, not aborted) multipart uploads under OUT, by key. */
  static List<String> pendingUploads(String out) throws IOException {
    return ((org.apache.hadoop.fs.s3a.S3AFileSystem) s3).listMultipartUploads(key(out) + "/").stream()
        .map(software.amazon.awssdk.services.s3.model.MultipartUpload::key).sorted().toList();
  }

  /** The object key of an s3a:// URI of this bucket. */
  static String key(String uri) {
    return new org.apache.hadoop.fs.Path(uri).toUri().getPath().substring(1);
  }

  static int globCount(org.apache.hadoop.fs.Path glob) throws IOException {
    org.apache.hadoop.fs.FileStatus[] st = s3.globStatus(glob);
    return st == null ? 0 : st.length;
  }

  /** OUT's work directory on S3 (lock generations, runs): the hidden sibling {@code .<name>.sparkmerge}. */
  static String workDir(String out) {
    int slash = out.lastIndexOf('/');
    return out.substring(0, slash + 1) + "." + out.substring(slash + 1) + ".sparkmerge";
  }

  /** What OUT's work directory holds besides lock generations (run directories, a journal, an old output). */
  static List<String> leftovers(String out) throws IOException {
    org.apache.hadoop.fs.Path w = new org.apache.hadoop.fs.Path(workDir(out));
    return s3.exists(w) ? names(s3, workDir(out)).stream().filter(n -> !n.startsWith("lock-")).toList() : List.of();
  }

  /** The merge through the job API on the shared session (its console captured); returns the console text. */
  static String run(List<String> dirs, String out, boolean overwrite, boolean resume) throws IOException {
    MergeConfig cfg = ConfigLoader.parse(Files.readString(Path.of(config(dirs))), "s3.yml");
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    MergeJob.run(session(), cfg, new MergeJob.Options(out, overwrite, 3, new PrintStream(console, true, StandardCharsets.UTF_8), resume));
    return console.toString(StandardCharsets.UTF_8);
  }

  static void write(String path, String text) throws IOException {
    try (OutputStream os = s3.create(new org.apache.hadoop.fs.Path(path), true)) {
      os.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }
}
