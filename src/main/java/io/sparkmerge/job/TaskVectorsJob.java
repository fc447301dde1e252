package io.sparkmerge.job;

import io.sparkmerge.exec.ShardTask;
import io.sparkmerge.exec.TensorLoader;
import io.sparkmerge.io.DType;
import io.sparkmerge.io.HfIndex;
import io.sparkmerge.io.SafetensorsWriter;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.method.TensorMerge;
import io.sparkmerge.plan.InputModel;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.plan.ShardPlan;
import io.sparkmerge.plan.TaskVectorInputs;
import io.sparkmerge.plan.TensorTask;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code sparkmerge task-vectors} (methods.md §7): τ = model − base as a checkpoint. The caller gives a
 * localize_stitch config of the base and the one model (sparsity = the density, mask_scope as asked);
 * the job plans it like a merge, so a sparse τ keeps exactly the entries Localize-and-Stitch's dataless
 * mask keeps (the same global pre-pass or per-tensor selection, reported by the method through
 * {@link TensorMerge#observeMasks}).
 *
 * <p>τ is computed in float64 from the inputs decoded exactly (the difference of two float32 values is
 * exact in float64 unless their exponents are more than 29 apart). Dense: the model's floating tensors
 * under their names, written as F32 (one rounding). Sparse: per tensor {@code <name>.indices} (flat
 * row-major indices, I32, or I64 when the tensor has more than 2^31 entries) and {@code <name>.values}
 * in τ's exact dtype, {@link #valuesType}: F64 for F32/F64 models, F32 for 16-bit models (the
 * difference of two bf16/f16 values is exact in F32 unless their exponents are more than 16 apart; the
 * entries where it is not are counted and reported), so a stitch fed these values can equal the one
 * computed from the dense checkpoints bit for bit. The original shape and dtype are in
 * {@code __metadata__} as {@code <name>.shape} (JSON array) and {@code <name>.dtype}. Non-floating
 * tensors have no τ and are left out.
 */
public final class TaskVectorsJob {

  /** @param density null for a dense τ */
  public record Options(String out, boolean overwrite, Double density, String maskScope, int partitions, PrintStream console) {}

  /** Bytes written for the tensors and the model's bytes of the same tensors. */
  public record Outcome(long tauBytes, long modelBytes) {
    public double ratio() {
      return modelBytes == 0 ? 0 : (double) tauBytes / modelBytes;
    }
  }

  static final String FORMAT = TaskVectorInputs.SPARSE_FORMAT;
  public static final String INDICES = TaskVectorInputs.INDICES;
  public static final String VALUES = TaskVectorInputs.VALUES;

  record ShardTau(int shard, String file, long tensorBytes, Map<String, String> names, long inexact) implements Serializable {}

  /** The dtype in which a sparse τ's values are stored: one that holds the difference of two model values exactly. */
  public static DType valuesType(DType modelType) {
    return modelType == DType.F32 || modelType == DType.F64 ? DType.F64 : DType.F32;
  }

  private TaskVectorsJob() {}

  public static Outcome run(SparkSession spark, MergeConfig cfg, Options o) throws IOException {
    PlannedRun run = PlannedRun.start(spark, cfg, o.out(), o.overwrite(), o.partitions());
    MergePlan plan = o.density() != null
        ? GlobalThresholdJob.resolve(spark, run.plan(), run.partitions(), o.console()) : run.plan();
    StageRunner runner = new StageRunner(spark, plan.runId(), o.console());
    long[] written = new long[2];
    run.output().run(plan.runId(), runner::cancelAll, staging -> {
      List<ShardTau> results = runShards(runner, plan, o.density() != null, staging.scratch().toString());
      Map<String, String> weightMap = new TreeMap<>();
      for (ShardTau r : results) {
        written[1] += r.inexact();
        String name = plan.shards().get(r.shard()).fileName();
        staging.promote(r.file(), name);
        written[0] += r.tensorBytes();
        r.names().keySet().forEach(n -> weightMap.put(n, name));
      }
      if (plan.shards().size() > 1) {
        staging.writeStaged("model.safetensors.index.json", HfIndex.json(written[0], weightMap));
      }
      return null;
    });
    long modelBytes = 0;
    InputModel model = plan.models().get(0);
    for (ShardPlan s : plan.shards()) {
      for (TensorTask t : s.tensors()) {
        if (!t.isRawCopy()) {
          modelBytes += model.dir().tensors().get(t.name()).byteLength();
        }
      }
    }
    Outcome out = new Outcome(written[0], modelBytes);
    if (written[1] > 0) {
      o.console().printf(Locale.ROOT, "warning: %d stored values of τ are rounded (base and model entries whose exponents"
          + " are far apart); a stitch from this task vector may differ there from one from the dense checkpoints%n", written[1]);
    }
    o.console().printf(Locale.ROOT, "task vector written to %s: %d bytes of tensors vs %d bytes of the model's (storage ratio %.4f)%n",
        run.output().out(), written[0], modelBytes, out.ratio());
    return out;
  }

  private static List<ShardTau> runShards(StageRunner runner, MergePlan plan, boolean sparse, String scratch) {
    var planB = runner.broadcast(plan);
    return runner.run("task-vectors", String.format(Locale.ROOT, "sparkmerge task-vectors (%s): %d tensors in %d shards",
        sparse ? "sparse" : "dense", plan.tensorCount(), plan.shards().size()), StageRunner.shards(plan), plan.shards().size(),
        StageRunner.Progress.of(plan), (it, task) ->
        List.of(shardTau(planB.value(), it.next(), sparse, scratch, task.attempt(), task.conf(), task.progress())));
  }

  /** One shard: the kept indices of each tensor first (sparse), then one file with every tensor's τ. */
  static ShardTau shardTau(MergePlan plan, int shard, boolean sparse, String staging, int attempt, Configuration conf,
      ShardTask.Progress progress) throws IOException {
    ShardPlan s = plan.shards().get(shard);
    InputModel model = plan.models().get(0);
    Map<String, long[]> kept = new LinkedHashMap<>();
    List<SafetensorsWriter.TensorSpec> specs = new ArrayList<>();
    Map<String, String> metadata = new TreeMap<>();
    metadata.put("format", FORMAT);
    Map<String, String> names = new LinkedHashMap<>();
    try (ShardTask task = new ShardTask(plan, shard, conf)) {
      for (TensorTask t : s.tensors()) {
        if (t.isRawCopy()) {
          continue;
        }
        TensorInfo info = model.dir().tensors().get(t.name());
        if (sparse) {
          IndexCollector c = new IndexCollector();
          task.masks(t, c);
          long[] idx = c.toArray();
          kept.put(t.name(), idx);
          DType indexType = t.numel() > Integer.MAX_VALUE ? DType.I64 : DType.I32;
          specs.add(new SafetensorsWriter.TensorSpec(t.name() + INDICES, indexType, new long[] {idx.length}));
          specs.add(new SafetensorsWriter.TensorSpec(t.name() + VALUES, valuesType(info.dtype()), new long[] {idx.length}));
          metadata.put(t.name() + ".shape", Arrays.toString(info.shape()));
          metadata.put(t.name() + ".dtype", info.dtype().name());
          names.put(t.name() + INDICES, t.name());
          names.put(t.name() + VALUES, t.name());
        } else {
          specs.add(new SafetensorsWriter.TensorSpec(t.name(), DType.F32, info.shape()));
          names.put(t.name(), t.name());
        }
      }
    }
    Path file = new Path(staging, String.format(Locale.ROOT, "part-%05d-attempt-%d.safetensors", shard, attempt));
    long bytes = 0;
    long inexact = 0;
    for (SafetensorsWriter.TensorSpec spec : specs) {
      bytes += spec.bytes();
    }
    try (SafetensorsWriter writer = new SafetensorsWriter(file.getFileSystem(conf), file, specs, metadata);
        TensorLoader loader = new TensorLoader(conf, plan.computeDouble() ? DataType.DOUBLE : DataType.FLOAT, true)) {
      for (TensorTask t : s.tensors()) {
        if (t.isRawCopy()) {
          continue;
        }
        long before = loader.bytesRead();
        inexact += writeTau(plan, t, loader, writer, kept.get(t.name()));
        progress.tensorDone(loader.bytesRead() - before);
      }
    }
    return new ShardTau(shard, file.toString(), bytes, names, inexact);
  }

  /**
   * Streams τ of one tensor in row blocks: every entry (idx null), or the indices then the values at
   * them; returns how many sparse values their dtype does not hold exactly.
   */
  private static long writeTau(MergePlan plan, TensorTask t, TensorLoader loader, SafetensorsWriter writer, long[] idx)
      throws IOException {
    InputModel model = plan.models().get(0);
    TensorInfo info = model.dir().tensors().get(t.name());
    long rows = info.rows();
    long rowLength = Math.max(1, info.rowLength());
    long perChunk = Math.max(1, Math.min(rows, plan.chunkBytes() / (rowLength * 8)));
    if (idx != null) {
      boolean wide = t.numel() > Integer.MAX_VALUE;
      ByteBuffer ib = ByteBuffer.allocate(idx.length * (wide ? 8 : 4)).order(ByteOrder.LITTLE_ENDIAN);
      for (long i : idx) {
        if (wide) {
          ib.putLong(i);
        } else {
          ib.putInt((int) i);
        }
      }
      ib.flip();
      writer.write(ib);
    }
    boolean f64 = idx != null && valuesType(info.dtype()) == DType.F64;
    long inexact = 0;
    int at = 0;
    for (long r = 0; r < rows; r += perChunk) {
      long n = Math.min(perChunk, rows - r);
      double[] x;
      double[] b;
      try (INDArray xa = loader.rows(model, t.name(), r, n, true); INDArray ba = loader.rows(plan.base(), t.name(), r, n, true)) {
        x = xa.data().asDouble();
        b = ba.data().asDouble();
      }
      long first = r * rowLength;
      ByteBuffer out;
      if (idx == null) {
        out = ByteBuffer.allocate(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < x.length; i++) {
          out.putFloat((float) (x[i] - b[i]));
        }
      } else {
        int from = at;
        while (at < idx.length && idx[at] < first + x.length) {
          at++;
        }
        out = ByteBuffer.allocate((at - from) * (f64 ? 8 : 4)).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = from; k < at; k++) {
          int i = (int) (idx[k] - first);
          double tau = x[i] - b[i];
          if (f64) {
            out.putDouble(tau);
          } else {
            out.putFloat((float) tau);
            inexact += (double) (float) tau != tau ? 1 : 0;
          }
        }
      }
      out.flip();
      writer.write(out);
    }
    return inexact;
  }

  /** Collects the flat indices model 0's mask keeps, in increasing order (blocks come in flat order). */
  private static final class IndexCollector implements TensorMerge.MaskObserver {
    private long[] a = new long[64];
    private int n;

    @Override
    public void block(long flatFrom, int count, boolean[][] keep) {
      boolean[] k = keep[0];
      for (int i = 0; i < count; i++) {
        if (k[i]) {
          if (n == a.length) {
            a = Arrays.copyOf(a, n * 2);
          }
          a[n++] = flatFrom + i;
        }
      }
    }

    long[] toArray() {
      return Arrays.copyOf(a, n);
    }
  }
}
