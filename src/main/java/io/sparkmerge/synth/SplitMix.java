package io.sparkmerge.synth;

import java.nio.charset.StandardCharsets;

/** Counter-based pseudo-random values (SplitMix64 finaliser): value i of a stream is a pure function of (key, i). */
final class SplitMix {
  private SplitMix() {}

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  static long hash(long seed, String name, int model) {
    long h = mix(seed + 0x9E3779B97F4A7C15L);
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      h = mix(h ^ (b & 0xff));
    }
    return mix(h ^ (model * 0x9E3779B97F4A7C15L + 1));
  }

  /** Uniform in [-1, 1). */
  static float symmetric(long key, long i) {
    long z = mix(key + (i + 1) * 0x9E3779B97F4A7C15L);
    return ((z >>> 40) * 0x1.0p-24f) * 2f - 1f;
  }
}
