package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import io.sparkmerge.testing.Checkpoints;
import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sparkmerge batch}: many command lines in one JVM, each as if run alone. */
class BatchCommandTest {
  @TempDir static Path family;
  @TempDir Path work;
  static List<org.apache.hadoop.fs.Path> dirs;

  @BeforeAll
  static void generate() throws IOException {
    dirs = Checkpoints.tinyFamily(family, 5, 2);
  }

  @Test
  void parsesQuotesCommentsAndAnOptionalLeadingSparkmerge() {
    List<BatchCommand.Line> lines = BatchCommand.parse("f", """
        # a comment
        merge 'a b.yml' "/out dir" --overwrite   # trailing comment

        sparkmerge inspect x#y
        """);
    assertEquals(2, lines.size());
    assertEquals(new BatchCommand.Line(2, List.of("merge", "a b.yml", "/out dir", "--overwrite")), lines.get(0));
    assertEquals(new BatchCommand.Line(4, List.of("inspect", "x#y")), lines.get(1));
    ConfigException q = assertThrows(ConfigException.class, () -> BatchCommand.parse("f", "merge 'a.yml out\n"));
    assertTrue(q.getMessage().contains("f line 1: unbalanced ' quote"), q.getMessage());
    ConfigException nested = assertThrows(ConfigException.class, () -> BatchCommand.parse("f", "\nbatch other.txt\n"));
    assertTrue(nested.getMessage().contains("line 2"), nested.getMessage());
    assertThrows(ConfigException.class, () -> BatchCommand.parse("f", "# nothing\n\n"));
  }

  @Test
  void runsLinesInOrderStopsAtTheFirstFailureUnlessKeepGoingAndMatchesSeparateRuns() throws IOException {
    Path good = work.resolve("linear.yml");
    Files.writeString(good, "merge_method: linear\nmodels:\n  - model: " + dirs.get(1) + "\n    parameters: {weight: 0.3}\n"
        + "  - model: " + dirs.get(2) + "\n    parameters: {weight: 0.7}\n");
    Path bad = work.resolve("bad.yml");
    Files.writeString(bad, "merge_method: linear\nmodles: []\n");
    Path file = work.resolve("batch.txt");
    Files.writeString(file, String.join("\n",
        "merge " + good + " " + work.resolve("first") + " --master local[1]",
        "merge " + bad + " " + work.resolve("never"),
        "merge " + good + " " + work.resolve("third") + " --master local[2]", ""));

    MainTest.Run stop = MainTest.run("batch", file.toString());
    assertEquals(2, stop.code(), "the failing line's exit code: " + stop.err());
    assertTrue(Files.exists(work.resolve("first/_SUCCESS")));
    assertFalse(Files.exists(work.resolve("third")), "lines after a failure do not run");

    MainTest.Run keep = MainTest.run("batch", file.toString(), "--keep-going");
    assertEquals(4, keep.code(), "line 1 now finds its output present (exit 4) and is the first failure: " + keep.err());
    assertTrue(Files.exists(work.resolve("third/_SUCCESS")), "--keep-going runs the lines after a failure");

    MainTest.Run alone = MainTest.run("merge", good.toString(), work.resolve("alone").toString(), "--master", "local[2]");
    assertEquals(0, alone.code(), alone.err());
    Map<String, byte[]> a = Checkpoints.rawBytes(work.resolve("alone").toString());
    for (String out : new String[] {"first", "third"}) {
      Map<String, byte[]> b = Checkpoints.rawBytes(work.resolve(out).toString());
      assertEquals(a.keySet(), b.keySet());
      for (String n : a.keySet()) {
        assertArrayEquals(a.get(n), b.get(n), out + ": " + n + " differs from a separate merge");
      }
    }
  }

  @Test
  void streamRunsEachLineAsItArrivesAndAMalformedLineFailsAsThatLine() throws Exception {
    Path good = work.resolve("linear.yml");
    Files.writeString(good, "merge_method: linear\nmodels:\n  - model: " + dirs.get(1) + "\n    parameters: {weight: 0.3}\n"
        + "  - model: " + dirs.get(2) + "\n    parameters: {weight: 0.7}\n");
    PipedOutputStream feed = new PipedOutputStream();
    InputStream saved = System.in;
    System.setIn(new PipedInputStream(feed));
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<MainTest.Run> batch = pool.submit(() -> MainTest.run("batch", "-", "--stream", "--keep-going"));
      feed.write(("merge " + good + " " + work.resolve("s1") + " --master local[1]\n").getBytes(StandardCharsets.UTF_8));
      feed.flush();
      // the first line runs while the input is still open: a batch that reads everything first never gets here
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (!Files.exists(work.resolve("s1/_SUCCESS"))) {
        assertTrue(System.nanoTime() < deadline, "line 1 did not run before the input ended");
        Thread.sleep(50);
      }
      feed.write(("merge 'unbalanced\n\n# a comment\nmerge " + good + " " + work.resolve("s2") + " --master local[2]\n")
          .getBytes(StandardCharsets.UTF_8));
      feed.close();
      MainTest.Run run = batch.get(120, TimeUnit.SECONDS);
      assertEquals(2, run.code(), "the malformed line fails as that line (exit 2), the first failure");
      assertTrue(Files.exists(work.resolve("s2/_SUCCESS")), "--keep-going runs the line after the malformed one");
      Map<String, byte[]> a = Checkpoints.rawBytes(work.resolve("s1").toString());
      Map<String, byte[]> b = Checkpoints.rawBytes(work.resolve("s2").toString());
      assertEquals(a.keySet(), b.keySet());
      for (String n : a.keySet()) {
        assertArrayEquals(a.get(n), b.get(n), n);
      }
    } finally {
      System.setIn(saved);
      pool.shutdownNow();
    }
  }
}
