package io.sparkmerge.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One analysis table read from its CSV twin (header row, RFC 4180 quoting as Spark and the jobs write
 * it). Cells stay strings; {@link #num} parses numbers, with empty or "null" cells as NaN.
 */
public record CsvTable(String name, List<String> columns, List<Map<String, String>> rows) {

  public static CsvTable parse(String name, String text) {
    List<List<String>> records = records(text);
    if (records.isEmpty()) {
      return new CsvTable(name, List.of(), List.of());
    }
    List<String> cols = records.get(0);
    List<Map<String, String>> rows = new ArrayList<>();
    for (int r = 1; r < records.size(); r++) {
      List<String> rec = records.get(r);
      if (rec.size() == 1 && rec.get(0).isEmpty()) {
        continue;
      }
      Map<String, String> row = new LinkedHashMap<>();
      for (int c = 0; c < cols.size(); c++) {
        row.put(cols.get(c), c < rec.size() ? rec.get(c) : "");
      }
      rows.add(row);
    }
    return new CsvTable(name, List.copyOf(cols), rows);
  }

  public boolean has(String column) {
    return columns.contains(column);
  }

  public static double num(Map<String, String> row, String column) {
    String v = row.get(column);
    if (v == null || v.isEmpty() || v.equalsIgnoreCase("null")) {
      return Double.NaN;
    }
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }

  private static List<List<String>> records(String text) {
    List<List<String>> out = new ArrayList<>();
    List<String> rec = new ArrayList<>();
    StringBuilder cell = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < text.length(); i++) {
      char ch = text.charAt(i);
      if (quoted) {
        if (ch == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
          cell.append('"');
          i++;
        } else if (ch == '"') {
          quoted = false;
        } else {
          cell.append(ch);
        }
      } else if (ch == '"') {
        quoted = true;
      } else if (ch == ',') {
        rec.add(cell.toString());
        cell.setLength(0);
      } else if (ch == '\n' || ch == '\r') {
        if (ch == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
          i++;
        }
        rec.add(cell.toString());
        cell.setLength(0);
        out.add(rec);
        rec = new ArrayList<>();
      } else {
        cell.append(ch);
      }
    }
    if (cell.length() > 0 || !rec.isEmpty()) {
      rec.add(cell.toString());
      out.add(rec);
    }
    return out;
  }
}
