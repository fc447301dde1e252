package io.sparkmerge.exec;

import io.sparkmerge.InputDataException;
import io.sparkmerge.io.DType;
import io.sparkmerge.io.SafetensorsWriter;
import io.sparkmerge.io.TensorCodec;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.method.ElementwiseMerge;
import io.sparkmerge.plan.InputModel;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.plan.TensorTask;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One tensor of an {@link ElementwiseMerge} in a single fused pass, block by block: each input's
 * bytes are read (positioned) and decoded into a small float block, the method's kernel merges the
 * blocks, and the result is encoded straight into the output buffer, its min/max/NaN statistics taken
 * of the values as encoded (F16/BF16 round and can overflow; what a reader of the file gets, as on the
 * chunk path). No ND4J array is made: the decoded chunk arrays, the output array and the separate
 * statistics and encoding passes of the chunk path are what this saves (docs/benchmarks.md).
 * Bit-identical to the chunk path, manifest statistics included: the same decode, kernel, encode and
 * statistics per element.
 */
final class ElementwisePass {
  /** Elements per block: the float blocks of a few inputs and the output stay in L2. */
  static final int BLOCK = 1 << 16;

  private final MergePlan plan;
  private final TensorLoader loader;
  private final HeapBuffer outBuffer;
  private float[][] models = new float[0][];
  private float[] base;
  private float[] out;

  ElementwisePass(MergePlan plan, TensorLoader loader, HeapBuffer outBuffer) {
    this.plan = plan;
    this.loader = loader;
    this.outBuffer = outBuffer;
  }

  /**
   * Whether tensor t can take the fused pass: float32 compute, inputs read as stored (no
   * rounding to another dtype, no permuted embedding rows, no task vectors, no LoRA adapters, no masks).
   */
  static boolean applies(MergePlan plan, TensorTask t, boolean permuted) {
    if (plan.computeDouble() || permuted || t.rounding().active()) {
      return false;
    }
    for (int i = 0; i < t.modelCount(plan.models().size()); i++) {
      InputModel m = plan.models().get(t.modelIndex(i));
      if (m.taskVector() != null || m.lora() != null || m.masks() != null) {
        return false;
      }
    }
    return !plan.baseInMerge() || plan.base().taskVector() == null && plan.base().lora() == null;
  }

  void run(ElementwiseMerge m, TensorTask t, SafetensorsWriter writer, ValueStats stats, boolean checkFinite)
      throws IOException {
    int count = t.modelCount(plan.models().size());
    Input[] in = new Input[count];
    for (int i = 0; i < count; i++) {
      in[i] = new Input(plan.models().get(t.modelIndex(i)), t.modelSource(i));
    }
    Input b = plan.baseInMerge() ? new Input(plan.base(), t.baseSource()) : null;
    long numel = in[0].info.numel();
    int block = (int) Math.min(BLOCK, Math.max(1, numel));
    if (models.length != count || models.length > 0 && models[0].length < block) {
      models = new float[count][block];
      base = new float[block];
      out = new float[block];
    }
    DType outType = t.outDtype();
    // inputs are checked per element, or (a kernel that propagates NaN/Inf) only in a block whose output has some
    boolean checkNow = checkFinite && !m.propagatesNonFinite();
    for (long from = 0; from < numel; from += block) {
      int n = (int) Math.min(block, numel - from);
      readAll(b, in, from, n, checkNow);
      m.mergeBlock(b == null ? null : base, models, n, out);
      ByteBuffer enc = outBuffer.get(n * outType.size());
      long nonFinite = stats.nan + stats.inf;
      stats.encodeAndAdd(out, n, outType, enc); // statistics of the values as written (F16/BF16 round)
      if (checkFinite && !checkNow && stats.nan + stats.inf > nonFinite) {
        readAll(b, in, from, n, true); // throws for a non-finite input; else the merge or the narrowing overflowed
      }
      enc.flip();
      writer.write(enc);
    }
  }

  /** The block of every input, decoded: the base first, then the models (the chunk path's order). */
  private void readAll(Input b, Input[] in, long from, int n, boolean checkFinite) throws IOException {
    if (b != null) {
      read(b, from, n, base, checkFinite);
    }
    for (int i = 0; i < in.length; i++) {
      read(in[i], from, n, models[i], checkFinite);
    }
  }

  private void read(Input in, long from, int n, float[] dst, boolean checkFinite) throws IOException {
    int size = in.info.dtype().size();
    ByteBuffer raw = loader.raw(in.file, in.info.fileOffset() + from * size, n * size);
    if (!checkFinite) {
      TensorCodec.decodeUnchecked(in.info.dtype(), raw.array(), 0, dst, n);
      return;
    }
    int bad = TensorCodec.decode(in.info.dtype(), raw.array(), 0, dst, n);
    if (bad > 0) {
      long row = in.info.rowLength();
      throw new InputDataException(in.file + ": tensor " + in.name + " (" + in.model.role() + ") contains " + bad
          + " NaN/Inf values in rows " + from / row + ".." + (from + n - 1) / row
          + "; fix the checkpoint, or set allow_nonfinite: true to merge anyway");
    }
  }

  /** One input's tensor: where its bytes are. */
  private static final class Input {
    final InputModel model;
    final String name;
    final TensorInfo info;
    final String file;

    Input(InputModel model, String name) {
      this.model = model;
      this.name = name;
      this.info = model.dir().tensors().get(name);
      this.file = model.dir().fileOf(name);
    }
  }
}
