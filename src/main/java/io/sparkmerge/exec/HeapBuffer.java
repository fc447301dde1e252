package io.sparkmerge.exec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** One little-endian heap buffer reused for every read or write of a task, grown when a larger one is asked for. */
final class HeapBuffer {
  private ByteBuffer buffer;

  /** The buffer, cleared, with room for at least n bytes. */
  ByteBuffer get(int n) {
    if (buffer == null || buffer.capacity() < n) {
      buffer = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
    buffer.clear();
    return buffer;
  }
}
