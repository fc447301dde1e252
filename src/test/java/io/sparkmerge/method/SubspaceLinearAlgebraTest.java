package io.sparkmerge.method;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.math.LinearAlgebra;
import io.sparkmerge.math.Svd;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * iso_c, iso_cts and tsv_m do all their SVDs and products through the {@link LinearAlgebra} they are
 * given: a recording double counts the calls (as many SVDs as the cost model's svdCount), and the
 * ND4J-lapack implementation (the CUDA backend's code path, on the CPU wrapper here) gives the same
 * update as LAPACKE.
 */
class SubspaceLinearAlgebraTest {
  /** Counts the calls and forwards them. */
  static final class Recording implements LinearAlgebra {
    final LinearAlgebra inner;
    int svds;
    int products;

    Recording(LinearAlgebra inner) {
      this.inner = inner;
    }

    @Override
    public String name() {
      return "recording " + inner.name();
    }

    @Override
    public Svd.Result thinSvd(INDArray a, String label) {
      svds++;
      return inner.thinSvd(a, label);
    }

    @Override
    public INDArray mmul(INDArray a, INDArray b) {
      products++;
      return inner.mmul(a, b);
    }
  }

  static LinearAlgebra impl(LinearAlgebra.Kind kind) {
    return LinearAlgebra.create(kind, "org.nd4j.linalg.cpu.nativecpu.CpuBackend");
  }

  @Test
  void theMethodsCallOnlyTheInterfaceAndBothImplementationsAgree() {
    SplittableRandom r = new SplittableRandom(12);
    int tasks = 3;
    for (int[] mn : new int[][] {{24, 16}, {16, 24}}) {
      for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
        INDArray[] tau = new INDArray[tasks];
        for (int t = 0; t < tasks; t++) {
          tau[t] = Nd4j.createFromArray(SubspaceMethodsTest.random(r, mn[0] * mn[1])).castTo(type).reshape(mn[0], mn[1]);
        }
        for (String name : new String[] {"iso_c", "iso_cts", "tsv_m"}) {
          SubspaceMerge method = (SubspaceMerge) MethodRegistry.get(name);
          TensorMergeContext ctx = MethodHarness.context(method, SubspaceMethodsTest.NAME, new long[] {mn[0], mn[1]}, type, 1, true,
              Map.of(), List.of(Map.of(), Map.of(), Map.of()));
          Recording lapacke = new Recording(impl(LinearAlgebra.Kind.LAPACKE));
          Recording nd4j = new Recording(impl(LinearAlgebra.Kind.ND4J_LAPACK));
          INDArray a = method.update(tau, ctx, lapacke);
          INDArray b = method.update(tau, ctx, nd4j);
          String what = name + " " + mn[0] + "x" + mn[1] + " " + type;
          assertEquals(method.svdCount(tasks), lapacke.svds, what + ": SVDs as the cost model counts them");
          assertEquals(lapacke.svds, nd4j.svds, what);
          assertTrue(lapacke.products > 0 && lapacke.products == nd4j.products, what + ": products through the interface");
          double rel = a.sub(b).norm2Number().doubleValue() / a.norm2Number().doubleValue();
          assertTrue(rel < (type == DataType.FLOAT ? 1e-5 : 1e-12), what + ": gesdd vs gesvd path " + rel);
        }
      }
    }
  }
}
