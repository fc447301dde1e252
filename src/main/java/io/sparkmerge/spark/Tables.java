package io.sparkmerge.spark;

/** CSV lines of analysis tables: nulls as empty fields, doubles with round-trip precision, quoting only when needed. */
final class Tables {
  private Tables() {}

  static String csvLine(Object[] values) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < values.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      Object v = values[i];
      if (v == null) {
        continue;
      }
      String s = v instanceof Double d ? (d.isNaN() ? "NaN" : Double.toString(d)) : v.toString();
      if (s.contains(",") || s.contains("\"") || s.contains("\n")) {
        s = '"' + s.replace("\"", "\"\"") + '"';
      }
      sb.append(s);
    }
    return sb.append('\n').toString();
  }
}
