package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.testing.Checkpoints;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The YARN and Kubernetes wrappers, run as real processes with a stand-in {@code spark-submit} on PATH
 * that logs its arguments and, for {@code --dry-run}, runs sparkmerge's Main on this JVM's classpath
 * (or prints a canned plan): executors are sized from the dry-run's per-task estimate.
 */
class JobScriptsTest {
  @TempDir Path work;

  static final String FAKE = """
      #!/usr/bin/env bash
      echo "$*" >> "$FAKE_LOG"
      echo "${SPARK_SUBMIT_OPTS:-}" >> "$FAKE_LOG.opts"
      app=(); seen=0
      for a in "$@"; do if [ $seen = 1 ]; then app+=("$a"); elif [[ "$a" == *.jar ]]; then seen=1; fi; done
      case " $* " in
        *" --dry-run "*) if [ -n "${FAKE_PLAN:-}" ]; then echo "$FAKE_PLAN"; else exec java -cp "$FAKE_CP" io.sparkmerge.cli.Main "${app[@]}"; fi;;
      esac
      """;

  record Result(int code, String out, List<String> calls, List<String> opts) {}

  Result run(Map<String, String> env, String... cmd) throws Exception {
    Path bin = Files.createDirectories(work.resolve("bin"));
    Path fake = bin.resolve("spark-submit");
    Files.writeString(fake, FAKE);
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path log = work.resolve("calls-" + System.nanoTime() + ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    pb.environment().put("FAKE_LOG", log.toString());
    pb.environment().put("FAKE_CP", System.getProperty("java.class.path"));
    pb.environment().put("SPARKMERGE_JAR", "/opt/sparkmerge/sparkmerge.jar");
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int code = p.waitFor();
    Path opts = Path.of(log + ".opts");
    return new Result(code, out, Files.exists(log) ? Files.readAllLines(log) : List.of(),
        Files.exists(opts) ? Files.readAllLines(opts) : List.of());
  }

  @Test
  void yarnWrapperSizesExecutorsFromARealDryRun() throws Exception {
    var dirs = Checkpoints.tinyFamily(work.resolve("family"), 2, 2);
    Path cfg = work.resolve("ties.yml");
    Files.writeString(cfg, "merge_method: ties\nbase_model: " + dirs.get(0) + "\nmodels:\n  - model: " + dirs.get(1)
        + "\n    parameters: {weight: 0.5, density: 0.3}\n");
    Result r = run(Map.of(), "bash", "jobs/spark-submit-yarn.sh", cfg.toString(), "hdfs:///out/m", "8", "2", "--overwrite");
    assertEquals(0, r.code(), r.out());
    assertTrue(r.out().contains("estimated executor memory per task (largest):"), "the dry-run plan is shown:\n" + r.out());
    assertEquals(2, r.calls().size(), r.calls().toString());
    assertTrue(r.calls().get(0).endsWith("merge " + cfg + " hdfs:///out/m --dry-run --partitions 8"), r.calls().get(0));
    String submit = r.calls().get(1);
    assertTrue(submit.startsWith("--master yarn --deploy-mode cluster"), submit);
    assertTrue(submit.contains("--num-executors 4 ") && submit.contains("spark.executor.cores=2")
        && submit.contains("spark.executor.memory=2560m") && submit.contains("spark.executor.memoryOverhead=1024m"), submit);
    assertTrue(submit.endsWith("--files " + cfg + " /opt/sparkmerge/sparkmerge.jar merge ties.yml hdfs:///out/m --partitions 8 --overwrite"),
        submit);
    // spark-submit here (the dry-run's driver, then the YARN client) logs with the jar's quiet configuration
    assertEquals(List.of(QUIET, QUIET), r.opts());

    // SPARKMERGE_LOG_CONF: used here, shipped with the config and named to the driver's Main by its base name
    Path own = Files.writeString(work.resolve("my-log4j2.xml"), "<Configuration/>");
    Result mine = run(Map.of("SPARKMERGE_LOG_CONF", own.toString()), "bash", "jobs/spark-submit-yarn.sh", cfg.toString(),
        "hdfs:///out/m", "8", "2");
    assertEquals(0, mine.code(), mine.out());
    String s2 = mine.calls().get(1);
    assertTrue(s2.contains("--conf spark.yarn.appMasterEnv.SPARKMERGE_LOG_CONF=my-log4j2.xml --files " + cfg + "," + own + " "), s2);
    assertEquals("-Dlog4j2.configurationFile=file:" + own, mine.opts().get(1));
  }

  static final String QUIET = "-Dlog4j2.configurationFile=jar:file:/opt/sparkmerge/sparkmerge.jar!/io/sparkmerge/log4j2.xml";

  @Test
  void standaloneWrapperRunsTheDriverWithTheJarsLogConfiguration() throws Exception {
    Result r = run(Map.of(), "bash", "jobs/spark-submit-standalone.sh", "spark://m:7077", "jobs/ties.yml", "hdfs:///out/m");
    assertEquals(0, r.code(), r.out());
    assertTrue(r.calls().get(0).endsWith("/opt/sparkmerge/sparkmerge.jar merge jobs/ties.yml hdfs:///out/m"), r.calls().toString());
    assertEquals(List.of(QUIET), r.opts());
  }

  @Test
  void kubernetesWrapperScalesOverheadWithTheEstimateAndCores() throws Exception {
    Map<String, String> env = Map.of("IMAGE", "reg/sparkmerge:1", "FAKE_PLAN",
        "plan x: ...\nestimated executor memory per task (largest): 3000.0 MB");
    Result r = run(env, "bash", "jobs/spark-submit-k8s.sh", "k8s://https://api:6443", "jobs/ties.yml", "s3a://b/m", "16", "4");
    assertEquals(0, r.code(), r.out());
    String submit = r.calls().get(1);
    // 3000 MB per task × 4 concurrent tasks × 1.5 + 512 MB = 18512 MB off-heap; heap 2048 + 4 × 256 MB
    assertTrue(submit.contains("spark.executor.memoryOverhead=18512m") && submit.contains("spark.executor.memory=3072m")
        && submit.contains("spark.executor.instances=4") && submit.contains("spark.kubernetes.container.image=reg/sparkmerge:1"), submit);
    assertTrue(submit.endsWith("local:///opt/sparkmerge/sparkmerge.jar merge /opt/sparkmerge/ties.yml s3a://b/m --partitions 16"), submit);
    assertEquals(List.of(QUIET, QUIET), r.opts());
    Result own = run(Map.of("IMAGE", "x", "FAKE_PLAN", "estimated executor memory per task (largest): 10.0 MB",
        "SPARKMERGE_LOG_CONF", "conf/quiet.xml"), "bash", "jobs/spark-submit-k8s.sh", "k8s://x", "jobs/ties.yml", "s3a://b/m");
    assertEquals(0, own.code(), own.out());
    assertTrue(own.calls().get(1).contains("--conf spark.kubernetes.driverEnv.SPARKMERGE_LOG_CONF=/opt/sparkmerge/quiet.xml "),
        own.calls().get(1));
    Result bad = run(Map.of("IMAGE", "x", "FAKE_PLAN", "no estimate here"), "bash", "jobs/spark-submit-k8s.sh", "k8s://x",
        "jobs/ties.yml", "s3a://b/m");
    assertTrue(bad.code() != 0 && bad.out().contains("no memory estimate"), bad.out());
  }

  @Test
  void gpuWrapperAsksSparkForGpusAndPlacesTheDiscoveryScriptPerClusterManager() throws Exception {
    Result yarn = run(Map.of("TASKS_PER_GPU", "4"), "bash", "jobs/spark-submit-gpu.sh", "yarn", "jobs/iso_cts.yml", "hdfs:///out/m",
        "--overwrite");
    assertEquals(0, yarn.code(), yarn.out());
    String y = yarn.calls().get(0);
    assertTrue(y.startsWith("--master yarn --class io.sparkmerge.cli.Main --properties-file ") && y.contains("jobs/spark-gpu.conf"), y);
    assertTrue(y.contains("gpu-discovery.sh --conf spark.executor.resource.gpu.discoveryScript=./gpu-discovery.sh")
        && y.contains("--files "), "YARN localizes --files before the executor starts: " + y);
    assertTrue(y.contains("spark.executor.resource.gpu.amount=1 ") && y.contains("spark.task.resource.gpu.amount=0.25 ")
        && y.contains("spark.executor.cores=4 "), y);
    assertTrue(y.endsWith("/opt/sparkmerge/sparkmerge.jar merge jobs/iso_cts.yml hdfs:///out/m --overwrite"), y);
    assertEquals(List.of(QUIET), yarn.opts(), "spark-submit here logs with the jar's configuration");
    Result k8s = run(Map.of("GPUS_PER_EXECUTOR", "2"), "bash", "jobs/spark-submit-gpu.sh", "k8s://https://api:6443", "c.yml", "s3a://b/o");
    String k = k8s.calls().get(0);
    assertTrue(k.contains("spark.executor.resource.gpu.vendor=nvidia.com") && !k.contains("--files")
        && k.contains("discoveryScript=/opt/sparkmerge/jobs/gpu-discovery.sh"), k);
    assertTrue(k.contains("spark.executor.resource.gpu.amount=2 ") && k.contains("spark.task.resource.gpu.amount=0.5 ")
        && k.contains("spark.executor.cores=4 "), k);
    Result bad = run(Map.of("TASKS_PER_GPU", "0"), "bash", "jobs/spark-submit-gpu.sh", "yarn", "c.yml", "o");
    assertEquals(2, bad.code(), bad.out());
    assertTrue(Files.readString(Path.of("jobs/spark-gpu.conf")).contains("spark.executorEnv.CUDA_DEVICE_ORDER       PCI_BUS_ID"));
  }

  @Test
  void gpuDiscoveryScriptPrintsSparksResourceJson() throws Exception {
    Path bin = Files.createDirectories(work.resolve("bin"));
    Path smi = bin.resolve("nvidia-smi");
    Files.writeString(smi, "#!/usr/bin/env bash\n[[ \"$*\" == *--query-gpu=index* ]] && printf '0\\n1\\n'\n");
    Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    Result all = run(Map.of(), "bash", "jobs/gpu-discovery.sh");
    assertEquals(0, all.code(), all.out());
    assertEquals(json.readTree("{\"name\": \"gpu\", \"addresses\": [\"0\", \"1\"]}"), json.readTree(all.out()));
    // a cluster manager that narrowed the devices: CUDA numbers the visible ones from 0
    Result narrowed = run(Map.of("CUDA_VISIBLE_DEVICES", "3,5,6"), "bash", "jobs/gpu-discovery.sh");
    assertEquals(json.readTree("{\"name\": \"gpu\", \"addresses\": [\"0\", \"1\", \"2\"]}"), json.readTree(narrowed.out()));
  }
}
