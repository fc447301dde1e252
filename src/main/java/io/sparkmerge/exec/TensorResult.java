package io.sparkmerge.exec;

import io.sparkmerge.io.DType;
import java.io.Serializable;

/**
 * What a task reports for each tensor it wrote: enough for the driver to check the plan was
 * fulfilled and to write the index and the manifest without reading the data back, and the
 * method's counters for the tensor (e.g. kept entries per mask).
 */
public record TensorResult(String name, DType dtype, long[] shape, long bytes, String sha256, double min, double max,
    long nanCount, long infCount, java.util.Map<String, Double> counters) implements Serializable {

  public TensorResult(String name, DType dtype, long[] shape, long bytes, String sha256, double min, double max,
      long nanCount, long infCount) {
    this(name, dtype, shape, bytes, sha256, min, max, nanCount, infCount, java.util.Map.of());
  }
}
