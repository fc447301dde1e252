package io.sparkmerge.io;

import com.univocity.parsers.csv.CsvParser;
import com.univocity.parsers.csv.CsvParserSettings;
import com.univocity.parsers.csv.CsvWriter;
import com.univocity.parsers.csv.CsvWriterSettings;
import java.io.Reader;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.List;

/**
 * Every CSV sparkmerge reads or writes goes through here, with one library (univocity-parsers, which
 * Spark ships for its own CSV source): RFC 4180 quoting of fields holding a comma, a quote, a carriage
 * return or a newline; nulls written as empty fields; doubles with round-trip precision ("NaN" for NaN);
 * values read back exactly as written (no trimming, no length limit).
 */
public final class Csv {
  private Csv() {}

  /** The CSV text of a header row and data rows. */
  public static String write(List<String> header, List<Object[]> rows) {
    CsvWriterSettings ws = new CsvWriterSettings();
    ws.getFormat().setLineSeparator("\n");
    ws.setQuotationTriggers('\r', '\n', ',', '"');
    ws.setIgnoreLeadingWhitespaces(false);
    ws.setIgnoreTrailingWhitespaces(false);
    ws.setMaxCharsPerColumn(-1);
    StringWriter out = new StringWriter();
    CsvWriter w = new CsvWriter(out, ws);
    w.writeRow(header.toArray());
    for (Object[] r : rows) {
      String[] cells = new String[r.length];
      for (int i = 0; i < r.length; i++) {
        Object v = r[i];
        cells[i] = v == null ? null : v instanceof Double d ? (d.isNaN() ? "NaN" : Double.toString(d)) : v.toString();
      }
      w.writeRow((Object[]) cells);
    }
    w.close();
    return out.toString();
  }

  /** Every record of a CSV text (the header row first); empty fields are empty strings. */
  public static List<String[]> read(String text) {
    return read(new StringReader(text));
  }

  public static List<String[]> read(Reader in) {
    CsvParserSettings ps = new CsvParserSettings();
    ps.getFormat().setLineSeparator("\n");
    ps.setLineSeparatorDetectionEnabled(true);
    ps.setIgnoreLeadingWhitespaces(false);
    ps.setIgnoreTrailingWhitespaces(false);
    ps.setNullValue("");
    ps.setEmptyValue("");
    ps.setMaxCharsPerColumn(-1);
    ps.setNormalizeLineEndingsWithinQuotes(false);
    ps.setSkipEmptyLines(true);
    return new CsvParser(ps).parseAll(in);
  }
}
