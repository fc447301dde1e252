package io.sparkmerge.plan;

import io.sparkmerge.ConfigException;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.io.DType;
import io.sparkmerge.math.InputRounding;
import io.sparkmerge.method.MergeMethod;
import io.sparkmerge.method.MethodRegistry;
import java.util.List;

/**
 * {@code compute_dtype: input} on the driver: which dtype a tensor's operations round to (mergekit
 * computes in {@code dtype:} when given, after casting every input to it, else in the inputs' own
 * dtype), given to the tensor's merge as its {@link InputRounding}. Only BF16 and F16 round: in float32
 * the default arithmetic is already mergekit's.
 */
final class InputDtypeCompute {
  private InputDtypeCompute() {}

  static InputRounding rounding(MergeConfig cfg, MergeMethod method, String tensor, DType inputDtype) {
    if (!cfg.computeInput()) {
      return InputRounding.NONE;
    }
    DType dtype = cfg.mergekitDtype() != null ? cfg.mergekitDtype() : inputDtype;
    InputRounding r = InputRounding.to(dtype);
    if (r.active() && !method.roundsLikeTorch()) {
      List<String> ok = MethodRegistry.all().values().stream().filter(MergeMethod::roundsLikeTorch).map(MergeMethod::name).sorted()
          .toList();
      throw new ConfigException("compute_dtype: input: merge_method '" + method.name() + "' (tensor " + tensor + ") computes in"
          + " float32 only; mergekit's " + dtype + " arithmetic is reproduced for " + String.join(", ", ok)
          + "; remove compute_dtype: input or route the tensor to one of these with a tensors: override");
    }
    return r;
  }
}
