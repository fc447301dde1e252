package io.sparkmerge;

/**
 * What goes into a message a user reads: values from configs and inputs are cut to a few dozen
 * characters (a YAML alias bomb or a huge tensor name must not turn an error into megabytes), and
 * control characters (terminal escapes in tensor names) are shown as {@code \\uXXXX}, never sent raw.
 */
public final class Messages {
  /** The longest error line printed. */
  public static final int MAX_LINE = 1000;

  private Messages() {}

  /** A value for a message: printable, at most 80 characters. */
  public static String brief(Object value) {
    return cut(printable(String.valueOf(value)), 80);
  }

  /** The string with every control character (and lone surrogate) escaped as {@code \\uXXXX}. */
  public static String printable(String s) {
    StringBuilder sb = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean bad = Character.isISOControl(c) || Character.getType(c) == Character.FORMAT || (Character.isSurrogate(c) && !pairAt(s, i));
      if (bad && sb == null) {
        sb = new StringBuilder(s.substring(0, i));
      }
      if (sb != null) {
        if (bad) {
          sb.append(String.format("\\u%04X", (int) c));
        } else {
          sb.append(c);
        }
      }
      if (!bad && Character.isHighSurrogate(c) && pairAt(s, i)) {
        i++;
        if (sb != null) {
          sb.append(s.charAt(i));
        }
      }
    }
    return sb == null ? s : sb.toString();
  }

  private static boolean pairAt(String s, int i) {
    char c = s.charAt(i);
    if (Character.isHighSurrogate(c)) {
      return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
    }
    return i > 0 && Character.isHighSurrogate(s.charAt(i - 1)); // a low surrogate is paired when its high one precedes it
  }

  /** At most {@code max} characters, with the full length said when cut. */
  public static String cut(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max) + "… (" + s.length() + " characters)";
  }
}
