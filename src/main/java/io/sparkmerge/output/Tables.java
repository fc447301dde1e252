package io.sparkmerge.output;

/** CSV lines of analysis tables: nulls as empty fields, doubles with round-trip precision, quoting only when needed. */
public final class Tables {
  private Tables() {}

  public static String csvLine(Object[] values) {
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

  /**
   * Writes one table into the committer's staging directory as {@code <name>.parquet} (one Spark
   * DataFrame file) and {@code <name>.csv} (header row first); returns the two staged names.
   */
  public static java.util.List<String> write(org.apache.spark.sql.SparkSession spark, OutputCommitter committer, String name,
      org.apache.spark.sql.types.StructType schema, java.util.List<Object[]> values) throws java.io.IOException {
    java.util.List<org.apache.spark.sql.Row> rows = new java.util.ArrayList<>();
    StringBuilder csv = new StringBuilder(String.join(",", schema.fieldNames())).append('\n');
    for (Object[] v : values) {
      rows.add(org.apache.spark.sql.RowFactory.create(v));
      csv.append(csvLine(v));
    }
    spark.createDataFrame(rows, schema).coalesce(1).write().parquet(committer.staging() + "/" + name + ".parquet");
    committer.writeStaged(name + ".csv", csv.toString());
    return java.util.List.of(name + ".parquet", name + ".csv");
  }
}
