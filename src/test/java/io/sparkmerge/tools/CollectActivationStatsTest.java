package io.sparkmerge.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sparkmerge.io.DType;
import io.sparkmerge.io.SafetensorsHeader;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.io.TensorReader;
import io.sparkmerge.testing.Checkpoints;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tools/collect_activation_stats.py on a tiny torch model: the statistics of the first Linear layer,
 * whose input the test controls, equal the mean squared input per channel worked out here. Skipped
 * when /usr/bin/python3 with torch is absent (install python3-torch).
 */
class CollectActivationStatsTest {
  static final String PYTHON = "/usr/bin/python3";
  @TempDir Path dir;

  static boolean hasTorch() {
    if (!new File(PYTHON).canExecute()) {
      return false;
    }
    try {
      Process p = new ProcessBuilder(PYTHON, "-c", "import importlib.util, sys; sys.exit(importlib.util.find_spec(\"torch\") is None)").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  void meanSquaredInputPerChannel() throws Exception {
    assumeTrue(hasTorch(), "skipped: " + PYTHON + " with torch is not available (apt-get install python3-torch)");
    Path out = dir.resolve("stats.safetensors");
    String script = """
        import sys, torch
        sys.path.insert(0, sys.argv[1])
        import collect_activation_stats as c
        class Block(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.q_proj = torch.nn.Linear(4, 3)
                self.down = torch.nn.Linear(3, 2)
            def forward(self, x):
                return self.down(torch.relu(self.q_proj(x)))
        torch.manual_seed(0)
        m = torch.nn.Sequential(Block())
        x = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) / 10
        c.write_safetensors(sys.argv[2], c.collect(m, [x[:1], x[1:]]))
        """;
    Path py = dir.resolve("run.py");
    Files.writeString(py, script);
    Process p = new ProcessBuilder(PYTHON, py.toString(), Path.of("tools").toAbsolutePath().toString(), out.toString())
        .redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), log);

    var fs = Checkpoints.localFs();
    SafetensorsHeader h = SafetensorsHeader.read(fs, new org.apache.hadoop.fs.Path(out.toString()));
    TensorInfo q = h.tensors().get("0.q_proj");
    assertEquals(DType.F32, q.dtype());
    // inputs x[t, c] = (4t + c)/10 for the 6 tokens t: a[c] = Σ_t x² / 6
    double[] want = new double[4];
    for (int c = 0; c < 4; c++) {
      for (int t = 0; t < 6; t++) {
        double v = (4 * t + c) / 10.0;
        want[c] += v * v / 6;
      }
    }
    assertArrayEquals(want, floats(fs, out, q), 1e-6);
    assertEquals(3, h.tensors().get("0.down").numel(), "the second Linear's statistics have its input width");
  }

  private static double[] floats(org.apache.hadoop.fs.FileSystem fs, Path file, TensorInfo t) throws Exception {
    byte[] b = new byte[(int) t.byteLength()];
    try (TensorReader r = new TensorReader(fs, new org.apache.hadoop.fs.Path(file.toString()))) {
      r.readFully(t.fileOffset(), b, 0, b.length);
    }
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    double[] v = new double[(int) t.numel()];
    for (int i = 0; i < v.length; i++) {
      v[i] = bb.getFloat();
    }
    return v;
  }
}
