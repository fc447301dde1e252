package io.sparkmerge.exec;

import io.sparkmerge.InputDataException;
import io.sparkmerge.io.MultipartOutput;
import io.sparkmerge.io.PendingUpload;
import io.sparkmerge.io.SafetensorsWriter;
import io.sparkmerge.io.TensorCodec;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.method.ElementwiseMerge;
import io.sparkmerge.method.MergeMethod;
import io.sparkmerge.method.MethodRegistry;
import io.sparkmerge.method.TensorMerge;
import io.sparkmerge.method.TensorMergeContext;
import io.sparkmerge.plan.InputModel;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.plan.ShardPlan;
import io.sparkmerge.plan.TensorTask;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The executor side of a merge: one output shard. For each tensor of the shard it reads exactly the
 * byte ranges it needs from every input (positioned reads, row block by row block), decodes them to
 * the compute dtype, drives the tensor's {@link MergeMethod} over the blocks, encodes the result and
 * streams it into {@code part-<p>-attempt-<a>.safetensors} in the staging directory.
 */
public final class ShardTask implements AutoCloseable {

  private final MergePlan plan;
  private final ShardPlan shard;
  private final Configuration conf;
  private final TensorLoader loader;
  private final DataType computeType;
  private final List<String> warnings = new ArrayList<>();
  private final HeapBuffer outBuffer = new HeapBuffer();
  private final ElementwisePass elementwise;
  private final float[] encodeBlock = new float[1 << 14];
  /** Reads t's chunks from every input and drives the chunk path's merges over them. */
  final ChunkReader chunks;

  public ShardTask(MergePlan plan, int partition, Configuration conf) {
    this.plan = plan;
    this.shard = plan.shards().get(partition);
    this.conf = conf;
    this.computeType = plan.computeDouble() ? DataType.DOUBLE : DataType.FLOAT;
    // keep one chunk's worth of decoded buffers (every input and the output) for the next chunk
    int arrays = plan.models().size() + (plan.baseInMerge() ? 1 : 0) + 1;
    this.loader = new TensorLoader(conf, computeType, !plan.allowNonfinite(), arrays * plan.chunkBytes());
    this.elementwise = new ElementwisePass(plan, loader, outBuffer);
    this.chunks = new ChunkReader(plan, loader, computeType);
  }

  /** Called after each tensor with the bytes read for it (feeds the driver's progress line). */
  public interface Progress extends java.io.Serializable {
    void tensorDone(long bytesRead);
  }

  /** Writes the shard to {@code stagingDir/part-<p>-attempt-<a>.safetensors} and reports its tensors. */
  public ShardResult run(String stagingDir, int attempt, FaultInjection faults, Progress progress) throws IOException {
    return run(stagingDir, null, attempt, faults, progress);
  }

  /**
   * With {@code uploadDir} set (an object store's output), the shard goes straight to its final key
   * {@code uploadDir/<shard file>} as a multipart upload left pending for the driver, recorded in
   * {@code stagingDir} as {@code part-<p>-attempt-<a>.safetensors.upload}; a failed task aborts it.
   */
  public ShardResult run(String stagingDir, String uploadDir, int attempt, FaultInjection faults, Progress progress)
      throws IOException {
    long start = System.currentTimeMillis();
    Path file = attemptFile(stagingDir, shard, attempt);
    List<TensorResult> results = new ArrayList<>();
    MultipartOutput upload = uploadDir == null ? null : MultipartOutput.start(file.getFileSystem(conf),
        new Path(uploadDir, shard.fileName()), new Path(file + PendingUpload.RECORD_SUFFIX),
        SafetensorsWriter.fileSize(specs(shard), METADATA), conf);
    boolean done = false;
    try (SafetensorsWriter writer = upload == null ? writer(shard, file) : new SafetensorsWriter(file, upload, specs(shard), METADATA)) {
      int count = 0;
      for (TensorTask t : shard.tensors()) {
        if (count++ == shard.tensors().size() / 2) {
          faults.maybeFail(shard.index(), attempt);
        }
        long before = loader.bytesRead();
        results.add(t.isRawCopy() ? copyRaw(t, List.of(writer)) : merge(t, writer, null));
        progress.tensorDone(loader.bytesRead() - before);
      }
      faults.maybeFail(shard.index(), attempt);
      writer.close();
      ShardResult r = finished(shard, attempt, file, writer, results, loader.bytesRead(), System.currentTimeMillis() - start, warnings);
      done = true;
      return upload == null ? r : new ShardResult(r.partition(), r.attempt(), r.attemptFile(), r.fileBytes(), r.tensors(),
          r.bytesRead(), r.millis(), r.warnings(), upload.pending());
    } finally {
      if (!done && upload != null) {
        upload.abort();
      }
    }
  }

