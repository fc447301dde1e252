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

  /**
   * The update M for a 2-D tensor from its task vectors (made on demand, {@link TaskVectors}), with the
   * loaded backend's SVD and GEMM, also putting the tensor's counters (e.g. the spectrum before and after
   * flattening, {@link Spectrum}) into {@code counters}. Frees each m × n matrix as soon as it is used.
   */
  abstract INDArray update(TaskVectors tau, TensorMergeContext ctx, LinearAlgebra la, Map<String, Double> counters);

  /** {@link #update(TaskVectors, TensorMergeContext, LinearAlgebra, Map)} of task vectors already made (tests). */
  final INDArray update(INDArray[] tau, TensorMergeContext ctx, LinearAlgebra la) {
    return update(TaskVectors.of(tau), ctx, la, new LinkedHashMap<>());
  }

  @Override
  public Cost cost(long[] shape, int modelCount, int elementSize) {
    double flops = 0;
    long lapack = 0;
    if (shape.length == 2) {
      double m = shape[0];
      double n = shape[1];
      flops = m * n * Math.min(m, n) * svdCount(modelCount);
      long r = Math.min(shape[0], shape[1]);
      lapack = 4 * r * r * elementSize; // gesdd's workspace (≈ 3r² + the r × r factor of U or Vᵀ)
    }
    // at the peak (docs/methods.md, memory): one τ_t or Δ, its projection or U/Vᵀ, and the result M
    return new Cost(3 * Shapes.numel(shape) * elementSize + lapack, flops);
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

      /** The whole matrix for the SVDs; the mean path is element-wise, so it is read in row blocks. */
      @Override
      public Chunking chunking(Chunking method) {
        return svdPath ? Chunking.WHOLE_TENSOR : Chunking.ELEMENTS;
      }

      @Override
      public INDArray merge(TensorChunk chunk) {
        INDArray[] out = new INDArray[1];
        mergeScaled(chunk, new double[] {lambda}, (k, merged) -> out[0] = merged);
        return out[0];
      }

      /**
       * M (the SVDs) once, then θ₀ + λ_k·M per candidate, with the single merge's operations: λ_k·M + θ₀
       * is the same sum as θ₀ + λ_k·M; the last candidate's is made in M's own array.
       */
      @Override
      public void mergeScaled(TensorChunk chunk, double[] lambdas, CandidateSink sink) {
        INDArray m = update(chunk, ctx, svdPath, counters);
        try {
          for (int k = 0; k < lambdas.length; k++) {
            boolean last = k == lambdas.length - 1;
            INDArray out = last ? m.muli(lambdas[k]) : m.mul(lambdas[k]);
            if (last) {
              m = null; // the sink owns it now
            }
            sink.accept(k, out.addi(chunk.base()));
          }
        } finally {
          if (m != null) {
            m.close();
          }
        }
      }
    };
  }

  /** M of a whole tensor: from the SVDs on the SVD path, else mean_t τ_t. */
  private INDArray update(TensorChunk chunk, TensorMergeContext ctx, boolean svdPath, Map<String, Double> counters) {
    TaskVectors tau = TaskVectors.of(chunk);
    if (svdPath) {
      return update(tau, ctx, LinearAlgebra.forLoadedBackend(), counters);
    }
    return tau.sum().divi(tau.count());
  }
}
