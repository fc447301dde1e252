package io.sparkmerge.exec;

import io.sparkmerge.plan.InputModel;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.vocab.EmbeddingRows;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Executor-side reads of an embedding matrix in the output vocabulary's row order
 * ({@link EmbeddingRows}): runs of consecutive source rows are one positioned read, a token's default
 * is the mean of the rows it names (read from those inputs), rows past the vocabulary are the mean of
 * the input's own permuted rows (one streaming pass, computed once per input and tensor). Never more
 * than a block of rows in memory.
 */
final class PermutedRows {
  private final TensorLoader loader;
  private final MergePlan plan;
  private final EmbeddingRows map;
  private final DataType type;
  private final Map<String, double[]> padMeans = new HashMap<>();

  PermutedRows(TensorLoader loader, MergePlan plan, DataType type) {
    this.loader = loader;
    this.plan = plan;
    this.map = plan.embeddingRows();
    this.type = type;
  }

  /** Output rows [first, first + n) of input i's tensor {@code name}, decoded; the caller releases the array. */
  INDArray rows(int input, String name, long first, long n, long rowLength, boolean check) throws IOException {
    INDArray out = loader.take(type, n, rowLength);
    int[] src = map.src()[input];
    long r = first;
    while (r < first + n) {
      int at = (int) (r - first);
      if (r >= map.vocab()) {
        assignRow(out, at, padMean(input, name, rowLength, check));
        r++;
        continue;
      }
      int s = src[(int) r];
      if (s >= 0) {
        int len = 1;
        while (r + len < first + n && r + len < map.vocab() && src[(int) (r + len)] == s + len) {
          len++;
        }
        INDArray block = loader.rows(plan.embeddingInput(input), name, s, len, check);
        out.get(NDArrayIndex.interval(at, at + len), NDArrayIndex.all()).assign(block);
        loader.release(block);
        r += len;
      } else {
        assignRow(out, at, fill((int) r, name, rowLength, check));
        r++;
      }
    }
    return out;
  }

  /** The mean of the rows a token's default names (zeros for none). */
  private double[] fill(int token, String name, long rowLength, boolean check) throws IOException {
    int[] f = map.fills().get(token);
    double[] sum = new double[(int) rowLength];
    if (f == null || f.length == 0) {
      return sum;
    }
    for (int k = 0; k < f.length; k += 2) {
      InputModel m = plan.embeddingInput(f[k]);
      INDArray row = loader.rows(m, name, f[k + 1], 1, check);
      double[] v = row.data().asDouble();
      long off = row.offset();
      for (int j = 0; j < sum.length; j++) {
        sum[j] += v[(int) off + j];
      }
      loader.release(row);
    }
    int count = f.length / 2;
    for (int j = 0; j < sum.length; j++) {
      sum[j] = type == DataType.FLOAT ? (float) sum[j] / count : sum[j] / count;
    }
    return sum;
  }

  /** Mean of input i's permuted rows [0, vocab): the value of the rows pad_to_multiple_of adds. */
  private double[] padMean(int input, String name, long rowLength, boolean check) throws IOException {
    String key = input + "\u0000" + name;
    double[] cached = padMeans.get(key);
    if (cached != null) {
      return cached;
    }
    double[] sum = new double[(int) rowLength];
    long block = Math.max(1, Math.min(map.vocab(), plan.chunkBytes() / Math.max(1, rowLength * 8)));
    for (long r = 0; r < map.vocab(); r += block) {
      long len = Math.min(block, map.vocab() - r);
      INDArray rows = rows(input, name, r, len, rowLength, check);
      INDArray col = rows.castTo(DataType.DOUBLE).sum(0);
      double[] v = col.data().asDouble();
      for (int j = 0; j < sum.length; j++) {
        sum[j] += v[j];
      }
      col.close();
      loader.release(rows);
    }
    for (int j = 0; j < sum.length; j++) {
      sum[j] /= map.vocab();
    }
    padMeans.put(key, sum);
    return sum;
  }

  private void assignRow(INDArray out, int at, double[] v) {
    out.get(NDArrayIndex.point(at), NDArrayIndex.all()).assign(Nd4j.createFromArray(v).castTo(type));
  }
}
