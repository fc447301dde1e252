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
import java.util.ArrayList;
import java.util.List;
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

  /** Runs the script with /usr/bin/python3 (argument 1: the tools directory, then args); asserts exit 0, returns the output. */
  static String runPython(Path dir, String script, String... args) throws Exception {
    Path py = dir.resolve("run-" + System.nanoTime() + ".py");
    Files.writeString(py, script);
    List<String> cmd = new ArrayList<>(List.of(PYTHON, py.toString(), Path.of("tools").toAbsolutePath().toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), log);
    return log;
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
    runPython(dir, script, out.toString());

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

  /**
   * The sequential mode against the LEWIS authors' procedure worked out step by step with plain tensor algebra
   * (no hooks): the first block's statistics from the raw input, its Wanda pruning at ratio 0.5 (per output row
   * the 2 smallest |W|·√a entries zeroed), the second block's statistics from the pruned first block's output,
   * and so on; lm_head sees both pruned blocks. The dense mode differs from it after the first block, and the
   * model's weights are unchanged afterwards.
   */
  @Test
  void sequentialModePrunesEachBlockBeforeTheNextOnesInputs() throws Exception {
    assumeTrue(hasTorch(), "skipped: " + PYTHON + " with torch is not available (apt-get install python3-torch)");
    String script = """
        import sys, torch
        sys.path.insert(0, sys.argv[1])
        import collect_activation_stats as c
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = torch.nn.ModuleList([torch.nn.Linear(4, 4), torch.nn.Linear(4, 4)])
                self.lm_head = torch.nn.Linear(4, 2)
            def forward(self, x):
                for l in self.layers:
                    x = torch.relu(l(x))
                return self.lm_head(x)
        torch.manual_seed(3)
        m = Net().double()
        before = {k: v.clone() for k, v in m.state_dict().items()}
        x = torch.randn(2, 5, 4, dtype=torch.float64)
        got = c.collect(m, [x[:1], x[1:]], "sequential", 0.5)
        assert all(torch.equal(before[k], v) for k, v in m.state_dict().items()), "weights not restored"
        # by hand
        h, want = x.reshape(-1, 4), {}
        for i, l in enumerate(m.layers):
            a = (h * h).mean(0)
            want[f"layers.{i}"] = a
            w = l.weight.detach().clone()
            score = w.abs() * a.sqrt()
            for r in range(w.shape[0]):
                order = sorted(range(4), key=lambda j: (float(score[r, j]), j))
                for j in order[:2]:
                    w[r, j] = 0
            h = torch.relu(h @ w.T + l.bias.detach())
        want["lm_head"] = (h * h).mean(0)
        for k in want:
            assert torch.allclose(got[k], want[k], rtol=1e-12, atol=0), (k, got[k], want[k])
        dense = c.collect(m, [x[:1], x[1:]])
        assert torch.allclose(dense["layers.0"], want["layers.0"], rtol=1e-12)
        assert not torch.allclose(dense["layers.1"], want["layers.1"], rtol=1e-6), "pruning changed nothing"
        print("ok")
        """;
    String log = runPython(dir, script);
    assertEquals("ok", log.strip(), log);
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
