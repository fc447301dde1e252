package io.sparkmerge.io;

import java.io.Serializable;
import java.util.Arrays;

/**
 * One tensor entry of a safetensors header: its dtype, shape and byte range. {@code begin} and
 * {@code end} are relative to the start of the data section (after the 8-byte length and the header),
 * as in the file; {@code fileOffset} is the absolute position of the first byte in the file.
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end, long fileOffset)
    implements Serializable {

  /** Number of elements (1 for a scalar). */
  public long numel() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  public long byteLength() {
    return end - begin;
  }

  /** Rows as the chunked readers see them: the first dimension (1 for a scalar or 1-D tensor). */
  public long rows() {
    return shape.length < 2 ? 1 : shape[0];
  }

  /** Elements per row: the product of all dimensions but the first (numel for a scalar or 1-D tensor). */
  public long rowLength() {
    return shape.length < 2 ? numel() : numel() / Math.max(1, shape[0]);
  }

  public String shapeString() {
    return Arrays.toString(shape);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
        && begin == t.begin && end == t.end && fileOffset == t.fileOffset;
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + " " + dtype + shapeString() + " [" + begin + ", " + end + ")";
  }
}
