package io.sparkmerge.exec;

import io.sparkmerge.lora.LoraAdapter;
import io.sparkmerge.plan.InputModel;
import java.io.IOException;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Rows of a model given as {@code MODEL+ADAPTER}: MODEL's rows with the adapter's change added in the compute
 * dtype, as PEFT's merge_and_unload adds it. A linear module's rows [i, i + n) gain scale·B[i:i+n]·A; an
 * embedding's gain scale·(A[:, i:i+n])ᵀ·Bᵀ (PEFT stores its update transposed); a bias gains scale·lora_B's bias;
 * a module stored whole replaces the rows. Only the rows of B (or columns of A) a block needs are read.
 */
final class LoraRows {
  private LoraRows() {}

  static INDArray rows(TensorLoader loader, InputModel model, String name, LoraAdapter.Change change, long firstRow, long n,
      boolean check) throws IOException {
    LoraAdapter ad = model.lora();
    String role = model.role() + " adapter " + ad.path();
    if (change.kind() == LoraAdapter.Kind.REPLACE) {
      return loader.decoded(ad.dir(), change.a(), firstRow, n, role, check);
    }
    INDArray w = loader.decoded(model.dir(), name, firstRow, n, model.role(), check);
    INDArray delta = switch (change.kind()) {
      case BIAS -> loader.decoded(ad.dir(), change.b(), firstRow, n, role, check);
      case LINEAR -> product(loader, loader.decoded(ad.dir(), change.b(), firstRow, n, role, check),
          loader.decoded(ad.dir(), change.a(), 0, ad.dir().tensors().get(change.a()).shape()[0], role, check), false);
      case EMBEDDING -> product(loader, loader.decodedColumns(ad.dir(), change.a(), firstRow, n),
          loader.decoded(ad.dir(), change.b(), 0, ad.dir().tensors().get(change.b()).shape()[0], role, check), true);
      default -> throw new IllegalStateException(change.kind().name());
    };
    w.addi(delta.muli(change.scale()));
    loader.release(delta);
    return w;
  }

  /** b·a (linear: B rows × A), or aᵀ·bᵀ (embedding: A's columns transposed × Bᵀ); both factors are handed back. */
  private static INDArray product(TensorLoader loader, INDArray first, INDArray second, boolean transposed) {
    try {
      return transposed ? first.transpose().mmul(second.transpose()) : first.mmul(second);
    } finally {
      loader.release(first);
      loader.release(second);
    }
  }
}
