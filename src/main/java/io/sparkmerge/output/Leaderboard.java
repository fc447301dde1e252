package io.sparkmerge.output;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options.Rename;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A sweep's results: one row per candidate (its parameters, status, score, other metrics), written to
 * {@code OUT/leaderboard.csv} after every evaluation and to {@code OUT/leaderboard.parquet} at the end ({@link #writeParquet});
 * {@code OUT/best} names the best candidate ({@code candidates/<id>}). Both files are written to a
 * temporary sibling and renamed over the old one, so a reader sees the old or the new file, never a part.
 */
public final class Leaderboard {
  public static final String CSV = "leaderboard.csv";
  public static final String BEST = "best";
  public static final String CANDIDATES = "candidates";
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One candidate's row.
   *
   * @param status {@code ok} (scored), {@code merged} (no --eval), {@code failed} (eval failed or timed out),
   *     {@code invalid} (its config was refused)
   */
  public record Row(String id, int round, Map<String, Double> params, String status, double score, Map<String, Object> metrics,
      String error, double evalSeconds) {}

  private final Configuration conf;
  private final FileSystem fs;
  private final Path out;
  private final List<String> axes;
  private final List<Row> rows = new ArrayList<>();

  public Leaderboard(Configuration conf, FileSystem fs, Path out, List<String> axes) {
    this.conf = conf;
    this.fs = fs;
    this.out = out;
    this.axes = List.copyOf(axes);
  }

  public List<Row> rows() {
    return List.copyOf(rows);
  }

  /** The scored row with the highest score (ties: the earlier row). */
  public Optional<Row> best() {
    return rows.stream().filter(r -> r.status().equals("ok")).max(Comparator.comparingDouble(Row::score)
        .thenComparing(Comparator.comparingInt(rows::indexOf).reversed()));
  }

  /** Adds a row and rewrites leaderboard.csv. */
  public void add(Row row) throws IOException {
    rows.add(row);
    writeAtomically(CSV, csv());
  }

  /** Points OUT/best at a candidate: a temporary file renamed over the old pointer. */
  public void pointBestAt(String id) throws IOException {
    writeAtomically(BEST, CANDIDATES + "/" + id + "\n");
  }

  /** The candidate OUT/best names, or null. */
  public static String bestOf(FileSystem fs, Path out) throws IOException {
    Path p = new Path(out, BEST);
    if (!fs.exists(p)) {
      return null;
    }
    try (InputStream in = fs.open(p)) {
      String s = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
      return s.startsWith(CANDIDATES + "/") ? s.substring(CANDIDATES.length() + 1) : null;
    }
  }

  /** The table's columns: id, round, one per grid axis (dots as underscores), status, score, metrics (JSON), error, eval_seconds. */
  public StructType schema() {
    StructType s = new StructType().add("id", DataTypes.StringType).add("round", DataTypes.IntegerType);
    for (String a : axes) {
      s = s.add(a.replace('.', '_'), DataTypes.DoubleType);
    }
    return s.add("status", DataTypes.StringType).add("score", DataTypes.DoubleType).add("metrics", DataTypes.StringType)
        .add("error", DataTypes.StringType).add("eval_seconds", DataTypes.DoubleType);
  }

  /** The rows as the schema's values. */
  public List<Object[]> values() {
    List<Object[]> l = new ArrayList<>();
    for (Row r : rows) {
      List<Object> v = new ArrayList<>(List.of(r.id(), r.round()));
      axes.forEach(a -> v.add(r.params().get(a)));
      String metrics;
      try {
        metrics = r.metrics().isEmpty() ? null : JSON.writeValueAsString(r.metrics());
      } catch (JsonProcessingException e) {
        metrics = String.valueOf(r.metrics());
      }
      v.add(r.status());
      v.add(Double.isNaN(r.score()) ? null : r.score());
      v.add(metrics);
      v.add(r.error());
      v.add(r.evalSeconds());
      l.add(v.toArray());
    }
    return l;
  }

  private String csv() {
    return io.sparkmerge.io.Csv.write(java.util.Arrays.asList(schema().fieldNames()), values());
  }

  /** Writes OUT/leaderboard.parquet through Spark: into a temporary sibling, then renamed over the old one. */
  public void writeParquet(org.apache.spark.sql.SparkSession spark) throws IOException {
    List<org.apache.spark.sql.Row> r = new ArrayList<>();
    values().forEach(v -> r.add(org.apache.spark.sql.RowFactory.create(v)));
    Path tmp = new Path(out, "_leaderboard.parquet.tmp-" + java.util.UUID.randomUUID());
    spark.createDataFrame(r, schema()).coalesce(1).write().parquet(tmp.toString());
    Path dst = new Path(out, "leaderboard.parquet");
    if (fs.exists(dst)) {
      fs.delete(dst, true);
    }
    if (!fs.rename(tmp, dst)) {
      throw new IOException("cannot move " + tmp + " to " + dst);
    }
  }

  private void writeAtomically(String name, String content) throws IOException {
    Path tmp = new Path(out, "_" + name + ".tmp-" + java.util.UUID.randomUUID());
    try (OutputStream os = fs.create(tmp, false)) {
      os.write(content.getBytes(StandardCharsets.UTF_8));
    }
    FileContext fc = FileContext.getFileContext(fs.getUri(), conf);
    fc.rename(fs.makeQualified(tmp), fs.makeQualified(new Path(out, name)), Rename.OVERWRITE);
  }
}
