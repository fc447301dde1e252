package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crontab lines of jobs/*-cron.txt run as cron runs them: the command after the five time fields,
 * with cron's % handling (\% is a %; a bare % would end the command), through /bin/sh in an empty
 * environment plus only what cron sets (env -i HOME LOGNAME SHELL PATH=/usr/bin:/bin). Their example
 * paths point into a sandbox: /opt/sparkmerge at a copy of jobs/ with a placeholder jar, /opt/spark at
 * a Spark home whose bin/spark-submit records its arguments and environment (and answers a --dry-run
 * with a plan), /etc/hadoop/conf, /var/log and /tmp at empty directories.
 */
class CronLinesTest {
  @TempDir Path w;

  static final String FAKE = """
      #!/bin/sh
      echo "$* | SPARK_HOME=$SPARK_HOME HADOOP_CONF_DIR=$HADOOP_CONF_DIR" >> "LOG"
      case " $* " in *" --dry-run "*) echo "estimated executor memory per task (largest): 100.0 MB";; esac
      """;

  /** Each crontab entry's command, with cron's % processing; comments and blank lines skipped. */
  static List<String> commands(Path crontab) throws Exception {
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(crontab)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.trim().split("\\s+", 6);
      assertEquals(6, f.length, "five time fields and a command: " + line);
      assertFalse(f[5].replace("\\%", "").contains("%"), "a bare % ends a cron command at that point: " + line);
      out.add(f[5].replace("\\%", "%"));
    }
    return out;
  }

  Path sandbox() throws Exception {
    Path app = Files.createDirectories(w.resolve("opt/sparkmerge/target"));
    Files.writeString(app.resolve("sparkmerge-0.1.0.jar"), "placeholder");
    Files.createSymbolicLink(w.resolve("opt/sparkmerge/jobs"), Path.of("jobs").toAbsolutePath());
    Path bin = Files.createDirectories(w.resolve("opt/spark/bin"));
    Files.writeString(bin.resolve("spark-submit"), FAKE.replace("LOG", w.resolve("calls.log").toString()));
    Files.setPosixFilePermissions(bin.resolve("spark-submit"), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createDirectories(w.resolve("etc/hadoop/conf"));
    Files.createDirectories(w.resolve("var/log"));
    Files.createDirectories(w.resolve("tmp"));
    return w;
  }

  String[] runLikeCron(String command) throws Exception {
    // one pass, so that the sandbox's own path (under /tmp) is not rewritten again
    String sandboxed = command.replaceAll("(?<=[ =:])/(opt|etc|var|tmp)/", java.util.regex.Matcher.quoteReplacement(w.toString()) + "/$1/");
    Process p = new ProcessBuilder("env", "-i", "HOME=" + w, "LOGNAME=cron", "SHELL=/bin/sh", "PATH=/usr/bin:/bin",
        "/bin/sh", "-c", sandboxed).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS));
    return new String[] {String.valueOf(p.exitValue()), out};
  }

  @Test
  void nightlyMergeLine() throws Exception {
    sandbox();
    List<String> cmds = commands(Path.of("jobs/merge-cron.txt"));
    assertEquals(1, cmds.size());
    String[] r = runLikeCron(cmds.get(0));
    assertEquals("0", r[0], r[1]);
    String day = new java.text.SimpleDateFormat("yyyyMMdd").format(new java.util.Date());
    Path log = w.resolve("var/log/sparkmerge/merge-" + day + ".log");
    assertTrue(Files.exists(log), "the line creates its log directory and logs by day");
    List<String> calls = Files.readAllLines(w.resolve("calls.log"));
    assertEquals(2, calls.size(), calls + "\n" + Files.readString(log));
    String env = " | SPARK_HOME=" + w + "/opt/spark HADOOP_CONF_DIR=" + w + "/etc/hadoop/conf";
    assertTrue(calls.get(0).endsWith("merge jobs/ties.yml hdfs:///models/merged/ties-" + day + " --dry-run --partitions 64" + env),
        calls.get(0));
    assertTrue(calls.get(1).startsWith("--master yarn --deploy-mode cluster") && calls.get(1).contains(
        "sparkmerge-0.1.0.jar merge ties.yml hdfs:///models/merged/ties-" + day + " --partitions 64" + env), calls.get(1));
  }

  @Test
  void wsmLineSubmitsWithSparkSubmitNotTheLocalLauncher() throws Exception {
    sandbox();
    List<String> cmds = commands(Path.of("jobs/wsm-cron.txt"));
    assertEquals(1, cmds.size());
    assertFalse(cmds.get(0).contains("bin/sparkmerge"), "bin/sparkmerge's classpath has no spark-yarn");
    String[] r = runLikeCron(cmds.get(0));
    assertEquals("0", r[0], r[1]);
    assertTrue(Files.exists(w.resolve("var/log/sparkmerge/wsm-run42.log")));
    List<String> calls = Files.readAllLines(w.resolve("calls.log"));
    assertEquals(List.of("--master yarn --deploy-mode client --class io.sparkmerge.cli.Main target/sparkmerge-0.1.0.jar "
        + "checkpoints hdfs:///runs/run42 hdfs:///models/run42-wsm --window 4 --schedule 1-sqrt --once | SPARK_HOME=" + w
        + "/opt/spark HADOOP_CONF_DIR=" + w + "/etc/hadoop/conf"), calls);
    // the arguments after the jar are a valid sparkmerge command line
    String args = calls.get(0).substring(calls.get(0).indexOf(".jar ") + 5, calls.get(0).indexOf(" | "));
    assertTrue(new picocli.CommandLine(new Main()).parseArgs(args.split(" ")).hasSubcommand(), args);
  }
}
