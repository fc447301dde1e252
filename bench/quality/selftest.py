"""Fast checks of the harness's own pieces (numpy and scipy, ~1 s), run by run.sh before the benchmark:
- st_io round-trips tensors exactly and reads a file laid out by hand from the safetensors spec;
- report.py's verdicts: a paired t interval worked by hand, held / reversed / inconclusive by where the interval
  lies, "inconclusive (edge)" whatever the interval when a row's λ optimum is at a grid edge, and the combined
  verdict of a claim read on several metrics;
- the WSM weights reproduce, for a fixed sequence of updates, exactly the model a run with the
  decayed per-interval LR reaches (Theorem 3.1's identity), by direct simulation rather than algebra.
"""
import json
import os
import struct
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402
import st_io  # noqa: E402
import wsm_weights  # noqa: E402


def check_st_io():
    rng = np.random.default_rng(0)
    tensors = {"model.layers.0.mlp.fc.weight": rng.standard_normal((3, 5)).astype(np.float32),
               "lm_head.bias": rng.standard_normal(4).astype(np.float32)}
    with tempfile.TemporaryDirectory() as d:
        st_io.write_model(d, tensors, {"model_type": "x"})
        back = st_io.read_model(d)
        assert set(back) == set(tensors) and all(np.array_equal(back[k], tensors[k]) for k in tensors)
        # A file written by hand from the spec: 8-byte LE header size, JSON header, raw little-endian data.
        header = json.dumps({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                             "b": {"dtype": "BF16", "shape": [1], "data_offsets": [8, 10]}}).encode()
        path = os.path.join(d, "hand.safetensors")
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(header)) + header + struct.pack("<2f", 1.5, -2.0) + b"\x80\x3f")
        hand = st_io.read_file(path)
        assert hand["a"].tolist() == [1.5, -2.0] and hand["b"].tolist() == [1.0], hand


def check_wsm_identity():
    rng = np.random.default_rng(1)
    every, lr = 5, 0.1
    for schedule in wsm_weights.SCHEDULES:
        for k in (1, 2, 4, 8):
            steps = every * (k + 3)
            updates = rng.standard_normal((steps, 6))
            theta = np.cumsum(np.vstack([rng.standard_normal(6), -lr * updates]), axis=0)  # θ_s, s = 0..steps
            start = steps - every * k
            f = wsm_weights.SCHEDULES[schedule]
            decayed = theta[start] - lr * sum(f(((s - start) // every) / k) * updates[s] for s in range(start, steps))
            c = wsm_weights.weights(schedule, k)
            merged = sum(cj * theta[start + every * j] for j, cj in enumerate(c))
            assert np.allclose(merged, decayed, atol=1e-12), (schedule, k)


def check_verdicts():
    # diffs 1, 2, 3: mean 2, sample sd 1, t(0.975, 2 df) = 4.302653 (tables) -> half width 4.302653 / sqrt(3) = 2.484138
    m, ci = report.paired_interval([1.0, 2.0, 3.0])
    assert m == 2.0 and abs(ci[0] - (2 - 2.484138)) < 1e-5 and abs(ci[1] - (2 + 2.484138)) < 1e-5, ci
    assert report.verdict([1.0, 2.0, 3.0])[0] == "inconclusive"
    assert report.verdict([0.010, 0.012, 0.009, 0.011, 0.010])[0] == "held"
    assert report.verdict([-0.010, -0.012, -0.009, -0.011, -0.010])[0] == "reversed"
    assert report.verdict([0.5])[0] == "inconclusive"    # one seed: no interval
    report.CHECKED.clear()
    text = report.check("1", "paper", "a > b", [0.010, 0.012, 0.009, 0.011, 0.010], edge=True)
    assert "**inconclusive (edge)**" in text and report.CHECKED[-1][3] == "inconclusive (edge)", text
    text = report.check("2", "paper", "loss", [0.010, 0.012, 0.009, 0.011, 0.010], 1.0, "loss")
    assert text.startswith("**held**") and "+0.0104 loss" in text, text
    assert "| 2 | paper | loss | **held** |" in report.verdict_table()
    report.CHECKED.clear()
    assert report.combined(["held", "inconclusive", "inconclusive"]) == "held"
    assert report.combined(["reversed", "inconclusive"]) == "reversed"
    assert report.combined(["held", "reversed"]) == "inconclusive (mixed)"
    assert report.combined(["inconclusive", "inconclusive (edge)"]) == "inconclusive"


if __name__ == "__main__":
    check_verdicts()
    check_st_io()
    check_wsm_identity()
    print("selftest ok: verdicts, safetensors I/O, WSM weights = decayed-LR run for fixed updates")
