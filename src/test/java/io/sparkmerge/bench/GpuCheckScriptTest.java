package io.sparkmerge.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bench/gpu/check.sh --dry-run end to end as a process (on the tiny family and small matrices, without
 * the Maven build): the SVD benchmark on both sides, both merges (the GPU side is the CUDA code path on
 * the CPU backend), the comparisons and the table.
 */
class GpuCheckScriptTest {
  @TempDir Path work;

  @Test
  void dryRunRunsEverythingButCudaAndPrintsTheTable() throws Exception {
    Process numpy = new ProcessBuilder("python3", "-c", "import numpy").start();
    Assumptions.assumeTrue(numpy.waitFor() == 0, "python3 with numpy is needed");
    ProcessBuilder pb = new ProcessBuilder("bash", "bench/gpu/check.sh", "--dry-run", "--no-build", "--work", work.toString(),
        "--family", "tiny", "--sizes", "96x64 64x96", "--reps", "1").redirectErrorStream(true);
    pb.environment().put("CHECK_CLASSPATH", System.getProperty("java.class.path"));
    pb.environment().put("SPARKMERGE_JAVA_OPTS", "-Xmx1g");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), out);
    List<String> rows = out.lines().filter(l -> l.startsWith("| ")).toList();
    assertEquals("| step | CPU s | GPU s | CPU / GPU | comparison | result |", rows.get(0), out);
    for (String size : new String[] {"96x64", "64x96"}) {
      String row = rows.stream().filter(r -> r.startsWith("| SVD " + size)).findFirst().orElseThrow(() -> new AssertionError(out));
      assertTrue(row.endsWith("| ok |"), row);
      assertTrue(number(row, "ΔS\\\\\\|/S₁ ") <= 1e-4, row);
    }
    String merge = rows.stream().filter(r -> r.startsWith("| iso_cts merge, tiny")).findFirst().orElseThrow(() -> new AssertionError(out));
    assertTrue(merge.endsWith("| ok |"), merge);
    assertTrue(number(merge, "‖Δ‖/‖out‖ ") <= 1e-4, merge);
    assertTrue(out.contains("GPU column: nd4j-lapack-gesvd on CpuBackend") && out.contains("CPU column: lapacke-gesdd on CpuBackend"), out);
    assertTrue(Files.exists(work.resolve("out-gpu").resolve("sparkmerge.json")), "the GPU-side merge committed its output");
  }

  static double number(String row, String after) {
    Matcher m = Pattern.compile(after + "([0-9.eE+-]+)").matcher(row);
    assertTrue(m.find(), row);
    return Double.parseDouble(m.group(1));
  }
}
