package io.sparkmerge.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One analysis table read from its CSV twin (header row, RFC 4180 quoting; read by {@link io.sparkmerge.io.Csv},
 * which wrote it). Cells stay strings; {@link #num} parses numbers, with empty or "null" cells as NaN.
 */
public record CsvTable(String name, List<String> columns, List<Map<String, String>> rows) {

  public static CsvTable parse(String name, String text) {
    List<String[]> records = io.sparkmerge.io.Csv.read(text);
    if (records.isEmpty()) {
      return new CsvTable(name, List.of(), List.of());
    }
    List<String> cols = List.of(records.get(0));
    List<Map<String, String>> rows = new ArrayList<>();
    for (int r = 1; r < records.size(); r++) {
      String[] rec = records.get(r);
      Map<String, String> row = new LinkedHashMap<>();
      for (int c = 0; c < cols.size(); c++) {
        row.put(cols.get(c), c < rec.length ? rec[c] : "");
      }
      rows.add(row);
    }
    return new CsvTable(name, cols, rows);
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
}
