package io.sparkmerge.exec;

import io.sparkmerge.io.DType;
import io.sparkmerge.io.TensorCodec;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.plan.InputModel;
import io.sparkmerge.plan.TaskVectorInputs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Rows of a model given as its task vector: τ itself, as float64 whatever the compute dtype, so the
 * exact values of a sparse τ (F64 for an F32 model) reach the method unrounded. A sparse τ is
 * expanded with zeros where nothing is stored. Each call reads the tensor's whole index and value
 * arrays (a sparse τ is small) and keeps the ones inside the rows.
 */
public final class TaskVectorRows {
  private TaskVectorRows() {}

  /** {@code rows × cols} elements of τ from flat index {@code first}, as {@code [rows, cols]} (see {@link TensorLoader#block}). */
  static INDArray block(TensorLoader loader, InputModel model, String name, long first, long rows, long cols) throws IOException {
    long n = rows * cols;
    var tau = model.taskVector();
    TensorInfo idx = tau.tensors().get(name + TaskVectorInputs.INDICES);
    if (idx == null) {
      TensorInfo d = tau.tensors().get(name);
      int bytes = Math.toIntExact(n * d.dtype().size());
      ByteBuffer buf = loader.raw(tau.fileOf(name), d.fileOffset() + first * d.dtype().size(), bytes);
      INDArray a = Nd4j.createUninitialized(DataType.DOUBLE, rows, cols);
      TensorCodec.decode(d.dtype(), buf, a);
      return a;
    }
    TensorInfo val = tau.tensors().get(name + TaskVectorInputs.VALUES);
    int count = Math.toIntExact(idx.numel());
    long[] at = new long[count];
    ByteBuffer ib = loader.raw(tau.fileOf(idx.name()), idx.fileOffset(), Math.toIntExact(idx.byteLength())).order(ByteOrder.LITTLE_ENDIAN);
    for (int k = 0; k < count; k++) {
      at[k] = idx.dtype() == DType.I64 ? ib.getLong() : ib.getInt();
    }
    double[] values = new double[count];
    ByteBuffer vb = loader.raw(tau.fileOf(val.name()), val.fileOffset(), Math.toIntExact(val.byteLength()));
    try (INDArray v = Nd4j.createUninitialized(DataType.DOUBLE, Math.max(1, count))) {
      if (count > 0) {
        TensorCodec.decode(val.dtype(), vb, v);
        values = v.data().asDouble();
      }
    }
    long from = first;
    long to = from + n;
    double[] dense = new double[Math.toIntExact(n)];
    for (int k = 0; k < count; k++) {
      if (at[k] >= from && at[k] < to) {
        dense[(int) (at[k] - from)] = values[k];
      }
    }
    return Nd4j.createFromArray(dense).reshape(rows, cols);
  }
}
