package io.sparkmerge.plan;

import io.sparkmerge.InputDataException;
import io.sparkmerge.io.DType;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.io.TensorInfo;
import java.util.Arrays;

/**
 * Given masks ({@code masks:} on a model entry): a checkpoint with a BOOL or U8 tensor of the same
 * name and shape for every floating tensor of the model. Checked from headers on the driver; the
 * values (0 or 1) are checked as they are read.
 */
final class MaskInputs {
  private MaskInputs() {}

  static void check(ModelDirectory reference, InputModel model) {
    ModelDirectory masks = model.masks();
    for (TensorInfo t : reference.tensors().values()) {
      if (!t.dtype().isFloating()) {
        continue;
      }
      TensorInfo m = masks.tensors().get(t.name());
      String where = model.role() + ".masks: tensor " + t.name();
      if (m == null) {
        throw new InputDataException(where + " is missing from the mask checkpoint; write a mask for every floating tensor"
            + " of the model (all ones keeps the whole tensor)");
      }
      if (!Arrays.equals(m.shape(), t.shape())) {
        throw new InputDataException(where + " has shape " + m.shapeString() + ", the model's is " + t.shapeString()
            + "; the mask must have the tensor's shape");
      }
      if (m.dtype() != DType.BOOL && m.dtype() != DType.U8) {
        throw new InputDataException(where + " has dtype " + m.dtype() + "; masks must be BOOL or U8 (0 or 1)");
      }
    }
    for (String name : masks.tensors().keySet()) {
      TensorInfo t = reference.tensors().get(name);
      if (t == null || !t.dtype().isFloating()) {
        throw new InputDataException(model.role() + ".masks: tensor " + name + " is not a floating tensor of the model;"
            + " remove it from the mask checkpoint");
      }
    }
  }
}
