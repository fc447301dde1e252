package io.sparkmerge.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.cli.Main;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.Configs;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Spark standalone cluster: {@code jobs/local-cluster.sh} starts a master and two workers as
 * separate JVMs (the master and worker-1 on 127.0.0.1, worker-2 on 127.0.0.2); the merge is submitted
 * with the shaded jar through SparkSubmit in a child JVM (client mode), and its tensors must equal the
 * local[2] run's bit for bit — also with a worker (and its executor) killed after the first task
 * finished, and with a straggler overtaken by a speculative copy.
 * Runs in {@code mvn verify} (failsafe), after the shaded jar is packaged.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 400, unit = TimeUnit.SECONDS)
class StandaloneClusterIT {
  static final Path PROJECT = Path.of("").toAbsolutePath();
  static final Path CLUSTER = PROJECT.resolve("target/it-cluster");
  static final int PARTITIONS = 4;
  @TempDir static Path work;
  static String master;
  static Path config;
  static Path reference;

  @BeforeAll
  static void startClusterAndMergeLocally() throws Exception {
    List<org.apache.hadoop.fs.Path> dirs = Checkpoints.tinyFamily(work.resolve("models"), 13, 2);
    config = work.resolve("ties.yml");
    Files.writeString(config, Configs.withPaths(Configs.twoFineTunes("dare_ties", 0.6, 0.5, 0.4, 0.7, 23), dirs));
    reference = work.resolve("local");
    int code = Main.execute(new String[] {"merge", config.toString(), reference.toString(), "--master", "local[2]",
        "--partitions", String.valueOf(PARTITIONS)}, new PrintStream(new ByteArrayOutputStream()), System.err);
    assertEquals(0, code, "local[2] reference run");

    ProcessBuilder pb = new ProcessBuilder("bash", PROJECT.resolve("jobs/local-cluster.sh").toString(), "start", CLUSTER.toString())
        .redirectErrorStream(true);
    // distinct hosts as Spark sees them: a speculative copy never runs on a host that ran the task already
    pb.environment().put("WORKER_HOSTS", "127.0.0.1 127.0.0.2");
    Process p = pb.start();
    assertTrue(p.waitFor(200, TimeUnit.SECONDS), "cluster start within 200 s");
    String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertEquals(0, p.exitValue(), printed);
    // the URL is the script's one line on stdout; anything else (a tool's escape codes) must not hide it
    java.util.regex.Matcher url = java.util.regex.Pattern.compile("spark://127\\.0\\.0\\.1:[0-9]+").matcher(printed);
    assertTrue(url.find(), "the script printed the master URL: " + printed);
    master = url.group();
  }

  @AfterAll
  static void stopCluster() throws Exception {
    Process p = new ProcessBuilder("bash", PROJECT.resolve("jobs/local-cluster.sh").toString(), "stop", CLUSTER.toString())
        .inheritIO().start();
    p.waitFor(60, TimeUnit.SECONDS);
  }

  static Path shadedJar() throws IOException {
    try (Stream<Path> s = Files.list(PROJECT.resolve("target"))) {
      return s.filter(p -> p.getFileName().toString().matches("sparkmerge-[0-9.]+(-SNAPSHOT)?\\.jar")).findFirst()
          .orElseThrow(() -> new IllegalStateException("no shaded jar in target/: run mvn package first"));
    }
  }

