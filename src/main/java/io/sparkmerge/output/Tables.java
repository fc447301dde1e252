package io.sparkmerge.output;

import io.sparkmerge.io.Csv;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/** The analysis tables of stats, masks and subspaces: each as Parquet (for Spark SQL) and as its CSV twin (through {@link Csv}). */
public final class Tables {
  private Tables() {}

  /**
   * Writes one table into the new output as {@code <name>.parquet} (one Spark DataFrame file) and
   * {@code <name>.csv} (header row first).
   */
  public static void write(SparkSession spark, Staging staging, String name, StructType schema, List<Object[]> values)
      throws IOException {
    List<Row> rows = new ArrayList<>();
    for (Object[] v : values) {
      rows.add(RowFactory.create(v));
    }
    spark.createDataFrame(rows, schema).coalesce(1).write().parquet(staging.dir() + "/" + name + ".parquet");
    staging.writeStaged(name + ".csv", Csv.write(Arrays.asList(schema.fieldNames()), values));
  }
}
