package io.sparkmerge.testing;

import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.Pointer;

/**
 * Runs {@code io.sparkmerge.cli.Main} with a sampler beside it that records the peaks of JavaCPP's
 * off-heap total (ND4J's buffers: {@link Pointer#totalBytes}), of the process's resident set
 * ({@link Pointer#physicalBytes}: also LAPACK's own workspace, the heap, the code) and of the used heap,
 * every 2 ms, and prints them as one line {@code PEAK offheap=… rss=… heap=…} (bytes) at exit. A child
 * JVM's memory figure for the tests and for docs/benchmarks.md; a peak shorter than 2 ms can be missed.
 */
public final class PeakMemory {
  public static final String PREFIX = "PEAK ";
  private static final AtomicLong OFF_HEAP = new AtomicLong();
  private static final AtomicLong RSS = new AtomicLong();
  private static final AtomicLong HEAP = new AtomicLong();

  private PeakMemory() {}

  public static void main(String[] args) {
    Thread sampler = new Thread(() -> {
      Runtime rt = Runtime.getRuntime();
      while (true) {
        OFF_HEAP.accumulateAndGet(Pointer.totalBytes(), Math::max);
        RSS.accumulateAndGet(Pointer.physicalBytes(), Math::max);
        HEAP.accumulateAndGet(rt.totalMemory() - rt.freeMemory(), Math::max);
        try {
          Thread.sleep(2);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "peak-memory");
    sampler.setDaemon(true);
    sampler.start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> System.err.println(
        PREFIX + "offheap=" + OFF_HEAP.get() + " rss=" + RSS.get() + " heap=" + HEAP.get())));
    io.sparkmerge.cli.Main.main(args);
  }

  /** The value of {@code key} (offheap, rss, heap) on the PEAK line of a child's log, or -1. */
  public static long parse(String log, String key) {
    int at = log.lastIndexOf(PREFIX);
    if (at < 0) {
      return -1;
    }
    for (String kv : log.substring(at + PREFIX.length()).split("\\s+")) {
      if (kv.startsWith(key + "=")) {
        return Long.parseLong(kv.substring(key.length() + 1));
      }
    }
    return -1;
  }
}
