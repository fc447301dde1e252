"""WSM merge weights (methods.md §5, Theorem 3.1 of arXiv 2507.17634), computed in the harness.

For a decay curve f on [0, 1] (f(0) = 1, non-increasing) and a window of the k newest checkpoints,
LR multipliers w_i = f((i − 1)/k), i = 1..k; merge weights c_0 = 1 − w_1 (the anchor checkpoint just
before the window), c_j = w_j − w_{j+1} (1 ≤ j < k), c_k = w_k. They are ≥ 0 and sum to 1, and
Σ c_j θ_j equals the model plain SGD would reach with those per-interval LR multipliers.
"""
import math

SCHEDULES = {
    "linear": lambda x: 1.0 - x,
    "cosine": lambda x: 0.5 * (1.0 + math.cos(math.pi * x)),
    "1-sqrt": lambda x: 1.0 - math.sqrt(x),
}


def weights(schedule, k):
    """[c_0 (anchor), c_1 .. c_k (oldest .. newest in the window)]."""
    f = SCHEDULES[schedule]
    w = [f((i - 1) / k) for i in range(1, k + 1)]
    c = [1.0 - w[0]] + [w[j] - w[j + 1] for j in range(k - 1)] + [w[-1]]
    assert all(x >= -1e-12 for x in c) and abs(sum(c) - 1.0) < 1e-9, (schedule, k, c)
    return c


if __name__ == "__main__":
    for s in SCHEDULES:
        for k in (2, 4, 8):
            print(s, k, [round(x, 4) for x in weights(s, k)])
