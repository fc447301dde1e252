package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.Version;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The Airflow DAGs under jobs/. Airflow is imported when it is installed (DagBag, no import errors); it
 * is not on Debian 12 nor on a reachable index here, so their structure is always checked from the
 * source with Python's ast (src/test/python/dag_calls.py): one jar name in every DAG, the sparkmerge
 * command lines valid for sparkmerge's own parser, no local path a cluster-mode driver cannot see (files
 * are shipped and named by base name), and the jar's quiet log configuration passed to spark-submit.
 */
class AirflowDagsTest {
  static final String JAR = "/opt/sparkmerge/sparkmerge-" + Version.VERSION + ".jar";
  static final String QUIET = "-Dlog4j2.configurationFile=jar:file:" + JAR + "!" + LogConfig.BUNDLED;
  @TempDir Path work;

  static String python(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3"));
    cmd.addAll(Arrays.asList(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    return p.waitFor() + "\n" + out;
  }

  static JsonNode calls(Path dag) throws Exception {
    String r = python("src/test/python/dag_calls.py", dag.toString());
    assertTrue(r.startsWith("0\n"), r);
    return new ObjectMapper().readTree(r.substring(2));
  }

  static List<Path> dags() throws Exception {
    try (Stream<Path> s = Files.list(Path.of("jobs"))) {
      return s.filter(p -> p.getFileName().toString().matches("airflow_.*\\.py")).sorted().toList();
    }
  }

  /** Airflow's templates with a logical date, as Airflow renders them. */
  static String render(String s) {
    return s.replace("{{ ds_nodash }}", "20260101").replace("{{ ds }}", "2026-01-01");
  }

  static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(render(n.asText())));
    return out;
  }

  /** The sparkmerge command line parses with sparkmerge's own options (an unknown option would throw). */
  static void parses(List<String> args, String where) {
    CommandLine.ParseResult r = new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
    assertTrue(r.hasSubcommand(), where + ": a sparkmerge command: " + args);
  }

  @Test
  void importedByAirflowWhenInstalled() throws Exception {
    if (!python("-c", "import airflow.providers.apache.spark").startsWith("0\n")) {
      System.out.println("AirflowDagsTest: Airflow is not installed (no Debian package, no index here); "
          + "the DAGs are checked from their source with ast only");
      return;
    }
    String r = python("-c", "from airflow.models import DagBag; b = DagBag('jobs', include_examples=False); "
        + "print(b.import_errors); assert not b.import_errors and len(b.dags) == " + dags().size());
    assertTrue(r.startsWith("0\n"), r);
  }

  @Test
  void everyDagSubmitsTheOneJarWithValidCommandsAndQuietLogging() throws Exception {
    List<Path> dags = dags();
    assertEquals(2, dags.size(), dags.toString());
    Set<String> jars = new HashSet<>();
    int submits = 0;
    for (Path dag : dags) {
      JsonNode c = calls(dag);
      assertFalse(c.toString().contains("<unevaluated>"), dag + ": every argument evaluates: " + c);
      for (JsonNode op : c.get("operators")) {
        JsonNode k = op.get("kwargs");
        String where = dag + " task " + k.get("task_id").asText();
        if (op.get("type").asText().equals("SparkSubmitOperator")) {
          submits++;
          jars.add(k.get("application").asText());
          assertEquals("io.sparkmerge.cli.Main", k.get("java_class").asText(), where);
          List<String> args = strings(k.get("application_args"));
          parses(args, where);
          assertEquals(QUIET, k.get("env_vars").get("SPARK_SUBMIT_OPTS").asText(), where + ": the jar's log configuration");
          assertEquals("cluster", k.get("deploy_mode").asText(), where);
          // the driver runs on a cluster node: only shared storage or files shipped with --files, by base name
          List<String> shipped = k.has("files") ? Arrays.asList(k.get("files").asText().split(",")) : List.of();
          for (String a : args) {
            assertFalse(a.startsWith("/"), where + ": the cluster's driver cannot see the local path " + a);
          }
          for (String f : shipped) {
            assertTrue(f.startsWith("/"), where + ": --files takes local files: " + f);
            String base = Path.of(f).getFileName().toString();
            assertTrue(args.contains(base) || base.equals(k.path("env_vars").path("SPARKMERGE_LOG_CONF").asText()),
                where + ": " + f + " is named by its base name " + base + " where the driver reads it");
          }
        } else if (op.get("type").asText().equals("BashOperator")) {
          List<String> words = Arrays.asList(render(k.get("bash_command").asText()).replace("'", "").split("\\s+"));
          int submit = words.indexOf("spark-submit");
          assertTrue(submit >= 0, where + ": runs spark-submit");
          int jar = words.indexOf(JAR);
          assertTrue(jar > submit, where + ": submits " + JAR + ": " + words);
          jars.add(words.get(jar));
          parses(words.subList(jar + 1, words.size()), where);
          assertEquals(QUIET, k.get("env").get("SPARK_SUBMIT_OPTS").asText(), where);
          assertTrue(k.get("append_env").asBoolean(), where + ": keeps PATH and the rest of the worker's environment");
        }
      }
    }
    assertEquals(2, submits, "the merge and the WSM merge are cluster submissions");
    assertEquals(Set.of(JAR), jars, "one jar name, the one mvn package builds");
  }

  @Test
  void ownLogConfigurationIsShippedAndNamedToTheDriver() throws Exception {
    Path dag = work.resolve("airflow_merge_dag.py");
    String src = Files.readString(Path.of("jobs/airflow_merge_dag.py"));
    assertTrue(src.contains("LOG_CONF = \"\""), "LOG_CONF is empty by default");
    Files.writeString(dag, src.replace("LOG_CONF = \"\"", "LOG_CONF = \"/opt/sparkmerge/log4j2.xml\""));
    JsonNode merge = calls(dag).get("operators").get(0).get("kwargs");
    assertEquals("/opt/sparkmerge/jobs/ties.yml,/opt/sparkmerge/log4j2.xml", merge.get("files").asText());
    assertEquals("log4j2.xml", merge.get("env_vars").get("SPARKMERGE_LOG_CONF").asText());
    assertEquals(QUIET, merge.get("env_vars").get("SPARK_SUBMIT_OPTS").asText());
  }
}
