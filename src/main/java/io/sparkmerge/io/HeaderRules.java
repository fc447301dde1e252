package io.sparkmerge.io;

import io.sparkmerge.InputDataException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Rules of a safetensors header that look at more than one entry, or at names: tiling and valid Unicode. */
final class HeaderRules {
  private HeaderRules() {}

  /** Whether every UTF-16 surrogate in s is part of a pair (JSON escapes such as "\\ud800" can make lone ones). */
  static boolean validUnicode(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  /** Tensors must cover the data section exactly: no overlap, no gap, nothing trailing. */
  static void checkTiling(String label, List<TensorInfo> entries, long dataLength) {
    List<TensorInfo> sorted = new ArrayList<>(entries);
    sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
    long expected = 0;
    TensorInfo prev = null;
    for (TensorInfo t : sorted) {
      if (t.begin() < expected) {
        throw new InputDataException(label + ": tensor '" + t.name() + "' [" + t.begin() + ", " + t.end()
            + ") overlaps tensor '" + prev.name() + "' [" + prev.begin() + ", " + prev.end() + ")");
      }
      if (t.begin() > expected) {
        throw new InputDataException(label + ": gap of " + (t.begin() - expected) + " bytes before tensor '" + t.name()
            + "' at offset " + expected + "; tensors must be contiguous");
      }
      expected = t.end();
      prev = t;
    }
    if (expected != dataLength) {
      throw new InputDataException(label + ": " + (dataLength - expected) + " trailing bytes after the last tensor (data section "
          + dataLength + " bytes, tensors end at " + expected + ")");
    }
  }
}
