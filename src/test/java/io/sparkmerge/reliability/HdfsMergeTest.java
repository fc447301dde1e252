package io.sparkmerge.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.output.CommitStep;
import io.sparkmerge.output.OutputLifecycle;
import io.sparkmerge.output.Publisher;
import io.sparkmerge.output.ShardReuse;
import io.sparkmerge.job.MergeJob;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.Configs;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inputs and outputs on a real HDFS: an in-process MiniDFSCluster (one NameNode, one DataNode on
 * 127.0.0.1). A merge reads three models from hdfs:// and commits to hdfs://; the result equals the
 * local-disk run bit for bit, and the commit protocol holds on HDFS's rename semantics (rename never
 * replaces an existing file; a failed run leaves OUT as it was).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class HdfsMergeTest {
  @TempDir static Path local;
  static MiniDFSCluster cluster;
  static FileSystem hdfs;
  static String root;
  static List<org.apache.hadoop.fs.Path> localDirs;
  static List<String> hdfsDirs = new ArrayList<>();

  static final String TIES = Configs.twoFineTunes("ties", 0.7, 0.4, 0.5, 0.6, 11);

  @BeforeAll
  static void startHdfs() throws IOException {
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, local.resolve("dfs").toString());
    conf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
    conf.set("dfs.namenode.http-address", "127.0.0.1:0");
    conf.set("dfs.datanode.address", "127.0.0.1:0");
    conf.set("dfs.datanode.http.address", "127.0.0.1:0");
    conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
    cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
    cluster.waitActive();
    hdfs = cluster.getFileSystem();
    root = "hdfs://127.0.0.1:" + cluster.getNameNodePort();
    localDirs = Checkpoints.tinyFamily(local.resolve("family"), 21, 2);
    for (org.apache.hadoop.fs.Path d : localDirs) {
      org.apache.hadoop.fs.Path dst = new org.apache.hadoop.fs.Path(root + "/models/" + d.getName());
      FileUtil.copy(Checkpoints.localFs(), d, hdfs, dst, false, hdfs.getConf());
      hdfsDirs.add(dst.toString());
    }
  }

  @AfterAll
  static void stopHdfs() {
    if (cluster != null) {
      cluster.shutdown(true);
    }
  }

  @AfterEach
  void clearFaults() {
    SparkTestSession.get().conf().unset("spark.sparkmerge.test.failPartition");
    SparkTestSession.get().conf().unset("spark.sparkmerge.test.failAttempts");
  }

  static MergeConfig config(List<String> dirs) {
    return Configs.parse(TIES, dirs);
  }

  static void run(List<String> dirs, String out, boolean overwrite) throws IOException {
    MergeJob.run(SparkTestSession.get(), config(dirs), new MergeJob.Options(out, overwrite, 3, new PrintStream(new ByteArrayOutputStream())));
  }

  static List<String> names(FileSystem fs, String dir) throws IOException {
    List<String> l = new ArrayList<>();
    for (FileStatus st : fs.listStatus(new org.apache.hadoop.fs.Path(dir))) {
      l.add(st.getPath().getName());
    }
    l.sort(null);
    return l;
  }

  @Test
  void mergeFromHdfsToHdfsEqualsTheLocalRun() throws IOException {
    List<String> ld = localDirs.stream().map(org.apache.hadoop.fs.Path::toString).toList();
    String localOut = local.resolve("local-out").toString();
    run(ld, localOut, false);
    String hdfsOut = root + "/out/ties";
    run(hdfsDirs, hdfsOut, false);

    assertEquals(names(Checkpoints.localFs(), localOut), names(hdfs, hdfsOut), "same files");
    assertTrue(hdfs.exists(new org.apache.hadoop.fs.Path(hdfsOut, "_SUCCESS")));
    Map<String, byte[]> a = Checkpoints.rawBytes(Checkpoints.localFs(), localOut);
    Map<String, byte[]> b = Checkpoints.rawBytes(hdfs, hdfsOut);
    assertEquals(a.keySet(), b.keySet());
    for (String n : a.keySet()) {
      assertArrayEquals(a.get(n), b.get(n), n + ": HDFS and local runs differ");
    }
    // the index names the same shards in both
    assertEquals(read(Checkpoints.localFs(), localOut + "/model.safetensors.index.json"), read(hdfs, hdfsOut + "/model.safetensors.index.json"));
  }

  @Test
  void commitProtocolHoldsOnHdfs() throws IOException {
    String fresh = root + "/out/never";
    SparkTestSession.get().conf().set("spark.sparkmerge.test.failPartition", "1");
    SparkTestSession.get().conf().set("spark.sparkmerge.test.failAttempts", "100");
    assertThrows(Exception.class, () -> run(hdfsDirs, fresh, false));
    assertFalse(hdfs.exists(new org.apache.hadoop.fs.Path(fresh)), "a failed run leaves no OUT on HDFS");

    // an existing OUT survives a failed --overwrite run untouched
    String old = root + "/out/old";
    write(hdfs, old + "/model.safetensors", "old model");
    write(hdfs, old + "/_SUCCESS", "");
    assertThrows(Exception.class, () -> run(hdfsDirs, old, true));
    assertEquals("old model", read(hdfs, old + "/model.safetensors"));
    assertEquals(List.of("_SUCCESS", "model.safetensors"), names(hdfs, old), "no staging left behind");

    // a retried task (first attempt fails after writing part of its shard) commits cleanly over the old OUT
    SparkTestSession.get().conf().set("spark.sparkmerge.test.failAttempts", "1");
    run(hdfsDirs, old, true);
    List<String> files = names(hdfs, old);
    assertTrue(files.contains("_SUCCESS") && files.contains("sparkmerge.json") && files.contains("model.safetensors.index.json"), files.toString());
    assertTrue(files.stream().noneMatch(f -> f.startsWith("_staging") || f.contains("attempt")), files.toString());
    assertFalse(files.contains("model.safetensors"), "the old single-file model was replaced by the sharded one");
  }

  /** The publish killed between its renames on HDFS (rename semantics differ from a local disk): recovered whole. */
  @Test
  void anInterruptedPublishIsRecoveredOnHdfs() throws IOException {
    for (CommitStep step : List.of(CommitStep.JOURNAL_WRITTEN, CommitStep.OLD_MOVED_ASIDE, CommitStep.NEW_MOVED_IN)) {
      String out = root + "/pub/" + step;
      String work = root + "/pub/." + step + ".sparkmerge";
      write(hdfs, out + "/model.safetensors", "old");
      write(hdfs, out + "/_SUCCESS", "");
      write(hdfs, work + "/run-x/new/model.safetensors", "new");
      write(hdfs, work + "/run-x/new/_SUCCESS", "");
      Publisher p = Publisher.of(hdfs, hdfs.getConf(), new org.apache.hadoop.fs.Path(work));
      Publisher.Move m = new Publisher.Move(new org.apache.hadoop.fs.Path(work + "/run-x/new"), new org.apache.hadoop.fs.Path(out),
          new org.apache.hadoop.fs.Path(work + "/old-x"));
      assertThrows(IllegalStateException.class, () -> p.publish(List.of(m), s -> {
        if (s == step) {
          throw new IllegalStateException("killed at " + s);
        }
      }));
      OutputLifecycle.recover(hdfs.getConf(), out, OutputLifecycle.Settings.DEFAULT);
      assertEquals("new", read(hdfs, out + "/model.safetensors"), step.toString());
      assertEquals(List.of("_SUCCESS", "model.safetensors"), names(hdfs, out), step + ": the new output, not nested, nothing else");
      assertFalse(hdfs.exists(new org.apache.hadoop.fs.Path(work + "/old-x")), step.toString());
    }
  }

  /**
   * Issue 16, defect 5 on HDFS: the resume fingerprint holds the file system's checksum, so a data byte
   * changed with the length kept and the modification time put back still changes it.
   */
  @Test
  void theResumeFingerprintSeesChangedDataThroughTheHdfsChecksum() throws IOException {
    List<String> copies = new ArrayList<>();
    for (int i = 0; i < hdfsDirs.size(); i++) {
      String dst = root + "/fp/m" + i;
      org.apache.hadoop.fs.FileUtil.copy(hdfs, new org.apache.hadoop.fs.Path(hdfsDirs.get(i)), hdfs, new org.apache.hadoop.fs.Path(dst),
          false, hdfs.getConf());
      copies.add(dst);
    }
    Configuration conf = hdfs.getConf();
    String before = ShardReuse.fingerprint(MergeJob.plan(conf, config(copies), 3), conf);
    org.apache.hadoop.fs.Path f = new org.apache.hadoop.fs.Path(copies.get(1), "model.safetensors");
    long mtime = hdfs.getFileStatus(f).getModificationTime();
    byte[] b;
    try (var in = hdfs.open(f)) {
      b = in.readAllBytes();
    }
    b[b.length - 3] ^= 0x40;
    try (OutputStream os = hdfs.create(f, true)) {
      os.write(b);
    }
    hdfs.setTimes(f, mtime, -1);
    assertEquals(mtime, hdfs.getFileStatus(f).getModificationTime());
    String after = ShardReuse.fingerprint(MergeJob.plan(conf, config(copies), 3), conf);
    assertFalse(before.equals(after), "same length and modification time, different bytes: a different fingerprint");
  }

  static void write(FileSystem fs, String path, String text) throws IOException {
    try (OutputStream os = fs.create(new org.apache.hadoop.fs.Path(path), true)) {
      os.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }

  static String read(FileSystem fs, String path) throws IOException {
    try (var in = fs.open(new org.apache.hadoop.fs.Path(path))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
