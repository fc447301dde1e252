package io.sparkmerge.method;

import io.sparkmerge.param.ParamSpec;

/** {@code passthrough} (methods.md §1): exactly one model supplies the tensor, times {@code scale} (default 1). */
final class PassthroughMerge extends MethodBase {
  private static final ParamSpec PARAMS = ParamSpec.builder()
      .add("scale", ParamSpec.Scope.PER_MODEL, ParamSpec.Kind.NUMBER, 1.0);

  PassthroughMerge() {
    super("passthrough", BaseUse.NOT_USED, PARAMS);
    modelCount(1, 1, "merge_method 'passthrough' takes exactly one model, got ",
        "; list one model (use tensors: overrides to take tensors from elsewhere)");
  }

  @Override
  public boolean roundsLikeTorch() {
    return true;
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    double scale = ctx.perModel().get(0).getDouble("scale");
    return chunk -> scale == 1.0 ? chunk.models()[0].dup('c') : chunk.models()[0].mul(scale);
  }
}
