package io.sparkmerge.synth;

import io.sparkmerge.ConfigException;
import io.sparkmerge.io.DType;
import java.util.Locale;

/**
 * Sizes of a generated LLaMA-like model family. {@code tiny} (~1 MB, float32, with one integer
 * tensor to exercise pass-through), {@code small} (~60 MB, bfloat16), {@code medium} (~270 MB,
 * bfloat16, for benchmarks on a busy machine), {@code 1b} (~1.26 B parameters, bfloat16). How the
 * files are sharded is the generator's shard size, not the preset's.
 */
public record FamilyPreset(String name, int vocab, int hidden, int intermediate, int layers, DType dtype,
    boolean integerTensor) {

  public static FamilyPreset of(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "tiny", "llama-tiny" -> new FamilyPreset("tiny", 256, 64, 192, 4, DType.F32, true);
      case "small", "llama-small" -> new FamilyPreset("small", 4096, 512, 1376, 8, DType.BF16, false);
      case "medium", "llama-medium" -> new FamilyPreset("medium", 16000, 1024, 2816, 8, DType.BF16, false);
      case "1b", "llama-1b" -> new FamilyPreset("1b", 32000, 2048, 5632, 22, DType.BF16, false);
      default -> throw new ConfigException("unknown family '" + name + "'; choose tiny, small, medium or 1b");
    };
  }

  public long parameterCount() {
    long h = hidden;
    long perLayer = 4 * h * h + 3 * h * intermediate + 2 * h;
    return 2L * vocab * h + layers * perLayer + h;
  }
}
