package io.sparkmerge.math;

import java.nio.charset.StandardCharsets;

/**
 * Counter-based random numbers (SplitMix64): the draw for element i of a tensor is a pure function
 * of (seed, tensor name, model index, i). Masks therefore do not depend on chunking, partitioning,
 * task order or retries (DESIGN.md §5.2). Not torch's generator: bit parity with mergekit is not a goal.
 */
public final class DeterministicRandom {
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private DeterministicRandom() {}

  /** The stream key of one (seed, tensor, model). */
  public static long key(long seed, String tensorName, int modelIndex) {
    long h = mix(seed ^ 0x5EED5EED5EEDL);
    for (byte b : tensorName.getBytes(StandardCharsets.UTF_8)) {
      h = mix(h + GOLDEN + (b & 0xff));
    }
    return mix(h + GOLDEN * (modelIndex + 1L));
  }

  /** Uniform in [0, 1) with 53 random bits: draw number {@code index} of the stream {@code key}. */
  public static double uniform(long key, long index) {
    return (mix(key + GOLDEN * (index + 1)) >>> 11) * 0x1.0p-53;
  }

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
