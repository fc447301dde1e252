package io.sparkmerge.plan;

import io.sparkmerge.ConfigException;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.io.DType;
import io.sparkmerge.math.InputRounding;
import io.sparkmerge.method.MergeMethod;
import io.sparkmerge.method.MethodRegistry;
import io.sparkmerge.param.ResolvedParams;
import java.util.List;

/**
 * {@code compute_dtype: input} on the driver: which dtype a tensor's operations round to (mergekit
 * computes in {@code dtype:} when given, after casting every input to it, else in the inputs' own
 * dtype), marked in the tensor's global parameters as {@link InputRounding#PARAMETER}. Only BF16 and
 * F16 need marking: in float32 the default arithmetic is already mergekit's.
 */
final class InputDtypeCompute {
  private InputDtypeCompute() {}

  static ResolvedParams mark(MergeConfig cfg, MergeMethod method, String tensor, DType inputDtype, ResolvedParams global) {
    if (!cfg.computeInput()) {
      return global;
    }
    DType dtype = cfg.mergekitDtype() != null ? cfg.mergekitDtype() : inputDtype;
    InputRounding r = InputRounding.to(dtype);
    if (!r.active()) {
      return global;
    }
    if (!method.roundsLikeTorch()) {
      List<String> ok = MethodRegistry.all().values().stream().filter(MergeMethod::roundsLikeTorch).map(MergeMethod::name).sorted()
          .toList();
      throw new ConfigException("compute_dtype: input: merge_method '" + method.name() + "' (tensor " + tensor + ") computes in"
          + " float32 only; mergekit's " + dtype + " arithmetic is reproduced for " + String.join(", ", ok)
          + "; remove compute_dtype: input or route the tensor to one of these with a tensors: override");
    }
    return global.with(InputRounding.PARAMETER, name(dtype));
  }

  /** The config name of a 16-bit dtype, as {@link DType#fromConfigName} reads it back. */
  static String name(DType d) {
    return d == DType.BF16 ? "bfloat16" : "float16";
  }
}
