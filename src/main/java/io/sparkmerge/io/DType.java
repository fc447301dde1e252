package io.sparkmerge.io;

import io.sparkmerge.InputDataException;

/** The safetensors dtypes sparkmerge reads and writes. Floating types are merged; the rest are passed through. */
public enum DType {
  F64(8, true),
  F32(4, true),
  F16(2, true),
  BF16(2, true),
  I64(8, false),
  I32(4, false),
  I16(2, false),
  I8(1, false),
  U8(1, false),
  BOOL(1, false);

  private final int size;
  private final boolean floating;

  DType(int size, boolean floating) {
    this.size = size;
    this.floating = floating;
  }

  /** Bytes per element. */
  public int size() {
    return size;
  }

  /** True for the types the merge methods compute on (F64, F32, F16, BF16). */
  public boolean isFloating() {
    return floating;
  }

  /** The dtype named in a safetensors header, or an {@link InputDataException} naming the file and tensor. */
  public static DType fromHeader(String name, String file, String tensor) {
    for (DType d : values()) {
      if (d.name().equals(name)) {
        return d;
      }
    }
    throw new InputDataException(
        file + ": tensor '" + tensor + "' has unsupported dtype '" + name
            + "' (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL); convert the checkpoint to one of these");
  }

  /**
   * The dtype named in a config (`dtype: bfloat16`): accepts the safetensors names and the usual
   * torch spellings; null if unknown (the caller reports the key).
   */
  public static DType fromConfigName(String name) {
    switch (name.toLowerCase(java.util.Locale.ROOT)) {
      case "bfloat16": case "bf16": return BF16;
      case "float16": case "fp16": case "f16": case "half": return F16;
      case "float32": case "fp32": case "f32": case "float": return F32;
      case "float64": case "fp64": case "f64": case "double": return F64;
      default: return null;
    }
  }
}
