package io.sparkmerge.cli;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.DefaultConfiguration;

/**
 * Chooses the log4j2 configuration before any Spark session starts. A spark-submit of the shaded jar
 * otherwise logs with Spark's defaults (INFO: ~100 lines per run), since the jar is not on the
 * classpath log4j searches at JVM start. In order: the file SPARKMERGE_LOG_CONF names; the user's own
 * configuration (-Dlog4j2.configurationFile, or a log4j2 file log4j found, e.g. in SPARK_CONF_DIR) is
 * kept; otherwise the jar's quiet one, {@value #BUNDLED}.
 */
final class LogConfig {
  static final String ENV = "SPARKMERGE_LOG_CONF";
  static final String BUNDLED = "/io/sparkmerge/log4j2.xml";

  private LogConfig() {}

  /** Applies the choice; returns the configuration applied, or null when the current one is kept. */
  static URI apply(String envValue) {
    URI chosen = choose(envValue);
    if (chosen != null) {
      LoggerContext context = (LoggerContext) LogManager.getContext(false);
      if (isSparkDefault(context.getConfiguration())) {
        forgetSparkDefault();
      }
      context.setConfigLocation(chosen);
    }
    return chosen;
  }

  /**
   * Under spark-submit, Spark has loaded its defaults before Main and keeps a flag saying so; while it is
   * set, every later initialisation of Spark's logging (the SparkContext's) reloads the defaults over any
   * other configuration (Spark 4.0's Logging.initializeLogging, whose uninitialize() keeps the flag). The
   * flag is cleared through its public bytecode setter; on a Spark without it nothing is done (the IT
   * that submits the jar would then see Spark's INFO lines).
   */
  private static void forgetSparkDefault() {
    try {
      Class<?> logging = Class.forName("org.apache.spark.internal.Logging$");
      logging.getMethod("org$apache$spark$internal$Logging$$defaultSparkLog4jConfig_$eq", boolean.class)
          .invoke(logging.getField("MODULE$").get(null), false);
    } catch (ReflectiveOperationException | LinkageError e) {
      // not Spark 4.0's Logging: the configuration is applied all the same, and Spark may reload its own
    }
  }

  static URI choose(String envValue) {
    if (envValue != null && !envValue.isBlank()) {
      return envValue.matches("[a-z]+:.*") ? URI.create(envValue) : Path.of(envValue).toAbsolutePath().toUri();
    }
    if (System.getProperty("log4j2.configurationFile") != null || System.getProperty("log4j.configurationFile") != null) {
      return null;
    }
    Configuration current = ((LoggerContext) LogManager.getContext(false)).getConfiguration();
    if (!(current instanceof DefaultConfiguration) && !isSparkDefault(current)) {
      return null;
    }
    URL bundled = LogConfig.class.getResource(BUNDLED);
    try {
      return bundled == null ? null : bundled.toURI();
    } catch (URISyntaxException e) {
      return null;
    }
  }

  /** Spark's own fallback (org/apache/spark/log4j2-defaults.properties), loaded when it found no configuration. */
  static boolean isSparkDefault(Configuration c) {
    String location = c.getConfigurationSource() == null ? null : c.getConfigurationSource().getLocation();
    return location != null && location.contains("org/apache/spark/log4j2");
  }
}
