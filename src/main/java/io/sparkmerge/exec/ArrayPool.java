package io.sparkmerge.exec;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reuses the off-heap buffers of a task's decoded chunks. Allocating a fresh buffer for every chunk
 * of every input costs a page fault per 4 KiB (the allocator maps large blocks fresh and the kernel
 * zeroes them): measured on the 1b family, 5 M minor faults and ~25 s of system CPU for a linear merge
 * that reads 7.6 GB. Buffers are kept by (dtype, length), least recently used evicted first, up to
 * {@code limitBytes} together with the buffers handed out; the pool owns what it holds and frees it
 * on {@link #close}. Not thread-safe: one per task.
 */
public final class ArrayPool implements AutoCloseable {
  private record Key(DataType type, long length) {}

  private final long limitBytes;
  private final Map<Key, ArrayDeque<DataBuffer>> free = new LinkedHashMap<>(16, 0.75f, true);
  // what the pool holds, by identity: a buffer handed back twice (a method returned an input as its
  // output) must not be handed out twice
  private final java.util.Set<DataBuffer> held = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
  // buffers handed out and not yet back: a new buffer first evicts pooled ones so that pooled + out
  // + new stays within the limit, which keeps the task's peak at about one chunk set, as without a pool
  private final java.util.Set<DataBuffer> out = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
  private long retainedBytes;
  private long outBytes;

  ArrayPool(long limitBytes) {
    this.limitBytes = limitBytes;
  }

  /** A c-order {@code [rows, cols]} array with undefined contents; give it back with {@link #release}. */
  INDArray take(DataType type, long rows, long cols) {
    if (limitBytes <= 0) { // no pool: nothing to track
      return Nd4j.createUninitialized(type, rows, cols);
    }
    ArrayDeque<DataBuffer> q = free.get(new Key(type, rows * cols));
    DataBuffer b = q == null ? null : q.pollLast();
    if (b == null) {
      evict(limitBytes - outBytes - rows * cols * (type == DataType.DOUBLE ? 8 : 4));
      INDArray a = Nd4j.createUninitialized(type, rows, cols);
      lend(a.data());
      return a;
    }
    held.remove(b);
    retainedBytes -= bytes(b);
    lend(b);
    return Nd4j.create(b, new long[] {rows, cols}, new long[] {cols, 1}, 0, 'c', type);
  }

  private void lend(DataBuffer b) {
    if (out.add(b)) {
      outBytes += bytes(b);
    }
  }

  /**
   * Takes ownership of a whose caller is done with it: its buffer is kept for reuse when a is a whole
   * contiguous buffer and there is room, else freed now.
   */
  void release(INDArray a) {
    if (a == null || a.wasClosed()) {
      return;
    }
    DataBuffer b = a.data();
    if (held.contains(b)) {
      return;
    }
    boolean whole = !a.isView() && a.offset() == 0 && a.ordering() == 'c' && b.length() == a.length()
        && (a.dataType() == DataType.FLOAT || a.dataType() == DataType.DOUBLE);
    if (whole && out.remove(b)) {
      outBytes -= bytes(b);
    }
    if (!whole || bytes(b) > limitBytes) {
      if (a.closeable()) { // a view is not: its buffer belongs to the array it views
        a.close();
      }
      return;
    }
    free.computeIfAbsent(new Key(a.dataType(), b.length()), k -> new ArrayDeque<>()).addLast(b);
    held.add(b);
    retainedBytes += bytes(b);
    evict(limitBytes);
  }

  long retainedBytes() {
    return retainedBytes;
  }

  /** Frees pooled buffers, least recently used shape first, until at most {@code keep} bytes are held. */
  private void evict(long keep) {
    Iterator<ArrayDeque<DataBuffer>> it = free.values().iterator();
    while (retainedBytes > keep && it.hasNext()) {
      ArrayDeque<DataBuffer> q = it.next();
      while (retainedBytes > keep && !q.isEmpty()) {
        DataBuffer b = q.pollFirst();
        held.remove(b);
        retainedBytes -= bytes(b);
        b.close();
      }
      if (q.isEmpty()) {
        it.remove();
      }
    }
  }

  private static long bytes(DataBuffer b) {
    return b.length() * b.getElementSize();
  }

  @Override
  public void close() {
    for (ArrayDeque<DataBuffer> q : free.values()) {
      for (DataBuffer b : q) {
        b.close();
      }
    }
    free.clear();
    held.clear();
    out.clear();
    outBytes = 0;
    retainedBytes = 0;
  }
}
