package io.sparkmerge.testing;

import org.apache.spark.sql.SparkSession;

/**
 * One local Spark session for the whole test JVM: local[2,4] (two cores, four attempts per task, so
 * retry tests see real retries). Tests that go through the CLI's own session creation use
 * {@code Main.execute}, which reuses and then stops it; {@link #get()} recreates it on demand.
 */
public final class SparkTestSession {
  private static SparkSession session;

  private SparkTestSession() {}

  public static synchronized SparkSession get() {
    if (session == null || session.sparkContext().isStopped()) {
      session = SparkSession.builder()
          .master("local[2,4]")
          .appName("sparkmerge-tests")
          .config("spark.ui.enabled", "false")
          .config("spark.ui.showConsoleProgress", "false")
          .config("spark.sql.shuffle.partitions", "4")
          .config("spark.driver.host", "127.0.0.1")
          .config("spark.driver.bindAddress", "127.0.0.1")
          .config(io.sparkmerge.io.Storage.SPARK_SETTINGS[0][0], io.sparkmerge.io.Storage.SPARK_SETTINGS[0][1])
          .config(io.sparkmerge.io.Storage.SPARK_SETTINGS[1][0], io.sparkmerge.io.Storage.SPARK_SETTINGS[1][1])
          .getOrCreate();
    }
    return session;
  }
}
