package io.sparkmerge.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.OutputExistsException;
import io.sparkmerge.io.Storage;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lock of an output: a compare-and-swap on generations (issue 16, defect 4). */
class OutputLockTest {
  @TempDir Path tmp;

  static FileSystem fs() throws IOException {
    return FileSystem.get(URI.create("file:///"), Storage.configuration());
  }

  /** A lock generation left by a dead driver of this host (a pid that no longer runs). */
  static void deadLock(Path work, long generation) throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor(10, TimeUnit.SECONDS);
    Files.createDirectories(work);
    Files.writeString(work.resolve(String.format("lock-%010d", generation)),
        "runId=dead\nhost=" + OutputLock.hostName() + "\npid=" + p.pid() + "\n");
  }

  /** Eight runs take over one dead lock at the same instant: exactly one gets it, the others exit 4. */
  @RepeatedTest(5)
  void runsRacingForADeadLockTakeItOverExactlyOnce() throws Exception {
    Path work = tmp.resolve(".out.sparkmerge");
    deadLock(work, 7);
    int runs = 8;
    CyclicBarrier start = new CyclicBarrier(runs);
    List<OutputLock> winners = Collections.synchronizedList(new ArrayList<>());
    List<Throwable> losers = Collections.synchronizedList(new ArrayList<>());
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      String id = "run" + i;
      Thread t = new Thread(() -> {
        OutputLock l = new OutputLock(fsUnchecked(), new org.apache.hadoop.fs.Path(work.toUri()), "out", id, 60_000);
        try {
          start.await();
          l.acquire(() -> {});
          winners.add(l);
        } catch (Throwable e) {
          losers.add(e);
        }
      });
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join(30_000);
    }
    assertEquals(1, winners.size(), "exactly one run takes the dead lock over; failures: " + losers);
    assertEquals(runs - 1, losers.size());
    for (Throwable e : losers) {
      assertTrue(e instanceof OutputExistsException && ((OutputExistsException) e).exitCode() == 4, e.toString());
    }
    try (var s = Files.list(work)) {
      List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
      assertEquals(List.of("lock-0000000008"), names, "the winner holds generation 8, older ones are gone");
    }
    winners.get(0).close();
  }

  /** A run whose lock was taken over (it was silent longer than the timeout) learns it, stops, and may not publish. */
  @Test
  void aRunThatLosesItsLockIsToldAndCannotGoOn() throws Exception {
    Path work = tmp.resolve(".out.sparkmerge");
    OutputLock mine = new OutputLock(fs(), new org.apache.hadoop.fs.Path(work.toUri()), "out", "mine", 800);
    CountDownLatch lost = new CountDownLatch(1);
    mine.acquire(lost::countDown);
    mine.checkHeld();
    // another run, finding the lock silent, creates the next generation (what its acquire does)
    Files.writeString(work.resolve("lock-0000000002"), "runId=other\nhost=elsewhere\npid=1\n");
    assertTrue(lost.await(10, TimeUnit.SECONDS), "the heartbeat notices the takeover and stops the run's work");
    OutputExistsException e = assertThrows(OutputExistsException.class, mine::checkHeld);
    assertTrue(e.getMessage().contains("stopped") && e.getMessage().contains("nothing of this run was published"), e.getMessage());
    mine.close();
    assertTrue(Files.notExists(work.resolve("lock-0000000001.released")), "a lost lock is not marked released by its loser");
  }

  /** A live lock is refused with the holder named; a released one is taken by the next generation. */
  @Test
  void aLiveLockIsRefusedAndAReleasedOneIsTaken() throws Exception {
    Path work = tmp.resolve(".out.sparkmerge");
    org.apache.hadoop.fs.Path w = new org.apache.hadoop.fs.Path(work.toUri());
    OutputLock a = new OutputLock(fs(), w, "out", "a", 60_000);
    a.acquire(() -> {});
    OutputExistsException e = assertThrows(OutputExistsException.class, () -> new OutputLock(fs(), w, "out", "b", 60_000).acquire(() -> {}));
    assertTrue(e.getMessage().contains("run a, pid " + ProcessHandle.current().pid()), e.getMessage());
    a.close();
    assertTrue(Files.exists(work.resolve("lock-0000000001.released")));
    OutputLock b = new OutputLock(fs(), w, "out", "b", 60_000);
    b.acquire(() -> {});
    assertTrue(Files.exists(work.resolve("lock-0000000002")));
    b.close();
  }

  static FileSystem fsUnchecked() {
    try {
      return fs();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

}
