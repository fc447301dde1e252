package io.sparkmerge.method;

import io.sparkmerge.math.RunningMoments;
import io.sparkmerge.math.WeightScope;
import io.sparkmerge.math.WeightedSum;
import io.sparkmerge.param.ParamSpec;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code wsa}: our post-hoc analogue of weight scope alignment (methods.md §6, arXiv 2408.12237).
 * The paper's method is a training-time regulariser (KL of each layer's scope to a fused target
 * scope); this merge only borrows its target. For a 2-D+ tensor: scopes (μ_k, σ_k²) of every model
 * (one preparation pass), the fused scope (μ*, σ*²) with the models' weights p_k, then
 * θ = Σ p_k ((θ_k − μ_k)/σ_k · σ* + μ*); with {@code rescale_output} a second pass measures the
 * merged tensor's scope and the result is re-aligned to (μ*, σ*²). 1-D tensors are averaged
 * unaligned; a model with σ_k = 0 enters unaligned.
 */
final class WsaMerge extends MethodBase {
  private static final ParamSpec PARAMS = ParamSpec.builder()
      .add("weight", ParamSpec.Scope.PER_MODEL, ParamSpec.Kind.NUMBER, 1.0, v -> ((Number) v).doubleValue() >= 0, "≥ 0")
      .add("fusion", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.STRING, "moment", v -> v.equals("moment") || v.equals("mean"),
          "moment or mean")
      .add("rescale_output", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN, false);

  WsaMerge() {
    super("wsa", BaseUse.NOT_USED, PARAMS);
  }

  static final String NOTE = "wsa is sparkmerge's post-hoc analogue of Weight Scope Alignment (arXiv 2408.12237): the paper "
      + "aligns scopes with a training-time KL regulariser; this merge aligns each model's tensor to the fused scope and averages";

  private static final MethodReport REPORT = new MethodReport(NOTE, false, MethodReport.Summary.NONE);

  @Override
  public MethodReport report() {
    return REPORT;
  }

  @Override
  public void validate(TensorMergeContext ctx) {
    if (!(LinearMerge.weightSum(ctx) > 0)) {
      throw new io.sparkmerge.ConfigException("tensor " + ctx.tensorName() + ": the weights of wsa sum to 0; give at least one model"
          + " a positive weight");
    }
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    double sum = LinearMerge.weightSum(ctx);
    double[] p = new double[ctx.modelCount()];
    for (int k = 0; k < p.length; k++) {
      p[k] = ctx.perModel().get(k).getDouble("weight") / sum;
    }
    if (ctx.shape().length < 2) {
      return chunk -> WeightedSum.into(chunk.models(), p, chunk.newOutput(chunk.models()[0].dataType()));
    }
    return new Aligned(p, WeightScope.Fusion.parse(ctx.global().getString("fusion")), ctx.global().getBoolean("rescale_output"));
  }

  /** Per-tensor state: the models' scopes, then the affine maps θ'_k = a_k θ_k + b_k. */
  private static final class Aligned implements TensorMerge {
    private final double[] p;
    private final WeightScope.Fusion fusion;
    private final boolean rescale;
    private final RunningMoments[] scopes;
    private final RunningMoments merged = new RunningMoments();
    private WeightScope.Scope target;
    private double[] scale;
    private double shift;

    Aligned(double[] p, WeightScope.Fusion fusion, boolean rescale) {
      this.p = p;
      this.fusion = fusion;
      this.rescale = rescale;
      scopes = new RunningMoments[p.length];
      for (int k = 0; k < p.length; k++) {
        scopes[k] = new RunningMoments();
      }
    }

    @Override
    public int preparationPasses() {
      return rescale ? 2 : 1;
    }

    @Override
    public void prepare(int pass, TensorChunk chunk) {
      if (pass == 0) {
        for (int k = 0; k < p.length; k++) {
          scopes[k].add(chunk.models()[k]);
        }
        return;
      }
      try (INDArray m = aligned(chunk)) {
        merged.add(m);
      }
    }

    /** Σ p_k (a_k θ_k + b_k) over the chunk, the maps fixed after the first pass. */
    private INDArray aligned(TensorChunk chunk) {
      if (scale == null) {
        WeightScope.Scope[] s = new WeightScope.Scope[p.length];
        for (int k = 0; k < p.length; k++) {
          s[k] = new WeightScope.Scope(scopes[k].mean(), scopes[k].variance());
        }
        target = WeightScope.fuse(s, p, fusion);
        double sigmaStar = Math.sqrt(target.variance());
        scale = new double[p.length];
        shift = 0;
        for (int k = 0; k < p.length; k++) {
          double sigma = Math.sqrt(s[k].variance());
          // σ_k = 0 (a constant tensor) cannot be rescaled: it enters unaligned
          double a = sigma > 0 ? sigmaStar / sigma : 1;
          double b = sigma > 0 ? target.mean() - a * s[k].mean() : 0;
          scale[k] = p[k] * a;
          shift += p[k] * b;
        }
      }
      INDArray out = WeightedSum.into(chunk.models(), scale, chunk.newOutput(chunk.models()[0].dataType()));
      return shift == 0 ? out : out.addi(shift);
    }

    @Override
    public INDArray merge(TensorChunk chunk) {
      INDArray out = aligned(chunk);
      if (!rescale) {
        return out;
      }
      double sigma = Math.sqrt(merged.variance());
      if (!(sigma > 0)) {
        return out;
      }
      double a = Math.sqrt(target.variance()) / sigma;
      return out.subi(merged.mean()).muli(a).addi(target.mean());
    }
  }
}
