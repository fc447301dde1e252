package io.sparkmerge.plan;

import io.sparkmerge.InputDataException;
import io.sparkmerge.io.DType;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.io.SafetensorsHeader;
import io.sparkmerge.io.TensorInfo;
import java.util.Arrays;

/**
 * A model given as its task vector ({@code task_vector: true}): a {@code sparkmerge task-vectors}
 * checkpoint, dense (τ under the tensor's name and shape) or sparse ({@code <name>.indices} and
 * {@code <name>.values}, the shape in the header's metadata), with a τ for every floating tensor of
 * the base. Checked from headers on the driver.
 */
public final class TaskVectorInputs {
  /** {@code __metadata__.format} of a sparse task-vector checkpoint. */
  public static final String SPARSE_FORMAT = "sparkmerge-task-vector";
  public static final String INDICES = ".indices";
  public static final String VALUES = ".values";

  private TaskVectorInputs() {}

  public static boolean isSparse(ModelDirectory tau) {
    return tau.headers().stream().anyMatch(h -> SPARSE_FORMAT.equals(h.metadata().get("format")));
  }

  static void check(ModelDirectory base, ModelDirectory tau, String role) {
    boolean sparse = isSparse(tau);
    for (TensorInfo t : base.tensors().values()) {
      if (!t.dtype().isFloating()) {
        continue;
      }
      String where = role + " (task vector " + tau.path() + "): tensor " + t.name();
      if (!sparse) {
        TensorInfo d = tau.tensors().get(t.name());
        if (d == null || !d.dtype().isFloating() || !Arrays.equals(d.shape(), t.shape())) {
          throw new InputDataException(where + (d == null ? " is missing" : " has " + d.dtype() + " " + d.shapeString())
              + "; the base's is " + t.dtype() + " " + t.shapeString() + ": write the task vector with sparkmerge task-vectors"
              + " from this base");
        }
        continue;
      }
      TensorInfo idx = tau.tensors().get(t.name() + INDICES);
      TensorInfo val = tau.tensors().get(t.name() + VALUES);
      if (idx == null || val == null) {
        throw new InputDataException(where + " has no " + t.name() + INDICES + " and " + t.name() + VALUES
            + "; write the task vector with sparkmerge task-vectors from this base");
      }
      String shape = metadata(tau, t.name() + ".shape");
      if (!Arrays.toString(t.shape()).equals(shape)) {
        throw new InputDataException(where + " has shape " + shape + " in the header's metadata; the base's is "
            + Arrays.toString(t.shape()));
      }
      if ((idx.dtype() != DType.I32 && idx.dtype() != DType.I64) || !val.dtype().isFloating() || idx.shape().length != 1
          || !Arrays.equals(idx.shape(), val.shape())) {
        throw new InputDataException(where + ": indices must be a 1-D I32/I64 tensor and values a floating tensor of the"
            + " same length, got " + idx.dtype() + " " + idx.shapeString() + " and " + val.dtype() + " " + val.shapeString());
      }
    }
  }

  private static String metadata(ModelDirectory dir, String key) {
    for (SafetensorsHeader h : dir.headers()) {
      String v = h.metadata().get(key);
      if (v != null) {
        return v;
      }
    }
    return null;
  }
}
