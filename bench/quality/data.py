"""Fashion-MNIST from Debian's dataset-fashion-mnist, fixed splits, and the task transforms.

Tasks are input transforms of the same 10-class problem, chosen so that their fine-tunes pull the
first layer in different directions (they conflict when merged): the original images, rotated 90°,
inverted, blurred, and a fixed pixel permutation.
"""
import gzip
import os

import numpy as np

DATA_DIR = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
VALIDATION = 5000          # held out of the 60k training images, for choosing λ
MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST pixel statistics on [0, 1]
PERMUTATION_SEED = 1234     # the permuted-pixels task is the same task for every seed


def _idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load():
    """{'train'|'val'|'test': (images float32 [n,28,28] in [0,1], labels int64)}; the val split is fixed."""
    files = {name: os.path.join(DATA_DIR, name) for name in (
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
    for p in files.values():
        if not os.path.exists(p):
            raise SystemExit(f"{p}: missing; install it with apt-get install dataset-fashion-mnist "
                             f"(or set FASHION_MNIST_DIR)")
    x = _idx(files["train-images-idx3-ubyte.gz"]).astype(np.float32) / 255.0
    y = _idx(files["train-labels-idx1-ubyte.gz"]).astype(np.int64)
    xt = _idx(files["t10k-images-idx3-ubyte.gz"]).astype(np.float32) / 255.0
    yt = _idx(files["t10k-labels-idx1-ubyte.gz"]).astype(np.int64)
    order = np.random.default_rng(0).permutation(len(x))
    val, train = order[:VALIDATION], order[VALIDATION:]
    return {"train": (x[train], y[train]), "val": (x[val], y[val]), "test": (xt, yt)}


def _blur(x):
    k = np.exp(-0.5 * (np.arange(-3, 4) / 1.5) ** 2)
    k /= k.sum()
    pad = np.pad(x, ((0, 0), (3, 3), (3, 3)))
    rows = sum(k[i] * pad[:, i:i + 28, :] for i in range(7))
    return sum(k[i] * rows[:, :, i:i + 28] for i in range(7)).astype(np.float32)


def _permute(x):
    perm = np.random.default_rng(PERMUTATION_SEED).permutation(28 * 28)
    return x.reshape(len(x), -1)[:, perm].reshape(x.shape)


# name -> transform on [n, 28, 28] images in [0, 1]; "original" is the base's task, the others are fine-tunes
TRANSFORMS = {
    "original": lambda x: x,
    "rot90": lambda x: np.ascontiguousarray(np.rot90(x, 1, axes=(1, 2))),
    "invert": lambda x: 1.0 - x,
    "blur": _blur,
    "permute": _permute,
}
TASKS = ["rot90", "invert", "blur", "permute"]


def task_split(data, task, split):
    """(inputs float32 [n, 784] standardised, labels) of a task on a split."""
    x, y = data[split]
    return ((TRANSFORMS[task](x) - MEAN) / STD).reshape(len(x), -1).astype(np.float32), y
