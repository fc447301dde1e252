package io.sparkmerge.output;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * File names made from names found in input data (tensor names, model directory names): no path
 * component from input data ever reaches the file system. Letters, digits, '_' and '-' stay, and '.'
 * except at the start; every other character becomes {@code %XX} (its UTF-8 bytes), so a name is one
 * path component, never {@code .} or {@code ..}, never hidden, and distinct names stay distinct. Names
 * longer than 200 characters after escaping keep their first 180 and a digest of the whole name.
 */
public final class SafeNames {
  private static final int MAX = 200;

  private SafeNames() {}

  public static String fileName(String name) {
    StringBuilder sb = new StringBuilder();
    byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < utf8.length; i++) {
      int b = utf8[i] & 0xff;
      boolean plain = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_' || b == '-'
          || (b == '.' && i > 0);
      if (plain) {
        sb.append((char) b);
      } else {
        sb.append('%').append(HexFormat.of().withUpperCase().toHexDigits((byte) b));
      }
    }
    if (sb.length() == 0) {
      return "%empty"; // escaping never yields "%" followed by "m"
    }
    if (sb.length() > MAX) {
      return sb.substring(0, 180) + "~" + digest(name);
    }
    return sb.toString();
  }

  private static String digest(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
