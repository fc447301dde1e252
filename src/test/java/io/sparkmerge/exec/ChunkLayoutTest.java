package io.sparkmerge.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.method.Chunking;
import org.junit.jupiter.api.Test;

/** Chunks cover the tensor exactly once, in row-major order, and none is larger than the budget unless rows cannot be split. */
class ChunkLayoutTest {
  static void covers(ChunkLayout l, long rows, long rowLength, long maxElements) {
    long next = 0;
    for (long c = 0; c < l.count(); c++) {
      assertEquals(next, l.first(c), "chunk " + c + " starts where the previous ended");
      long n = l.chunkRows(c) * l.chunkCols(c);
      assertTrue(n > 0 && n <= maxElements, "chunk " + c + " holds " + n + " elements");
      assertTrue(l.chunkCols(c) == rowLength || l.chunkRows(c) == 1, "whole rows, or a run inside one row");
      next += n;
    }
    assertEquals(rows * rowLength, next, "every element once");
  }

  @Test
  void elementChunkingBoundsEveryChunkWhateverTheShape() {
    long budgetBytes = 64;  // 16 float elements
    covers(ChunkLayout.of(1, 100, Chunking.ELEMENTS, budgetBytes, 4), 1, 100, 16);      // a 1-D tensor
    covers(ChunkLayout.of(3, 40, Chunking.ELEMENTS, budgetBytes, 4), 3, 40, 16);        // rows wider than the budget
    covers(ChunkLayout.of(10, 5, Chunking.ELEMENTS, budgetBytes, 4), 10, 5, 16);        // narrow rows: whole rows
    covers(ChunkLayout.of(1, 16, Chunking.ELEMENTS, budgetBytes, 4), 1, 16, 16);        // exactly one budget
    assertEquals(7, ChunkLayout.of(1, 100, Chunking.ELEMENTS, budgetBytes, 4).count());
  }

  @Test
  void rowAndWholeTensorChunkingKeepTheirShapes() {
    ChunkLayout rows = ChunkLayout.of(3, 40, Chunking.ROWS, 64, 4);
    assertEquals(3, rows.count(), "a per-row method gets one whole row per chunk, even over the budget");
    covers(rows, 3, 40, 40);
    ChunkLayout whole = ChunkLayout.of(30, 40, Chunking.WHOLE_TENSOR, 64, 4);
    assertEquals(1, whole.count());
    assertTrue(whole.single());
    // rows that fit: as many whole rows as the budget holds, as before element chunking existed
    ChunkLayout fit = ChunkLayout.of(10, 5, Chunking.ROWS, 64, 4);
    assertEquals(ChunkLayout.of(10, 5, Chunking.ELEMENTS, 64, 4), fit);
    assertEquals(3, fit.rowsPerChunk());
    assertEquals(0, ChunkLayout.of(0, 5, Chunking.ELEMENTS, 64, 4).count(), "an empty tensor has no chunk");
  }
}
