package io.sparkmerge.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.InputDataException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;

/**
 * LEWIS importance tables (methods.md §4): columns {@code layer, component, base, finetuned}, one row
 * per module of a block, as CSV (header row), JSON (an array of objects) or Parquet, by extension.
 */
public final class ImportanceTables {
  static final List<String> COLUMNS = List.of("layer", "component", "base", "finetuned");

  private ImportanceTables() {}

  public static List<ImportanceRow> read(FileSystem fs, Path path) throws IOException {
    String name = path.getName().toLowerCase(Locale.ROOT);
    if (!fs.exists(path)) {
      throw new InputDataException("importance table " + path + " does not exist; check 'importance:' in the config");
    }
    List<ImportanceRow> rows;
    if (name.endsWith(".csv")) {
      rows = csv(fs, path);
    } else if (name.endsWith(".json")) {
      rows = json(fs, path);
    } else if (name.endsWith(".parquet")) {
      rows = parquet(fs, path);
    } else {
      throw new InputDataException("importance table " + path + ": unknown format; use a .csv, .json or .parquet file with"
          + " columns " + String.join(", ", COLUMNS));
    }
    if (rows.isEmpty()) {
      throw new InputDataException("importance table " + path + " has no rows");
    }
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (ImportanceRow r : rows) {
      if (!seen.add(r.layer() + "/" + r.component())) {
        throw new InputDataException("importance table " + path + ": layer " + r.layer() + ", component " + r.component()
            + " appears twice; give one row per module");
      }
      if (!Double.isFinite(r.base()) || !Double.isFinite(r.finetuned()) || r.layer() < 0) {
        throw new InputDataException("importance table " + path + ": layer " + r.layer() + ", component " + r.component()
            + " has a negative layer or a non-finite importance");
      }
    }
    return rows;
  }

  private static List<ImportanceRow> csv(FileSystem fs, Path path) throws IOException {
    List<ImportanceRow> rows = new ArrayList<>();
    List<String[]> records;
    try (var in = new InputStreamReader(fs.open(path), StandardCharsets.UTF_8)) {
      records = Csv.read(in);
    } catch (RuntimeException e) {
      throw new InputDataException("importance table " + path + " is not valid CSV (" + e.getMessage() + ")");
    }
    if (records.isEmpty()) {
      return rows;
    }
    List<String> h = java.util.Arrays.stream(records.get(0)).map(String::strip).toList();
    int[] idx = new int[COLUMNS.size()];
    for (int c = 0; c < COLUMNS.size(); c++) {
      idx[c] = h.indexOf(COLUMNS.get(c));
      if (idx[c] < 0) {
        throw new InputDataException("importance table " + path + ": the header has no column '" + COLUMNS.get(c)
            + "'; expected columns " + String.join(", ", COLUMNS));
      }
    }
    for (int n = 1; n < records.size(); n++) {
      String[] f = records.get(n);
      try {
        rows.add(new ImportanceRow(Integer.parseInt(f[idx[0]].strip()), f[idx[1]].strip(), Double.parseDouble(f[idx[2]].strip()),
            Double.parseDouble(f[idx[3]].strip())));
      } catch (RuntimeException e) {
        throw new InputDataException("importance table " + path + ", record " + (n + 1) + ": cannot read "
            + java.util.Arrays.toString(f) + " as " + String.join(", ", COLUMNS) + " (" + e.getMessage() + ")");
      }
    }
    return rows;
  }

  private static List<ImportanceRow> json(FileSystem fs, Path path) throws IOException {
    JsonNode root;
    try (var in = fs.open(path)) {
      root = new ObjectMapper().readTree(in);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new InputDataException("importance table " + path + " is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isArray()) {
      throw new InputDataException("importance table " + path + " must be a JSON array of objects with "
          + String.join(", ", COLUMNS));
    }
    List<ImportanceRow> rows = new ArrayList<>();
    for (JsonNode o : root) {
      for (String c : COLUMNS) {
        if (o.get(c) == null) {
          throw new InputDataException("importance table " + path + ": an entry has no '" + c + "': " + o);
        }
      }
      rows.add(new ImportanceRow(o.get("layer").asInt(), o.get("component").asText(), o.get("base").asDouble(),
          o.get("finetuned").asDouble()));
    }
    return rows;
  }

  private static List<ImportanceRow> parquet(FileSystem fs, Path path) throws IOException {
    List<ImportanceRow> rows = new ArrayList<>();
    try (ParquetReader<Group> r = ParquetReader.builder(new GroupReadSupport(), fs.makeQualified(path)).withConf(fs.getConf()).build()) {
      Group g;
      while ((g = r.read()) != null) {
        try {
          rows.add(new ImportanceRow((int) number(g, "layer"), g.getString("component", 0), number(g, "base"),
              number(g, "finetuned")));
        } catch (RuntimeException e) {
          throw new InputDataException("importance table " + path + ": a row lacks " + String.join(", ", COLUMNS)
              + " (" + e.getMessage() + ")");
        }
      }
    }
    return rows;
  }

  private static double number(Group g, String field) {
    var type = g.getType().getType(field).asPrimitiveType().getPrimitiveTypeName();
    return switch (type) {
      case INT32 -> g.getInteger(field, 0);
      case INT64 -> g.getLong(field, 0);
      case FLOAT -> g.getFloat(field, 0);
      case DOUBLE -> g.getDouble(field, 0);
      default -> throw new IllegalArgumentException("column " + field + " is " + type + ", not a number");
    };
  }
}