  /** {@code stagingDir/part-<p>-attempt-<a>.safetensors}: attempts never share a file. */
  static Path attemptFile(String stagingDir, ShardPlan shard, int attempt) {
    return new Path(stagingDir, String.format("part-%05d-attempt-%d.safetensors", shard.index(), attempt));
  }

  /** A writer of the shard's tensors, in plan order, into {@code file}. */
  SafetensorsWriter writer(ShardPlan s, Path file) throws IOException {
    return new SafetensorsWriter(file.getFileSystem(conf), file, specs(s), METADATA);
  }

  private static final Map<String, String> METADATA = Map.of("format", "pt");

  /** SHA-256 of the header of shard s's file (known from the plan: the driver describes an uploaded shard it cannot read yet). */
  public static String headerSha256(ShardPlan s) {
    return SafetensorsWriter.headerSha256(specs(s), METADATA);
  }

  private static List<SafetensorsWriter.TensorSpec> specs(ShardPlan s) {
    List<SafetensorsWriter.TensorSpec> specs = new ArrayList<>();
    for (TensorTask t : s.tensors()) {
      specs.add(new SafetensorsWriter.TensorSpec(t.name(), t.outDtype(), t.shape()));
    }
    return specs;
  }

  /** The result of a shard whose (closed) writer holds every tensor: the results with their digests. */
  static ShardResult finished(ShardPlan s, int attempt, Path file, SafetensorsWriter writer, List<TensorResult> results,
      long bytesRead, long millis, List<String> warnings) {
    Map<String, String> digests = writer.tensorSha256();
    List<TensorResult> withDigests = new ArrayList<>();
    for (TensorResult r : results) {
      withDigests.add(new TensorResult(r.name(), r.dtype(), r.shape(), r.bytes(), digests.get(r.name()), r.min(), r.max(),
          r.nanCount(), r.infCount(), r.counters()));
    }
    return new ShardResult(s.index(), attempt, file.toString(), writer.fileSize(), withDigests, bytesRead, millis,
        List.copyOf(warnings));
  }

  /** Copies t's bytes, read once, into every writer (a sweep's candidates share integer tensors). */
  TensorResult copyRaw(TensorTask t, List<SafetensorsWriter> writers) throws IOException {
    // the base's tensor when there is a base and it is read, else the first model's (slices rename sources)
    boolean fromBase = plan.base() != null && t.baseSource() != null;
    InputModel src = fromBase ? plan.base() : plan.models().get(t.modelIndex(0));
    String srcName = fromBase ? t.baseSource() : t.modelSource(0);
    TensorInfo info = src.dir().tensors().get(srcName);
    long remaining = info.byteLength();
    long pos = info.fileOffset();
    while (remaining > 0) {
      int n = (int) Math.min(remaining, 16 << 20);
      ByteBuffer bytes = loader.raw(src.dir().fileOf(srcName), pos, n);
      for (SafetensorsWriter writer : writers) {
        writer.write(bytes.duplicate());
      }
      pos += n;
      remaining -= n;
    }
    return new TensorResult(t.name(), t.outDtype(), t.shape(), info.byteLength(), null, Double.NaN, Double.NaN, 0, 0);
  }

  /**
   * Runs tensor t's merge only for the masks it applies ({@code sparkmerge masks}): the merged values
   * are computed, exactly as in a merge, and dropped; the masks go to {@code observer}.
   */
  public Map<String, Double> masks(TensorTask t, TensorMerge.MaskObserver observer) throws IOException {
    return merge(t, null, observer).counters();
  }

  /** Bytes read from the inputs so far. */
  public long bytesRead() {
    return loader.bytesRead();
  }

