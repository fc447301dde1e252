package io.sparkmerge.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.OutputExistsException;
import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.job.MergeJob;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.Configs;
import io.sparkmerge.testing.ChildJvm;
import io.sparkmerge.testing.SparkTestSession;
import io.sparkmerge.testing.WorkDirs;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two runs into one OUT, and a driver killed mid-job: OUT's lock lets exactly one writer in, and a
 * killed run leaves OUT as it was, with stale staging the next run removes.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ConcurrencyAndKillTest {
  @TempDir static Path family;
  @TempDir Path work;
  static List<org.apache.hadoop.fs.Path> dirs;
  static Path config;

  static final String TIES = Configs.twoFineTunes("ties", 0.7, 0.4, 0.5, 0.6, 3);

  @BeforeAll
  static void generate() throws IOException {
    dirs = Checkpoints.tinyFamily(family.resolve("models"), 5, 2);
    config = family.resolve("ties.yml");
    Files.writeString(config, Configs.withPaths(TIES, dirs));
  }

  @AfterEach
  void clearFaults() {
    SparkTestSession.get().conf().unset("spark.sparkmerge.test.slowPartition");
    SparkTestSession.get().conf().unset("spark.sparkmerge.test.slowMs");
  }

  static MergeConfig cfg() throws IOException {
    return ConfigLoader.parse(Files.readString(config), config.toString());
  }

  static void run(String out, boolean overwrite) throws IOException {
    MergeJob.run(SparkTestSession.get(), cfg(), new MergeJob.Options(out, overwrite, 2, new PrintStream(new ByteArrayOutputStream())));
  }

  static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** Every file directly in OUT (not in staging) with its bytes. */
  static Map<String, byte[]> snapshot(Path dir) throws IOException {
    Map<String, byte[]> m = new TreeMap<>();
    for (String n : names(dir)) {
      if (Files.isRegularFile(dir.resolve(n))) {
        m.put(n, Files.readAllBytes(dir.resolve(n)));
      }
    }
    return m;
  }

  static void assertSameTensors(Path expected, Path got) throws IOException {
    Map<String, byte[]> a = Checkpoints.rawBytes(expected.toString());
    Map<String, byte[]> b = Checkpoints.rawBytes(got.toString());
    assertEquals(a.keySet(), b.keySet());
    for (String n : a.keySet()) {
      assertArrayEquals(a.get(n), b.get(n), n);
    }
  }

  static void assertClean(Path out) throws IOException {
    List<String> files = names(out);
    assertTrue(files.contains("_SUCCESS"), files.toString());
    assertTrue(files.stream().noneMatch(f -> f.contains("attempt") || f.startsWith(".")), "only the output in OUT: " + files);
    assertEquals(List.of(), WorkDirs.leftovers(out), "no staging left");
    assertFalse(WorkDirs.locked(out), "the lock is released");
  }

  @Test
  void twoMergesIntoOneOutAtOnce() throws Exception {
    Path ref = work.resolve("ref");
    run(ref.toString(), false);
    // a straggler keeps the first run inside its lock long enough for the second to collide with it
    SparkTestSession.get().conf().set("spark.sparkmerge.test.slowPartition", "0");
    SparkTestSession.get().conf().set("spark.sparkmerge.test.slowMs", "1500");
    Path out = work.resolve("out");
    CountDownLatch go = new CountDownLatch(1);
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Thread> threads = new ArrayList<>();
    int[] successes = {0};
    for (int i = 0; i < 2; i++) {
      Thread t = new Thread(() -> {
        try {
          go.await();
          run(out.toString(), false);
          synchronized (successes) {
            successes[0]++;
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      });
      t.start();
      threads.add(t);
    }
    go.countDown();
    for (Thread t : threads) {
      t.join(120_000);
    }
    assertEquals(1, successes[0], "exactly one run wins: " + failures);
    assertEquals(1, failures.size());
    OutputExistsException e = assertInstanceOf(OutputExistsException.class, failures.get(0));
    assertEquals(4, e.exitCode());
    assertClean(out);
    assertSameTensors(ref, out);

    // a run that arrives while another holds OUT's lock is told who holds it
    Path out2 = work.resolve("out2");
    Thread first = new Thread(() -> {
      try {
        run(out2.toString(), false);
      } catch (IOException ex) {
        failures.add(ex);
      }
    });
    first.start();
    long deadline = System.currentTimeMillis() + 60_000;
    while (!WorkDirs.locked(out2) && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
    }
    OutputExistsException locked = assertThrows(OutputExistsException.class, () -> run(out2.toString(), true));
    assertTrue(locked.getMessage().contains("being written by another sparkmerge run"), locked.getMessage());
    first.join(120_000);
    assertClean(out2);
    assertSameTensors(ref, out2);
  }

  @Test
  void driverKilledMidJobLeavesOutUnchangedAndTheNextRunSucceeds() throws Exception {
    Path ref = work.resolve("ref");
    run(ref.toString(), false);
    // OUT holds an earlier model; the killed run was replacing it (--overwrite)
    Path out = work.resolve("out");
    Files.createDirectories(out);
    Files.writeString(out.resolve("model.safetensors"), "the earlier model");
    Files.writeString(out.resolve("_SUCCESS"), "");
    Map<String, byte[]> before = snapshot(out);

    File log = work.resolve("driver.log").toFile();
    Process driver = ChildJvm.start("1g", "io.sparkmerge.cli.Main", List.of("merge", config.toString(), out.toString(),
        "--overwrite", "--master", "local[2]", "--partitions", "2",
        "--conf", "spark.sparkmerge.test.slowPartition=1", "--conf", "spark.sparkmerge.test.slowMs=600000"), log);
    // once the slow task has written its shard into staging, kill the driver JVM
    ChildJvm.killWhenReady(driver, () -> stagedAttempt(out), log);
    assertEquals(before.keySet(), snapshot(out).keySet(), "OUT's files unchanged by the killed run");
    snapshot(out).forEach((n, b) -> assertArrayEquals(before.get(n), b, n + " unchanged"));
    assertEquals(1, WorkDirs.runs(out).size(), "the killed run left its staging beside OUT: " + WorkDirs.leftovers(out));
    assertTrue(WorkDirs.locked(out), "and its lock");

    run(out.toString(), true); // the dead driver's lock is stale: taken over at once
    assertClean(out);
    assertFalse(names(out).contains("model.safetensors"),
        "the earlier model was replaced: " + names(out));
    assertSameTensors(ref, out);
  }

  private static boolean stagedAttempt(Path out) throws IOException {
    for (Path run : WorkDirs.runs(out)) {
      if (Files.exists(run.resolve("scratch/part-00001-attempt-0.safetensors"))) {
        return true;
      }
    }
    return false;
  }
}
