package io.sparkmerge.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class ArrayPoolTest {
  @Test
  void aReleasedBufferIsReusedForTheSameLengthInAnyShape() {
    try (ArrayPool pool = new ArrayPool(1 << 20)) {
      INDArray a = pool.take(DataType.FLOAT, 4, 6);
      DataBuffer b = a.data();
      pool.release(a);
      assertEquals(96, pool.retainedBytes());
      INDArray c = pool.take(DataType.FLOAT, 6, 4);
      assertSame(b, c.data(), "same length, other shape: the same buffer");
      assertArrayEquals(new long[] {6, 4}, c.shape());
      assertEquals('c', c.ordering());
      c.assign(3f);
      assertEquals(72f, c.sumNumber().floatValue(), 0f, "a usable c-order [6, 4] array");
      assertEquals(0, pool.retainedBytes());
      INDArray d = pool.take(DataType.DOUBLE, 6, 4);
      assertNotSame(b, d.data(), "another dtype is another key");
      pool.release(c);
      pool.release(d);
    }
  }

  @Test
  void aBufferHandedBackTwiceIsHandedOutOnce() {
    try (ArrayPool pool = new ArrayPool(1 << 20)) {
      INDArray a = pool.take(DataType.FLOAT, 2, 8);
      pool.release(a);
      pool.release(a); // e.g. a method returned its input as the output
      assertEquals(64, pool.retainedBytes());
      INDArray x = pool.take(DataType.FLOAT, 2, 8);
      INDArray y = pool.take(DataType.FLOAT, 2, 8);
      assertNotSame(x.data(), y.data());
      pool.release(x);
      pool.release(y);
    }
  }

  @Test
  void heldBytesStayWithinTheLimitLeastRecentlyUsedShapeFirstAndViewsAreFreed() {
    try (ArrayPool pool = new ArrayPool(200)) {
      INDArray small1 = pool.take(DataType.FLOAT, 2, 10); // 80 bytes
      INDArray small2 = pool.take(DataType.FLOAT, 2, 10);
      pool.release(small1);
      pool.release(small2);
      assertEquals(160, pool.retainedBytes());
      INDArray big = pool.take(DataType.FLOAT, 3, 10); // 120 bytes: a miss frees pooled buffers first
      assertTrue(pool.retainedBytes() + 120 <= 200, "pooled + new within the limit: " + pool.retainedBytes());
      pool.release(big);
      assertTrue(pool.retainedBytes() <= 200);
      INDArray whole = pool.take(DataType.FLOAT, 4, 10);
      INDArray view = whole.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2),
          org.nd4j.linalg.indexing.NDArrayIndex.all());
      long before = pool.retainedBytes();
      pool.release(view);
      assertEquals(before, pool.retainedBytes(), "a view is never pooled");
      INDArray huge = pool.take(DataType.FLOAT, 10, 10); // 400 bytes > limit: freed, not pooled
      pool.release(huge);
      assertTrue(pool.retainedBytes() <= 200);
    }
  }
}