  /** spark-submit (SparkSubmit in a child JVM on Spark's classpath, without our classes) of a merge. */
  static Process submit(Path out, File log, String... confs) throws IOException {
    List<String> args = new ArrayList<>(List.of("--master", master, "--deploy-mode", "client", "--class", "io.sparkmerge.cli.Main",
        "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
        "--conf", "spark.executor.memory=640m", "--conf", "spark.ui.enabled=false", "--conf", "spark.task.maxFailures=4"));
    for (String c : confs) {
      args.add("--conf");
      args.add(c);
    }
    args.add(shadedJar().toString());
    args.addAll(List.of("merge", config.toString(), out.toString(), "--partitions", String.valueOf(PARTITIONS)));
    List<String> cmd = new ArrayList<>();
    cmd.add(System.getProperty("java.home") + "/bin/java");
    for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-") || a.startsWith("-XX:+IgnoreUnrecognizedVMOptions") || a.startsWith("-Djdk.reflect")
          || a.startsWith("-Dio.netty")) {
        cmd.add(a);
      }
    }
    cmd.addAll(List.of("-Xmx1g", "-cp", Files.readString(PROJECT.resolve("target/classpath.txt")).strip(),
        "org.apache.spark.deploy.SparkSubmit"));
    cmd.addAll(args);
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log).start();
  }

  static void finish(Process p, File log, int seconds) throws Exception {
    boolean done = p.waitFor(seconds, TimeUnit.SECONDS);
    if (!done) {
      p.destroyForcibly();
    }
    assertTrue(done, "the submitted merge finished within " + seconds + " s: " + Files.readString(log.toPath()));
    assertEquals(0, p.exitValue(), Files.readString(log.toPath()));
  }

  static List<String> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.equals("sparkmerge.json") && !n.equals("README.md")).sorted().toList();
    }
  }

  /** Same files (no duplicate or missing shard, nothing left in staging) and bitwise-equal tensors. */
  static void assertSameAsLocal(Path out) throws IOException {
    assertEquals(files(reference), files(out), "the cluster wrote the same files as local[2]");
    Map<String, byte[]> a = Checkpoints.rawBytes(reference.toString());
    Map<String, byte[]> b = Checkpoints.rawBytes(out.toString());
    assertEquals(a.keySet(), b.keySet());
    for (String n : a.keySet()) {
      assertArrayEquals(a.get(n), b.get(n), n + " differs between the cluster and local[2]");
    }
  }

  @Test
  @Order(1)
  void mergeOnTheClusterEqualsLocal() throws Exception {
    Path out = work.resolve("cluster");
    File log = work.resolve("cluster.log").toFile();
    finish(submit(out, log), log, 300);
    assertSameAsLocal(out);
  }

  /**
   * A straggler is overtaken by a speculative copy on the other worker: partition 0's first attempt
   * pauses for {@code slowMs} after writing its shard, so a job that finishes in less than that
   * finished with the speculative attempt's shard; the files and tensors equal the local run's (one
   * shard per partition, nothing left in staging).
   */
  @Test
  @Order(2)
  void aSpeculativeCopyOvertakesAStragglerWithTheSameResult() throws Exception {
    Path out = work.resolve("speculation");
    File log = work.resolve("speculation.log").toFile();
    long slowMs = 180_000;
    finish(submit(out, log, "spark.speculation=true", "spark.speculation.interval=100ms", "spark.speculation.quantile=0.25",
        "spark.speculation.multiplier=1.1", "spark.speculation.minTaskRuntime=200ms", "spark.sparkmerge.test.slowPartition=0",
        "spark.sparkmerge.test.slowMs=" + slowMs), log, 300);
    // The merge stage's own time, as the driver reports it: JVM and executor start-up on a loaded
    // machine can take minutes and say nothing about whether the straggler was waited for.
    String text = Files.readString(log.toPath());
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("timings \\{[^}]*merge=(\\d+)").matcher(text);
    assertTrue(m.find(), "no timings line in the driver's log: " + text);
    long mergeMs = Long.parseLong(m.group(1));
    assertTrue(mergeMs < slowMs, "the merge stage waited for the straggler (" + mergeMs + " ms): no speculative copy won; " + text);
    assertSameAsLocal(out);
  }

  @Test
  @Order(3)
  void aWorkerKilledAfterTheFirstTaskFinishedDoesNotChangeTheResult() throws Exception {
    Path out = work.resolve("killed-worker");
    File log = work.resolve("killed-worker.log").toFile();
    // partition 3's first attempt lingers, so the job is still running when the worker dies
    Process driver = submit(out, log, "spark.sparkmerge.test.slowPartition=3", "spark.sparkmerge.test.slowMs=15000");
    long deadline = System.currentTimeMillis() + 240_000;
    while (!firstTaskFinished(out) && driver.isAlive() && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    assertTrue(firstTaskFinished(out), "a task finished within the time limit: " + Files.readString(log.toPath()));
    long pid = Long.parseLong(Files.readString(CLUSTER.resolve("worker-1.pid")).strip());
    ProcessHandle worker = ProcessHandle.of(pid).orElseThrow();
    worker.descendants().forEach(ProcessHandle::destroyForcibly); // its executor
    worker.destroyForcibly();
    worker.onExit().get(30, TimeUnit.SECONDS);
    finish(driver, log, 300);
    assertSameAsLocal(out);
  }

  private static boolean firstTaskFinished(Path out) throws IOException {
    try {
      for (Path run : io.sparkmerge.testing.WorkDirs.runs(out)) {
        try (Stream<Path> f = Files.list(run.resolve("scratch"))) {
          if (f.anyMatch(p -> p.getFileName().toString().endsWith(".result"))) {
            return true;
          }
        }
      }
    } catch (java.nio.file.NoSuchFileException e) {
      return false;
    }
    return false;
  }
}
