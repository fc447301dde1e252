package io.sparkmerge.method;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The task vectors τ_t = θ_t − θ₀ of one tensor, made when asked for rather than held together: the
 * subspace methods' peak is the chunk's inputs plus a few m × n matrices (docs/methods.md, memory), not
 * the inputs plus T task vectors. Each τ_t is recomputed with the same operation (θ_t − θ₀ in the
 * compute dtype), so its bits are the same each time it is made.
 */
abstract class TaskVectors {

  abstract int count();

  /** Writes τ_t into {@code dest}, a c-order array of the tensor's shape and dtype. */
  abstract void into(int t, INDArray dest);

  abstract long[] shape();

  abstract DataType type();

  /** τ_t as a new c-order array; the caller closes it. */
  INDArray get(int t) {
    INDArray a = Nd4j.createUninitialized(type(), shape());
    into(t, a);
    return a;
  }

  /** Σ_t τ_t as a new array, summed in model order (one τ at a time beside the sum). */
  INDArray sum() {
    INDArray d = get(0);
    if (count() > 1) {
      try (INDArray tau = Nd4j.createUninitialized(type(), shape())) {
        for (int t = 1; t < count(); t++) {
          into(t, tau);
          d.addi(tau);
        }
      }
    }
    return d;
  }

  /** The task vectors of a chunk: θ_t − θ₀ from its model and base arrays (which stay untouched). */
  static TaskVectors of(TensorChunk chunk) {
    return new TaskVectors() {
      @Override
      int count() {
        return chunk.models().length;
      }

      @Override
      void into(int t, INDArray dest) {
        chunk.models()[t].sub(chunk.base(), dest);
      }

      @Override
      long[] shape() {
        return chunk.models()[0].shape();
      }

      @Override
      DataType type() {
        return chunk.models()[0].dataType();
      }
    };
  }

  /** Task vectors already made (tests): copies of them. */
  static TaskVectors of(INDArray[] tau) {
    return new TaskVectors() {
      @Override
      int count() {
        return tau.length;
      }

      @Override
      void into(int t, INDArray dest) {
        dest.assign(tau[t]);
      }

      @Override
      long[] shape() {
        return tau[0].shape();
      }

      @Override
      DataType type() {
        return tau[0].dataType();
      }
    };
  }
}
