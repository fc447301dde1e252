package io.sparkmerge.exec;

import io.sparkmerge.InputDataException;
import io.sparkmerge.io.TensorCodec;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.io.TensorReader;
import io.sparkmerge.lora.LoraAdapter;
import io.sparkmerge.plan.InputModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executor-side reads of tensor rows: positioned reads of exactly the rows' bytes, decoded to the
 * compute dtype as a {@code [rows, rowLength]} array, with an optional NaN/Inf check. Keeps one open
 * reader per file for the task's lifetime.
 */
public final class TensorLoader implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TensorLoader.class);

  private final Configuration conf;
  private final DataType computeType;
  private final boolean checkFinite;
  private final Map<String, TensorReader> readers = new HashMap<>();
  private final ArrayPool pool;
  private final HeapBuffer buffer = new HeapBuffer();
  private long bytesRead;

  public TensorLoader(Configuration conf, DataType computeType, boolean checkFinite) {
    this(conf, computeType, checkFinite, 0);
  }

  /** poolBytes: decoded buffers kept for reuse between chunks (0: none; see {@link ArrayPool}). */
  public TensorLoader(Configuration conf, DataType computeType, boolean checkFinite, long poolBytes) {
    this.conf = conf;
    this.computeType = computeType;
    this.checkFinite = checkFinite;
    this.pool = new ArrayPool(poolBytes);
  }

  /** A c-order array from the pool (undefined contents), e.g. a method's output; hand it back with {@link #release}. */
  INDArray take(DataType type, long rows, long cols) {
    return pool.take(type, rows, cols);
  }

  /** Hands back an array of a finished chunk (from {@link #rows} or elsewhere); its buffer may be reused. */
  void release(INDArray a) {
    pool.release(a);
  }

  public long bytesRead() {
    return bytesRead;
  }

  /** Rows [firstRow, firstRow + n) of the tensor, decoded; the caller closes the array. */
  public INDArray rows(InputModel model, String name, long firstRow, long n, boolean check) throws IOException {
    long rowLength = model.dir().tensors().get(name).rowLength();
    return block(model, name, firstRow * rowLength, n, rowLength, check);
  }

  /**
   * {@code rows × cols} consecutive elements of the tensor from flat (row-major) index {@code first}, decoded
   * as a {@code [rows, cols]} array (whole rows when cols is the row length; a run of one row's elements
   * when rows is 1); the caller closes the array.
   */
  public INDArray block(InputModel model, String name, long first, long rows, long cols, boolean check) throws IOException {
    if (model.taskVector() != null) {
      return TaskVectorRows.block(this, model, name, first, rows, cols);
    }
    LoraAdapter.Change change = model.lora() == null ? null : model.lora().change(name);
    if (change != null) {
      return loraBlock(model, name, change, first, rows, cols, check);
    }
    return decoded(model.dir(), name, first, rows, cols, model.role(), check);
  }

  /** A block of a MODEL+ADAPTER tensor: whole rows from {@link LoraRows}; a run inside one row cut from that row. */
  private INDArray loraBlock(InputModel model, String name, LoraAdapter.Change change, long first, long rows, long cols,
      boolean check) throws IOException {
    long rowLength = model.dir().tensors().get(name).rowLength();
    long firstRow = first / rowLength;
    if (first % rowLength == 0 && cols == rowLength) {
      return LoraRows.rows(this, model, name, change, firstRow, rows, check);
    }
    INDArray row = LoraRows.rows(this, model, name, change, firstRow, 1, check);
    try {
      INDArray a = pool.take(computeType, 1, cols);
      long from = first - firstRow * rowLength;
      a.assign(row.get(NDArrayIndex.point(0), NDArrayIndex.interval(from, from + cols)).reshape(1, cols));
      return a;
    } finally {
      pool.release(row);
    }
  }

  /** Rows of a tensor of {@code dir} decoded to the compute dtype (from the pool; hand back with {@link #release}). */
  INDArray decoded(ModelDirectory dir, String name, long firstRow, long n, String role, boolean check) throws IOException {
    long rowLength = dir.tensors().get(name).rowLength();
    return decoded(dir, name, firstRow * rowLength, n, rowLength, role, check);
  }

  /** {@code rows × cols} elements of a tensor of {@code dir} from flat index {@code first}, decoded (from the pool). */
  private INDArray decoded(ModelDirectory dir, String name, long first, long rows, long cols, String role, boolean check)
      throws IOException {
    TensorInfo info = dir.tensors().get(name);
    String file = dir.fileOf(name);
    int bytes = Math.toIntExact(rows * cols * info.dtype().size());
    ByteBuffer buf = buffer.get(bytes);
    reader(file).readFully(info.fileOffset() + first * info.dtype().size(), buf.array(), 0, bytes);
    buf.limit(bytes);
    bytesRead += bytes;
    INDArray a = pool.take(computeType, rows, cols);
    long bad = TensorCodec.decode(info.dtype(), buf, a);
    if (check && checkFinite) {
      if (bad > 0) {
        pool.release(a);
        throw new InputDataException(file + ": tensor " + name + " (" + role + ") contains " + bad
            + " NaN/Inf values in elements " + first + ".." + (first + rows * cols - 1)
            + "; fix the checkpoint, or set allow_nonfinite: true to merge anyway");
      }
    }
    return a;
  }

  /**
   * The same block of a BOOL/U8 mask tensor as 0/1 in the compute dtype; any other byte value is bad input.
   */
  INDArray maskBlock(InputModel model, String name, long first, long rows, long cols) throws IOException {
    TensorInfo info = model.masks().tensors().get(name);
    String file = model.masks().fileOf(name);
    int bytes = Math.toIntExact(rows * cols);
    ByteBuffer buf = raw(file, info.fileOffset() + first, bytes);
    double[] v = new double[bytes];
    byte[] a = buf.array();
    for (int i = 0; i < bytes; i++) {
      int b = a[i] & 0xff;
      if (b > 1) {
        throw new InputDataException(file + ": mask tensor " + name + " (" + model.role() + ".masks) holds the value " + b
            + " in elements " + first + ".." + (first + bytes - 1) + "; a mask holds only 0 and 1");
      }
      v[i] = b;
    }
    return Nd4j.createFromArray(v).castTo(computeType).reshape(rows, cols);
  }

  /** Columns [firstCol, firstCol + n) of a 2-D tensor of {@code dir}, decoded: one positioned read per row. */
  INDArray decodedColumns(ModelDirectory dir, String name, long firstCol, long n) throws IOException {
    TensorInfo info = dir.tensors().get(name);
    long rows = info.shape()[0];
    long cols = info.shape()[1];
    int size = info.dtype().size();
    INDArray out = Nd4j.createUninitialized(computeType, rows, n);
    for (long r = 0; r < rows; r++) {
      ByteBuffer buf = raw(dir.fileOf(name), info.fileOffset() + (r * cols + firstCol) * size, Math.toIntExact(n * size));
      try (INDArray row = Nd4j.createUninitialized(computeType, 1, n)) {
        TensorCodec.decode(info.dtype(), buf, row);
        out.putRow(r, row);
      }
    }
    return out;
  }

  /** Raw bytes [position, position + len) of a file into a reused heap buffer. */
  ByteBuffer raw(String file, long position, int len) throws IOException {
    ByteBuffer buf = buffer.get(len);
    reader(file).readFully(position, buf.array(), 0, len);
    buf.limit(len);
    bytesRead += len;
    return buf;
  }

  private TensorReader reader(String file) {
    return readers.computeIfAbsent(file, f -> {
      try {
        Path p = new Path(f);
        return new TensorReader(p.getFileSystem(conf), p);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot open " + f + ": " + e.getMessage(), e);
      }
    });
  }

  @Override
  public void close() {
    for (TensorReader r : readers.values()) {
      try {
        r.close();
      } catch (Exception e) {
        LOG.warn("closing {}: {}", r, e.toString());
      }
    }
    readers.clear();
    pool.close();
  }
}
