package io.sparkmerge.exec;

import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.math.InputRounding;
import io.sparkmerge.method.Chunking;
import io.sparkmerge.method.TensorChunk;
import io.sparkmerge.method.TensorMerge;
import io.sparkmerge.plan.InputModel;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.plan.TensorTask;
import java.io.IOException;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The chunk path's input side (split out of {@link ShardTask}): reads a tensor chunk by chunk from
 * every input a method uses (positioned reads of exactly the rows it needs, decoded to the compute
 * dtype; embedding rows in the output vocabulary's order; masks) and drives one or more merges over the
 * chunks — their preparation passes, then the merge pass. Shared by a merge's task and a sweep's.
 */
final class ChunkReader {
  private final MergePlan plan;
  private final TensorLoader loader;
  private final DataType computeType;
  private PermutedRows permutedRows;

  ChunkReader(MergePlan plan, TensorLoader loader, DataType computeType) {
    this.plan = plan;
    this.loader = loader;
    this.computeType = computeType;
  }

  /** The merge pass's work on one chunk (the runner closes the chunk afterwards). */
  interface ChunkWork {
    void accept(TensorChunk chunk) throws IOException;
  }

  /**
   * Drives merges of tensor t over its chunks: each merge's preparation passes, then one merge pass
   * handing every chunk to {@code mergePass}. Every chunk is read once per pass and shared by the merges
   * (a sweep's candidates); a tensor that is one chunk is read once for all passes.
   */
  void drive(TensorTask t, Chunking methodChunking, List<? extends TensorMerge> merges, ChunkWork mergePass) throws IOException {
    NativeThreads.ready(); // ND4J from here on (a merge stage loads it on demand)
    TensorInfo shapeInfo = plan.models().get(t.modelIndex(0)).dir().tensors().get(t.modelSource(0));
    boolean permuted = permuted(t);
    long rows = permuted ? t.shape()[0] : shapeInfo.rows();
    long rowLength = permuted ? t.shape()[1] : shapeInfo.rowLength();
    // an embedding read in another vocabulary's row order is read by whole rows
    Chunking chunking = permuted && methodChunking == Chunking.ELEMENTS ? Chunking.ROWS : methodChunking;
    ChunkLayout layout = ChunkLayout.of(rows, rowLength, chunking, plan.chunkBytes(), elementSize());
    int passes = 0;
    for (TensorMerge m : merges) {
      passes = Math.max(passes, m.preparationPasses());
    }
    TensorChunk whole = layout.single() && passes > 0 ? load(t, layout, 0, true) : null;
    try {
      for (int pass = 0; pass < passes; pass++) {
        for (long c = 0; c < layout.count(); c++) {
          TensorChunk chunk = whole != null ? whole : load(t, layout, c, false);
          try {
            for (TensorMerge m : merges) {
              if (pass < m.preparationPasses()) {
                m.prepare(pass, chunk);
              }
            }
          } finally {
            if (chunk != whole) {
              close(chunk);
            }
          }
        }
      }
    } catch (RuntimeException | IOException e) {
      if (whole != null) {
        close(whole);
      }
      throw e;
    }
    for (long c = 0; c < layout.count(); c++) {
      TensorChunk chunk = whole != null ? whole : load(t, layout, c, true);
      try {
        mergePass.accept(chunk);
      } finally {
        close(chunk);
      }
    }
  }

  private int elementSize() {
    return computeType == DataType.DOUBLE ? 8 : 4;
  }

  /** Reads and decodes chunk c of the tensor from every input the method uses. */
  private TensorChunk load(TensorTask t, ChunkLayout layout, long c, boolean checkFinite) throws IOException {
    InputRounding r = t.rounding();
    long first = layout.first(c);
    long rows = layout.chunkRows(c);
    long cols = layout.chunkCols(c);
    long firstRow = first / Math.max(1, layout.rowLength());
    boolean permuted = permuted(t); // whole rows (see drive)
    INDArray base = !plan.baseInMerge() ? null : permuted ? permutedRows().rows(plan.embeddingInputIndex(-1), t.name(), firstRow, rows,
        cols, checkFinite) : decode(plan.base(), t.baseSource(), first, rows, cols, checkFinite, r);
    INDArray[] models = new INDArray[t.modelCount(plan.models().size())];
    for (int i = 0; i < models.length; i++) {
      models[i] = permuted ? permutedRows().rows(plan.embeddingInputIndex(t.modelIndex(i)), t.name(), firstRow, rows, cols,
          checkFinite) : decode(plan.models().get(t.modelIndex(i)), t.modelSource(i), first, rows, cols, checkFinite, r);
    }
    INDArray[] masks = null;
    for (int i = 0; i < models.length; i++) {
      InputModel m = plan.models().get(i);
      if (m.masks() != null) {
        masks = masks == null ? new INDArray[models.length] : masks;
        masks[i] = loader.maskBlock(m, t.name(), first, rows, cols);
      }
    }
    return new TensorChunk(firstRow, first, base, models, masks, loader::take);
  }

  private INDArray decode(InputModel model, String name, long first, long rows, long cols, boolean checkFinite,
      InputRounding rounding) throws IOException {
    INDArray a = loader.block(model, name, first, rows, cols, checkFinite);
    if (rounding.active() && model.dir().tensors().get(name).dtype() != rounding.dtype()) {
      // compute_dtype: input with dtype: set: mergekit casts every input to it before merging
      rounding.roundInPlace(a);
    }
    return a;
  }

  /** Whether t is an embedding matrix read in the output vocabulary's row order (tokenizer surgery). */
  boolean permuted(TensorTask t) {
    return plan.embeddingRows() != null && io.sparkmerge.vocab.EmbeddingRows.isEmbedding(t.name(), t.shape());
  }

  private PermutedRows permutedRows() {
    if (permutedRows == null) {
      permutedRows = new PermutedRows(loader, plan, computeType);
    }
    return permutedRows;
  }

  /** The chunk's arrays go back to the loader's pool (the method is done with them). */
  private void close(TensorChunk c) {
    loader.release(c.base());
    for (INDArray a : c.models()) {
      loader.release(a);
    }
    if (c.masks() != null) {
      for (INDArray a : c.masks()) {
        loader.release(a);
      }
    }
  }
}
