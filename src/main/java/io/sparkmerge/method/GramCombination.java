package io.sparkmerge.method;

import io.sparkmerge.math.BlockGram;
import java.util.function.Function;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A tensor merge θ = Σ_i c_i·a_i over some of the chunk's arrays, the coefficients computed once from
 * their Gram matrix G_ij = ⟨a_i, a_j⟩, gathered in one preparation pass (slerp: the base and one model;
 * karcher: the models). Memory stays bounded for any tensor size.
 */
final class GramCombination implements TensorMerge {
  private final Function<TensorChunk, INDArray[]> arrays;
  private final Function<double[][], double[]> coefficients;
  private final double[][] gram;
  private double[] c;

  /** @param count how many arrays {@code arrays} picks from a chunk */
  GramCombination(int count, Function<TensorChunk, INDArray[]> arrays, Function<double[][], double[]> coefficients) {
    this.arrays = arrays;
    this.coefficients = coefficients;
    this.gram = new double[count][count];
  }

  @Override
  public int preparationPasses() {
    return 1;
  }

  @Override
  public void prepare(int pass, TensorChunk chunk) {
    BlockGram.add(arrays.apply(chunk), gram);
  }

  @Override
  public INDArray merge(TensorChunk chunk) {
    if (c == null) {
      c = coefficients.apply(gram);
    }
    INDArray[] a = arrays.apply(chunk);
    INDArray out = a[0].mul(c[0]);
    for (int i = 1; i < a.length; i++) {
      try (INDArray term = a[i].mul(c[i])) {
        out.addi(term);
      }
    }
    return out;
  }
}
