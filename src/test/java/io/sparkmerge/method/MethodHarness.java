package io.sparkmerge.method;

import io.sparkmerge.param.ParameterResolver;
import io.sparkmerge.param.ParameterValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Drives a method over a tensor the way the executor does: preparation passes, then the merge pass, in row chunks. */
final class MethodHarness {
  private MethodHarness() {}

  /** Resolves parameters like the planner (global + per-model maps of plain values) and builds the context. */
  static TensorMergeContext context(MergeMethod m, String name, long[] shape, DataType type, long seed, boolean hasBase,
      Map<String, Object> global, List<Map<String, Object>> perModel) {
    List<Map<String, ParameterValue>> pm = new ArrayList<>();
    for (Map<String, Object> p : perModel) {
      pm.add(values(p));
    }
    ParameterResolver.Resolved r = ParameterResolver.resolve(m, name, 0.0, Map.of(), pm, Map.of(), values(global));
    TensorMergeContext ctx = new TensorMergeContext(name, shape, type, seed, hasBase, r.global(), r.perModel());
    m.validate(ctx);
    return ctx;
  }

  /** The method's check of a model list of this size (a context of the models' count and no parameters). */
  static void validateModels(MergeMethod m, int models, boolean hasBase) {
    m.validate(new TensorMergeContext("w", new long[] {1}, DataType.FLOAT, 0, hasBase,
        new io.sparkmerge.param.ResolvedParams(Map.of()), java.util.Collections.nCopies(models,
            new io.sparkmerge.param.ResolvedParams(Map.of()))));
  }

  static Map<String, ParameterValue> values(Map<String, Object> plain) {
    Map<String, ParameterValue> out = new java.util.LinkedHashMap<>();
    plain.forEach((k, v) -> out.put(k, ParameterValue.parse(v, k)));
    return out;
  }

  /** Merges [rows, cols] tensors given as flat row-major doubles, {@code rowsPerChunk} rows at a time. */
  static double[] run(MergeMethod m, TensorMergeContext ctx, double[] base, double[][] models, int rows, int cols,
      int rowsPerChunk) {
    return run(m, ctx, base, models, rows, cols, rowsPerChunk, new java.util.HashMap<>());
  }

  /** {@link #run}, putting the merge's {@link TensorMerge#counters()} after its last chunk into {@code counters}. */
  static double[] run(MergeMethod m, TensorMergeContext ctx, double[] base, double[][] models, int rows, int cols,
      int rowsPerChunk, Map<String, Double> counters) {
    double[] out = new double[rows * cols];
    try (TensorMerge tm = m.begin(ctx)) {
      for (int pass = 0; pass < tm.preparationPasses(); pass++) {
        for (int r = 0; r < rows; r += rowsPerChunk) {
          TensorChunk c = chunk(ctx.computeType(), base, models, r, Math.min(rowsPerChunk, rows - r), cols);
          tm.prepare(pass, c);
        }
      }
      for (int r = 0; r < rows; r += rowsPerChunk) {
        int n = Math.min(rowsPerChunk, rows - r);
        TensorChunk c = chunk(ctx.computeType(), base, models, r, n, cols);
        INDArray o = tm.merge(c);
        double[] v = o.castTo(DataType.DOUBLE).reshape(-1).toDoubleVector();
        System.arraycopy(v, 0, out, r * cols, n * cols);
      }
      counters.putAll(tm.counters());
    }
    return out;
  }

  private static TensorChunk chunk(DataType type, double[] base, double[][] models, int r0, int n, int cols) {
    INDArray b = base == null ? null : slice(type, base, r0, n, cols);
    INDArray[] ms = new INDArray[models.length];
    for (int i = 0; i < models.length; i++) {
      ms[i] = slice(type, models[i], r0, n, cols);
    }
    return new TensorChunk(r0, (long) r0 * cols, b, ms);
  }

  private static INDArray slice(DataType type, double[] v, int r0, int n, int cols) {
    double[] part = java.util.Arrays.copyOfRange(v, r0 * cols, (r0 + n) * cols);
    return Nd4j.createFromArray(part).castTo(type).reshape(n, cols).dup('c');
  }
}
