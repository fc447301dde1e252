package io.sparkmerge.method;

import io.sparkmerge.math.LinearAlgebra;
import io.sparkmerge.math.Shapes;
import io.sparkmerge.param.NameFilter;
import io.sparkmerge.param.ParamSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Common shape of the subspace methods (methods.md §2): on a 2-D tensor θ = θ₀ + λ·M with M built
 * from SVDs of the task vectors; every other tensor, and 2-D tensors matched by {@code filter}, get
 * θ₀ + λ·mean_t τ_t. They need the whole matrix at once ({@link Chunking#WHOLE_TENSOR}).
 */
abstract class SubspaceMerge extends MethodBase {

  SubspaceMerge(String name, ParamSpec extra) {
    super(name, BaseUse.REQUIRED, params(extra));
  }

  private static ParamSpec params(ParamSpec extra) {
    ParamSpec p = ParamSpec.builder()
        .add("lambda", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.NUMBER, 1.0)
        .add("filter", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.STRING, "")
        // accepted so mergekit-style configs load; the papers' methods weigh all tasks equally
        .add("weight", ParamSpec.Scope.PER_MODEL, ParamSpec.Kind.NUMBER, 1.0);
    extra.defs().values().forEach(d -> p.add(d.name(), d.scope(), d.kind(), d.defaultValue(), d.check(), d.requirement()));
    return p;
  }

  @Override
  public Chunking chunking() {
    return Chunking.WHOLE_TENSOR;
  }

  /** Number of SVDs of an m×n matrix the method runs for T tasks (for the planner's cost model). */
  abstract int svdCount(int tasks);

  /** The update M for a 2-D tensor from its task vectors, with the loaded backend's SVD and GEMM. */
  abstract INDArray update(INDArray[] tau, TensorMergeContext ctx, LinearAlgebra la);

  /**
   * {@link #update(INDArray[], TensorMergeContext, LinearAlgebra)}, also putting the tensor's counters (e.g. the
   * spectrum before and after flattening, {@link Spectrum}) into {@code counters}; by default none.
   */
  INDArray update(INDArray[] tau, TensorMergeContext ctx, LinearAlgebra la, Map<String, Double> counters) {
    return update(tau, ctx, la);
  }

  @Override
  public Cost cost(long[] shape, int modelCount, int elementSize) {
    double flops = 0;
    if (shape.length == 2) {
      double m = shape[0];
      double n = shape[1];
      flops = m * n * Math.min(m, n) * svdCount(modelCount);
    }
    // task vectors, Δ, U/Vᵀ of the SVDs and LAPACK's copy of its input
    return new Cost((modelCount + 5) * Shapes.numel(shape) * elementSize, flops);
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    double lambda = ctx.global().getDouble("lambda");
    String filter = ctx.global().getString("filter");
    boolean svdPath = ctx.shape().length == 2 && (filter.isEmpty() || !NameFilter.matches(filter, ctx.tensorName()));
    return new ScaledMerge() {
      private final Map<String, Double> counters = new LinkedHashMap<>();

      @Override
      public Map<String, Double> counters() {
        return counters;
      }

      @Override
      public INDArray merge(TensorChunk chunk) {
        INDArray[] out = new INDArray[1];
        mergeScaled(chunk, new double[] {lambda}, (k, merged) -> out[0] = merged);
        return out[0];
      }

      /** M (the SVDs) once, then θ₀ + λ_k·M per candidate, with the single merge's operations. */
      @Override
      public void mergeScaled(TensorChunk chunk, double[] lambdas, CandidateSink sink) {
        try (INDArray m = update(chunk, ctx, svdPath, counters)) {
          for (int k = 0; k < lambdas.length; k++) {
            try (INDArray scaled = m.mul(lambdas[k])) {
              sink.accept(k, chunk.base().add(scaled));
            }
          }
        }
      }
    };
  }

  /** M of a whole tensor: from the SVDs on the SVD path, else mean_t τ_t. */
  private INDArray update(TensorChunk chunk, TensorMergeContext ctx, boolean svdPath, Map<String, Double> counters) {
    INDArray[] tau = new INDArray[chunk.models().length];
    for (int t = 0; t < tau.length; t++) {
      tau[t] = chunk.models()[t].sub(chunk.base());
    }
    INDArray m;
    if (svdPath) {
      m = update(tau, ctx, LinearAlgebra.forLoadedBackend(), counters);
    } else {
      m = tau[0].dup();
      for (int t = 1; t < tau.length; t++) {
        m.addi(tau[t]);
      }
      m.divi(tau.length);
    }
    for (INDArray t : tau) {
      t.close();
    }
    return m;
  }

  /** Σ_t τ_t as a new array. */
  static INDArray sum(INDArray[] tau) {
    INDArray d = tau[0].dup('c');
    for (int t = 1; t < tau.length; t++) {
      d.addi(tau[t]);
    }
    return d;
  }
}