  private TensorResult merge(TensorTask t, SafetensorsWriter writer, TensorMerge.MaskObserver observer) throws IOException {
    MergeMethod method = MethodRegistry.get(t.method());
    ValueStats outStats = new ValueStats();
    Map<String, Double> counters;
    try (TensorMerge m = method.begin(context(t))) {
      if (observer != null && !m.observeMasks(observer)) {
        throw new IllegalStateException("tensor " + t.name() + ": method " + t.method() + " reports no masks");
      }
      // the report's by-products (MergeStatistics), on this chunk path only, of a merge that writes
      MergeStatistics byProducts = writer != null && plan.baseInMerge() ? new MergeStatistics(t.modelCount(plan.models().size())) : null;
      if (byProducts == null && writer != null && observer == null && m instanceof ElementwiseMerge em
          && ElementwisePass.applies(plan, t, chunks.permuted(t))) {
        // the fused pass (linear: no base in the merge, so no by-products are lost)
        elementwise.run(em, t, writer, outStats, !plan.allowNonfinite());
        return result(t, outStats, new java.util.TreeMap<>(m.counters()), warnings);
      }
      chunks.drive(t, m.chunking(method.chunking()), List.of(m), chunk -> {
        INDArray merged = m.merge(chunk);
        if (byProducts != null) {
          byProducts.add(chunk, merged);
        }
        emit(t, merged, outStats, writer);
      });
      counters = new java.util.TreeMap<>(m.counters());
      if (byProducts != null) {
        counters.putAll(byProducts.counters());
      }
    }
    return result(t, outStats, counters, warnings);
  }

  /** What t's method knows of it (a sweep's candidates: each its own task's parameters). */
  TensorMergeContext context(TensorTask t) {
    return new TensorMergeContext(t.name(), t.shape(), computeType, plan.seed(), plan.baseInMerge(), t.global(), t.perModel(),
        t.sides(), t.rounding());
  }

  /** Adds a merged chunk to t's statistics and encodes it into the writer (none: dropped); the array is released. */
  void emit(TensorTask t, INDArray merged, ValueStats stats, SafetensorsWriter writer) throws IOException {
    INDArray out = merged;
    try {
      if (out.dataType() != computeType || out.isView() || out.offset() != 0 || out.ordering() != 'c') {
        INDArray dense = out.castTo(computeType).dup('c');
        loader.release(out); // frees it, unless it is a view of the chunk's arrays (released with them)
        out = dense;
      }
      if (writer == null) {
        stats.add(out);
        return;
      }
      ByteBuffer enc = outBuffer.get(Math.toIntExact(out.length() * t.outDtype().size()));
      statsAndEncode(out, t.outDtype(), enc, stats);
      enc.flip();
      writer.write(enc);
    } finally {
      loader.release(out);
    }
  }

  /** t's result from its statistics: NaN/Inf fail the task unless allow_nonfinite (then a warning in {@code warnings}). */
  TensorResult result(TensorTask t, ValueStats outStats, Map<String, Double> counters, List<String> warnings) {
    if (outStats.hasNonFinite()) {
      String msg = "tensor " + t.name() + ": the merged values contain " + outStats.nan + " NaN and " + outStats.inf
          + " Inf (method " + t.method() + ")";
      if (!plan.allowNonfinite()) {
        throw new InputDataException(msg + "; check the inputs and parameters, or set allow_nonfinite: true");
      }
      warnings.add(msg);
    }
    return new TensorResult(t.name(), t.outDtype(), t.shape(), t.outBytes(), null, outStats.min, outStats.max,
        outStats.nan, outStats.inf, counters);
  }

  /**
   * Encodes the chunk and adds its statistics, in one pass over a FLOAT output (DOUBLE: two). The
   * statistics are of the values as encoded: narrowing (F16/BF16, or F32 from float64) can round or
   * overflow to ±Inf, and the manifest and the NaN/Inf check describe what a reader of the file gets.
   */
  private void statsAndEncode(INDArray out, io.sparkmerge.io.DType dtype, ByteBuffer enc, ValueStats stats) {
    if (out.dataType() != DataType.FLOAT) {
      TensorCodec.encode(out, dtype, enc);
      if (dtype.size() < 8) {
        stats.addEncoded(enc.duplicate().flip(), dtype);
      } else {
        stats.add(out);
      }
      return;
    }
    java.nio.FloatBuffer src = out.data().asNio().order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
    int len = Math.toIntExact(out.length());
    for (int from = 0; from < len; from += encodeBlock.length) {
      int k = Math.min(encodeBlock.length, len - from);
      src.get((int) out.offset() + from, encodeBlock, 0, k);
      stats.encodeAndAdd(encodeBlock, k, dtype, enc);
    }
  }

  @Override
  public void close() {
    loader.close();
  }
}
