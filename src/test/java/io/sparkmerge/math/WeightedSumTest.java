package io.sparkmerge.math;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * WeightedSum against the plain loop it replaces (acc = w0·x0, then acc += wt·xt, in the compute dtype), bit for bit:
 * signed zeros (a first product of -0 must stay -0), NaN and infinities, lengths across the block edge, and views
 * with an offset into a larger buffer.
 */
class WeightedSumTest {
  private static final int LEN = (1 << 14) * 2 + 123; // two whole blocks and a part

  @Test
  void floatSumIsThePlainFloatLoopToTheBit() {
    float[][] x = inputs(3);
    double[] w = {0.3, -1.7, 1e-3};
    INDArray[] in = views(x, DataType.FLOAT);
    INDArray out = WeightedSum.into(in, w, Nd4j.create(DataType.FLOAT, LEN));
    for (int i = 0; i < LEN; i++) {
      float acc = (float) w[0] * x[0][i];
      for (int t = 1; t < x.length; t++) {
        acc += (float) w[t] * x[t][i];
      }
      assertEquals(Float.floatToRawIntBits(acc), Float.floatToRawIntBits(out.getFloat(i)), "element " + i);
    }
  }

  @Test
  void doubleSumIsThePlainDoubleLoopToTheBit() {
    float[][] x = inputs(2);
    double[] w = {-0.25, 0.6};
    INDArray[] in = views(x, DataType.DOUBLE);
    INDArray out = WeightedSum.into(in, w, Nd4j.create(DataType.DOUBLE, LEN));
    for (int i = 0; i < LEN; i++) {
      double acc = w[0] * x[0][i];
      acc += w[1] * x[1][i];
      assertEquals(Double.doubleToRawLongBits(acc), Double.doubleToRawLongBits(out.getDouble(i)), "element " + i);
    }
  }

  /** Random values with ±0, NaN and ±∞ sprinkled in; model 0 has -0 where the others have +0 (so -0·w ± 0 is tested). */
  private static float[][] inputs(int models) {
    SplittableRandom rnd = new SplittableRandom(7);
    float[][] x = new float[models][LEN];
    for (int t = 0; t < models; t++) {
      for (int i = 0; i < LEN; i++) {
        int k = rnd.nextInt(50);
        x[t][i] = k == 0 ? (t == 0 ? -0f : 0f) : k == 1 ? -0f : k == 2 ? Float.POSITIVE_INFINITY : k == 3 && i % 7 == 0 ? Float.NaN
            : (float) rnd.nextGaussian();
      }
    }
    return x;
  }

  /** Each model as a view at a different offset into a larger array (WeightedSum reads from the view's offset). */
  private static INDArray[] views(float[][] x, DataType type) {
    INDArray[] in = new INDArray[x.length];
    for (int t = 0; t < x.length; t++) {
      INDArray big = Nd4j.create(DataType.FLOAT, x[t].length + 5 + t);
      big.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(5 + t, 5 + t + x[t].length)).assign(Nd4j.createFromArray(x[t]));
      INDArray typed = big.castTo(type);
      in[t] = typed.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(5 + t, 5 + t + x[t].length));
    }
    return in;
  }
}
