package io.sparkmerge.io;

import java.io.Serializable;

/**
 * One module's importance in one fine-tuned model (methods.md §4): block index {@code layer}, module
 * path inside the block {@code component} (e.g. {@code self_attn.q_proj}), and the importance of
 * that module in the base and in the fine-tune.
 */
public record ImportanceRow(int layer, String component, double base, double finetuned) implements Serializable {

  /** The module's key, {@code <layer>/<component>}. */
  public String key() {
    return layer + "/" + component;
  }

  /** The same module with these importances. */
  public ImportanceRow with(double baseImportance, double finetunedImportance) {
    return new ImportanceRow(layer, component, baseImportance, finetunedImportance);
  }
}
