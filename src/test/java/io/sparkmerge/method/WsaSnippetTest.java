package io.sparkmerge.method;

import io.sparkmerge.math.WeightScope;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The KL of the PyTorch snippet in docs/wsa.md against {@link WeightScope#kl}: the block between the
 * "kl begin/end" markers is run by python3 with numpy's log in place of torch's, on random scopes.
 * Skipped when python3 with numpy is not available (CI without Python).
 */
class WsaSnippetTest {

  @Test
  void snippetKlMatchesJava() throws Exception {
    assumeTrue(hasNumpy(), "python3 with numpy is not available: skipping the docs/wsa.md snippet check");
    String doc = Files.readString(Path.of("docs/wsa.md"));
    int from = doc.indexOf("# --- kl begin");
    int to = doc.indexOf("# --- kl end");
    assertEquals(true, from >= 0 && to > from, "docs/wsa.md lost its kl begin/end markers");
    String block = doc.substring(from, to);
    Random r = new Random(21);
    int n = 50;
    double[][] v = new double[n][4];
    StringBuilder values = new StringBuilder();
    for (double[] q : v) {
      q[0] = r.nextGaussian() * 0.1;
      q[1] = Math.exp(r.nextGaussian() * 2 - 6);
      q[2] = r.nextGaussian() * 0.1;
      q[3] = Math.exp(r.nextGaussian() * 2 - 6);
      values.append(String.format(Locale.ROOT, "%.17g %.17g %.17g %.17g%n", q[0], q[1], q[2], q[3]));
    }
    String script = "import sys\nimport numpy as np\n_log = np.log\n" + block
        + "\nd = np.loadtxt(sys.stdin, ndmin=2)\n"
        + "for x in scope_kl(d[:, 0], d[:, 1], d[:, 2], d[:, 3]):\n    print(repr(float(x)))\n";
    Path py = Files.createTempFile("wsa-snippet", ".py");
    try {
      Files.writeString(py, script);
      Process p = new ProcessBuilder("python3", py.toString()).redirectErrorStream(true).start();
      p.getOutputStream().write(values.toString().getBytes(StandardCharsets.UTF_8));
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(true, p.waitFor(60, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue(), out);
      String[] lines = out.trim().split("\\s+");
      assertEquals(n, lines.length, out);
      for (int i = 0; i < n; i++) {
        double java = WeightScope.kl(new WeightScope.Scope(v[i][0], v[i][1]), new WeightScope.Scope(v[i][2], v[i][3]));
        double python = Double.parseDouble(lines[i]);
        assertEquals(java, python, 1e-12 * Math.max(1, Math.abs(java)), "row " + i);
      }
    } finally {
      Files.deleteIfExists(py);
    }
  }

  static boolean hasNumpy() {
    try {
      Process p = new ProcessBuilder("python3", "-c", "import numpy").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }
}
