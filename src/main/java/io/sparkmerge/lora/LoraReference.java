package io.sparkmerge.lora;

import io.sparkmerge.ConfigException;

/**
 * mergekit's model reference with a LoRA: {@code MODEL+ADAPTER} (common.py ModelReference: the text split at
 * '+', at most one). The model's files (config, tokenizer) are the MODEL directory's; its tensors are those
 * of MODEL with the adapter added ({@link LoraAdapter}).
 */
public final class LoraReference {
  private LoraReference() {}

  /** The model directory of a reference (the reference itself when it names no adapter). */
  public static String modelPath(String ref) {
    int i = ref == null ? -1 : ref.indexOf('+');
    return i < 0 ? ref : ref.substring(0, i);
  }

  /** The adapter directory of a reference, or null; {@code where} names the config entry in errors. */
  public static String adapterPath(String ref, String where) {
    int i = ref.indexOf('+');
    if (i < 0) {
      return null;
    }
    if (ref.indexOf('+', i + 1) >= 0 || i == 0 || i == ref.length() - 1) {
      throw new ConfigException(where + ": '" + ref + "' is not MODEL or MODEL+LORA_ADAPTER ('+' separates a model from one"
          + " PEFT adapter; a path with '+' in its name cannot be used)");
    }
    return ref.substring(i + 1);
  }
}
