package io.sparkmerge.io;

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
      {"spark.hadoop.fs.file.impl.disable.cache", "true"}};

  private Storage() {}

  public static Configuration configuration() {
    return apply(new Configuration());
  }

  public static Configuration apply(Configuration conf) {
    for (String[] kv : SPARK_SETTINGS) {
      conf.setIfUnset(kv[0].substring("spark.hadoop.".length()), kv[1]);
    }
    return conf;
  }
}
