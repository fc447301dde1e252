package io.sparkmerge.io;

import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * Hadoop settings sparkmerge applies to every FileSystem it opens. Local paths use
 * {@link RawLocalFileSystem}: the default checksumming local FS writes a hidden {@code .crc} file next
 * to every shard (also into users' output directories) and re-checksums every read, for no benefit
 * on a local disk. HDFS and S3A keep their own integrity checks.
 */
public final class Storage {
  /** Spark conf keys carrying the same settings to executors ({@code spark.hadoop.*}). */
  public static final String[][] SPARK_SETTINGS = {
      {"spark.hadoop.fs.file.impl", RawLocalFileSystem.class.getName()},
      {"spark.hadoop.fs.file.impl.disable.cache", "true"},
      // S3A's default "disk" upload buffer allocates through LocalDirAllocator, which casts the local FileSystem to
      // LocalFileSystem and fails on the raw one above: S3A buffers what it writes in memory instead. (A merge's
      // shards do not go through it: the tasks put their own parts, see MultipartOutput.)
      {"spark.hadoop.fs.s3a.fast.upload.buffer", "bytebuffer"}};
  private static final String SPARK_HADOOP = "spark.hadoop.";

  private Storage() {}

  public static Configuration configuration() {
    return configuration(List.of());
  }

  /**
   * The configuration of a command that runs without Spark (report, verify, inspect, a dry run): Hadoop's
   * defaults and site files, the settings above, then every {@code spark.hadoop.K=V} as {@code K=V}, first
   * from the system properties (spark-submit passes --conf and spark-defaults.conf that way), then from
   * {@code settings} (the command's own --conf), exactly as a Spark job's Hadoop configuration gets them.
   */
  public static Configuration configuration(List<Map.Entry<String, String>> settings) {
    Configuration conf = apply(new Configuration());
    for (String key : System.getProperties().stringPropertyNames()) {
      if (key.startsWith(SPARK_HADOOP)) {
        conf.set(key.substring(SPARK_HADOOP.length()), System.getProperty(key));
      }
    }
    for (Map.Entry<String, String> kv : settings) {
      if (kv.getKey().startsWith(SPARK_HADOOP)) {
        conf.set(kv.getKey().substring(SPARK_HADOOP.length()), kv.getValue());
      }
    }
    return conf;
  }

  /** Sets each of the settings above that the user did not set (a value from Hadoop's core-default.xml is not the user's). */
  public static Configuration apply(Configuration conf) {
    for (String[] kv : SPARK_SETTINGS) {
      String key = kv[0].substring(SPARK_HADOOP.length());
      String[] sources = conf.get(key) == null ? null : conf.getPropertySources(key);
      if (conf.get(key) == null || sources != null && sources.length > 0 && "core-default.xml".equals(sources[sources.length - 1])) {
        conf.set(key, kv[1]);
      }
    }
    return conf;
  }
}
