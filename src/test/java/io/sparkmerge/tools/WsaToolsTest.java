package io.sparkmerge.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sparkmerge.testing.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tools/wsa.py and tools/wsa_federated.py on a tiny torch model: the regulariser's value against the KL
 * worked out with the math module, its gradient step lowering the KL, the Trainer callback adding exactly that
 * gradient (with a stand-in for the transformers import), and one federated round through real sparkmerge
 * batch/merge/scopes commands: the global model is the sample-weighted mean of the clients and the next
 * targets are the clients' fused scopes. Skipped when /usr/bin/python3 with torch is absent.
 */
class WsaToolsTest {
  @TempDir Path dir;

  @Test
  void regulariserCallbackAndOneFederatedRound() throws Exception {
    assumeTrue(CollectActivationStatsTest.hasTorch(), "skipped: /usr/bin/python3 with torch is not available");
    // bin/sparkmerge stand-in: sparkmerge's Main on this test's classpath
    Path launcher = dir.resolve("sparkmerge");
    Files.writeString(launcher, "#!/bin/sh\nexec " + ChildJvm.command("1g", "io.sparkmerge.cli.Main", List.of()).stream()
        .map(a -> "'" + a.replace("'", "'\\''") + "'").collect(Collectors.joining(" ")) + " \"$@\"\n");
    launcher.toFile().setExecutable(true);
    String script = """
        import json, math, os, statistics, sys, types, torch
        sys.path.insert(0, sys.argv[1])
        import wsa, wsa_federated, safetensors_lite as st
        work, sparkmerge = sys.argv[2], sys.argv[3]
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = torch.nn.Linear(3, 4)
                self.b = torch.nn.Linear(4, 2)
            def forward(self, x):
                return self.b(torch.relu(self.a(x)))
        torch.manual_seed(1)
        m = Net()
        targets = {"scopes": {"a.weight": {"mean": 0.1, "variance": 0.04}, "b.weight": {"mean": -0.05, "variance": 0.09}}}
        path = os.path.join(work, "scopes.json")
        json.dump(targets, open(path, "w"))
        reg = wsa.WeightScopeRegularizer(m, path, beta=0.5)
        want = 0.0
        for name, p in m.named_parameters():
            if name in targets["scopes"]:
                v = [float(x) for x in p.detach().reshape(-1)]
                mu, var = statistics.fmean(v), statistics.pvariance(v)
                ms, vs = targets["scopes"][name]["mean"], targets["scopes"][name]["variance"]
                want += 0.5 * math.log(vs / var) + (var + (mu - ms) ** 2) / (2 * vs) - 0.5
        assert abs(float(reg()) - 0.5 * want) < 1e-9 * max(1, want), (float(reg()), want)
        assert reg.unmatched == [] and len(reg.terms) == 2
        before = reg.total_kl()
        opt = torch.optim.SGD(m.parameters(), lr=0.01)
        opt.zero_grad(); reg().backward(); opt.step()
        assert reg.total_kl() < before, (reg.total_kl(), before)
        # the Trainer callback, with a stand-in for transformers' TrainerCallback
        sys.modules["transformers"] = types.SimpleNamespace(TrainerCallback=object)
        cb = wsa.WeightScopeCallback(reg)
        m.zero_grad(); reg().backward(); want_grad = m.a.weight.grad.clone()
        m.zero_grad()
        assert cb.on_pre_optimizer_step(None, None, "control", model=m) == "control"
        assert torch.allclose(m.a.weight.grad, want_grad, rtol=0, atol=1e-15)
        try:
            wsa.WeightScopeRegularizer(m, {"x.weight": (0, 1)}, 1.0); raise SystemExit("no error for unmatched names")
        except ValueError as e:
            assert "no parameter" in str(e)
        # one federated round through sparkmerge
        def save(model, d):
            os.makedirs(d, exist_ok=True)
            st.write(os.path.join(d, "model.safetensors"), {k: v.float() for k, v in model.state_dict().items()})
        def load(d):
            model = Net()
            model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in st.read(os.path.join(d, "model.safetensors")).items()})
            return model
        def train(model, k, r, reg):
            with torch.no_grad():
                for p in model.parameters():
                    p.add_(0.1 * (k + 1))          # client k moves every weight by 0.1 (k + 1)
            if reg is not None:
                model.zero_grad(); reg().backward()
            return model
        fl = os.path.join(work, "fl")
        h = wsa_federated.run(fl, Net(), [30, 10], save, load, train, lambda model: (0.5, 1.0), 1, 0.1, sparkmerge=sparkmerge,
                              log=lambda s: None)
        assert set(h) == {"fedavg", "wsa"} and len(h["wsa"]) == 1, h
        for v in ("fedavg", "wsa"):
            c = [load(os.path.join(fl, v, "round-0", f"client-{k}")).state_dict() for k in range(2)]
            g = load(os.path.join(fl, v, "round-1", "global")).state_dict()
            for name in g:
                assert torch.allclose(g[name], (30 * c[0][name] + 10 * c[1][name]) / 40, atol=1e-6), (v, name)
        scopes = json.load(open(os.path.join(fl, "wsa", "round-1", "scopes.json")))["scopes"]
        c = [load(os.path.join(fl, "wsa", "round-0", f"client-{k}")).state_dict()["a.weight"].double() for k in range(2)]
        mu = (30 * c[0].mean() + 10 * c[1].mean()) / 40
        assert abs(scopes["a.weight"]["mean"] - float(mu)) < 1e-6, (scopes["a.weight"], float(mu))
        assert "a.bias" not in scopes
        print("ok")
        """;
    String log = CollectActivationStatsTest.runPython(dir, script, dir.toString(), launcher.toString());
    assertEquals("ok", log.strip(), log);
  }
}
