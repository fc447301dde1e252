#!/usr/bin/env python3
"""Times LAPACK gesdd through scipy and numpy on the matrices bench/svd/run.sh generated.

Prints one line per matrix: name, scipy gesdd median seconds, numpy median seconds.
Thread count comes from the environment (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS), set by run.sh.
"""
import sys
import time

import numpy as np
import scipy.linalg


def median_time(fn, reps):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main():
    reps = int(sys.argv[1])
    for spec in sys.argv[2:]:
        path, m, n = spec.split(":")
        a = np.fromfile(path, dtype="<f4").reshape(int(m), int(n))
        s = median_time(lambda: scipy.linalg.svd(a, full_matrices=False, lapack_driver="gesdd", check_finite=False), reps)
        u = median_time(lambda: np.linalg.svd(a, full_matrices=False), reps)
        print(f"{m}x{n} {s:.3f} {u:.3f}", flush=True)


if __name__ == "__main__":
    main()
