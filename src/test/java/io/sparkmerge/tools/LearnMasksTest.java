package io.sparkmerge.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.io.DType;
import io.sparkmerge.io.SafetensorsHeader;
import io.sparkmerge.job.MergeJob;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tools/learn_masks.py on a tiny torch model whose task uses only some inputs: the learned mask keeps the
 * task vector's entries the task needs (not the largest ones, which sit on inputs that are always zero), and
 * a localize_stitch merge through the real Spark job reads the written mask directory and gives
 * θ₀ + γ ⊙ τ. Skipped when /usr/bin/python3 with torch is absent.
 */
class LearnMasksTest {
  @TempDir Path dir;

  @Test
  void learnedMaskKeepsWhatTheTaskNeedsAndTheMergeReadsIt() throws Exception {
    assumeTrue(CollectActivationStatsTest.hasTorch(), "skipped: /usr/bin/python3 with torch is not available");
    String script = """
        import os, sys, torch
        sys.path.insert(0, sys.argv[1])
        import learn_masks as L, safetensors_lite as st
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = torch.nn.Linear(8, 1)
            def forward(self, x):
                return self.fc(x)
        torch.manual_seed(0)
        base, ft = Net(), Net()
        with torch.no_grad():
            ft.fc.weight.copy_(base.fc.weight + torch.tensor([[1., -1., .5, 2., 0., 0., 3., -3.]]))
            ft.fc.bias.copy_(base.fc.bias + 0.7)
        out = sys.argv[2]
        for name, m in (("base", base), ("ft", ft)):
            os.makedirs(os.path.join(out, name))
            st.write(os.path.join(out, name, "model.safetensors"), dict(m.state_dict()))
        x = torch.randn(64, 8)
        x[:, 6:] = 0      # the two largest task-vector entries act on inputs that are always zero
        y = ft(x).detach()
        batches = [(x[:32], y[:32]), (x[32:], y[32:])]
        masks, info = L.learn_mask(Net(), base.state_dict(), ft.state_dict(), batches,
                                   lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(), trainable=lambda n: n.endswith("weight"))
        L.write_masks(os.path.join(out, "masks"), masks, tensor_names=L.checkpoint_tensors(os.path.join(out, "ft")))
        print(info)
        """;
    String log = CollectActivationStatsTest.runPython(dir, script, dir.toString());

    String masks = dir.resolve("masks").toString();
    var h = SafetensorsHeader.read(Checkpoints.localFs(), new org.apache.hadoop.fs.Path(masks, "model.safetensors"));
    assertEquals(DType.BOOL, h.tensors().get("fc.weight").dtype());
    Map<String, byte[]> raw = Checkpoints.rawBytes(masks);
    assertArrayEquals(new byte[] {1, 1, 1, 1, 0, 0, 0, 0}, raw.get("fc.weight"), log);
    assertArrayEquals(new byte[] {0}, raw.get("fc.bias"), "a parameter without a learned mask keeps the base");

    String yaml = """
        merge_method: localize_stitch
        base_model: BASE
        models:
          - model: FT
            masks: MASKS
        """.replace("BASE", dir.resolve("base").toString()).replace("FT", dir.resolve("ft").toString()).replace("MASKS", masks);
    String out = dir.resolve("merged").toString();
    MergeJob.run(SparkTestSession.get(), ConfigLoader.parse(yaml, "ls.yml"), new MergeJob.Options(out, false, 1,
        new PrintStream(new ByteArrayOutputStream())));
    Map<String, double[]> base = Checkpoints.read(dir.resolve("base").toString());
    Map<String, double[]> ft = Checkpoints.read(dir.resolve("ft").toString());
    Map<String, double[]> got = Checkpoints.read(out);
    double[] want = new double[8];
    for (int i = 0; i < 8; i++) {
      want[i] = i < 4 ? ft.get("fc.weight")[i] : base.get("fc.weight")[i];
    }
    assertArrayEquals(want, got.get("fc.weight"), 1e-6);
    assertArrayEquals(base.get("fc.bias"), got.get("fc.bias"), 0.0);
  }
}
