package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.ConfigurationSource;
import org.apache.logging.log4j.core.config.DefaultConfiguration;
import org.apache.logging.log4j.core.config.properties.PropertiesConfigurationFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which log4j2 configuration Main applies: SPARKMERGE_LOG_CONF's file; the user's own kept; otherwise
 * the bundled one in place of log4j's or Spark's defaults. (That a spark-submit of the jar then prints
 * no INFO line is ShadedJarIT's.)
 */
class LogConfigTest {
  @TempDir Path work;

  @Test
  void environmentNamesAFileOrAUri() {
    assertEquals(Path.of("conf/mine.xml").toAbsolutePath().toUri(), LogConfig.choose("conf/mine.xml"));
    assertEquals(URI.create("jar:file:/opt/s.jar!/io/sparkmerge/log4j2.xml"), LogConfig.choose("jar:file:/opt/s.jar!/io/sparkmerge/log4j2.xml"));
  }

  @Test
  void theUsersOwnConfigurationIsKept() {
    // here log4j found src/test/resources/log4j2-test.xml on the classpath: a configuration of the user's
    assertNull(LogConfig.choose(null));
    assertNull(LogConfig.choose(" "));
    System.setProperty("log4j2.configurationFile", "/etc/mine.xml");
    try {
      assertNull(LogConfig.choose(null));
    } finally {
      System.clearProperty("log4j2.configurationFile");
    }
  }

  @Test
  void sparksAndLog4jsDefaultsAreReplacedByTheBundledOne() throws Exception {
    assertNotNull(LogConfig.class.getResource(LogConfig.BUNDLED), "the bundled configuration is a resource");
    LoggerContext ctx = new LoggerContext("t");
    java.net.URL spark = org.apache.spark.SparkContext.class.getClassLoader().getResource("org/apache/spark/log4j2-defaults.properties");
    assertNotNull(spark);
    assertTrue(LogConfig.isSparkDefault(new PropertiesConfigurationFactory().getConfiguration(ctx, ConfigurationSource.fromUri(spark.toURI()))));
    assertFalse(LogConfig.isSparkDefault(new DefaultConfiguration()));
  }

  @Test
  void applyingTheEnvironmentsFileReconfiguresLogging() throws Exception {
    LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
    URI before = ctx.getConfigLocation();
    Path mine = Files.writeString(work.resolve("mine.xml"), """
        <Configuration status="WARN">
          <Loggers><Logger name="io.sparkmerge.test.mine" level="DEBUG"/><Root level="ERROR"/></Loggers>
        </Configuration>
        """);
    try {
      assertEquals(mine.toUri(), LogConfig.apply(mine.toString()));
      assertTrue(LogManager.getLogger("io.sparkmerge.test.mine").isDebugEnabled());
    } finally {
      ctx.setConfigLocation(before);
    }
    assertFalse(LogManager.getLogger("io.sparkmerge.test.mine").isDebugEnabled());
  }
}
