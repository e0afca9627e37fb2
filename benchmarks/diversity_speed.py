"""Diversity sampling speed: a batch of 100 from a pool of 100,000 rows.

Pools are synthetic: a mixture of 100 Gaussian blobs of uneven sizes in d = 64 and d = 384
(float32), with 50 rows already labeled. Each method picks a batch of 100 unlabeled rows:

* ``ours (build + pick)``: ``build_embedding_index`` then ``score_pool("diversity")`` and
  ``top_k``; the session builds the index once per data set in the background, so
* ``ours (prebuilt index)``: the pick alone, with the index already built;
* ``skactiveml CoreSet``: scikit-activeml's greedy k-center (``CoreSet.query``);
* ``modAL ranked batch``: modAL's ``uncertainty_batch_sampling`` (ranked batch-mode sampling,
  Cardoso et al. 2017) with a logistic regression fitted on the labeled rows;
* ``random``: a uniform random batch, as the coverage baseline.

Every method is called once on a small pool first, so imports stay out of the timings.

Reported: seconds (best of 3), peak traced memory (``tracemalloc``, a
separate run) and coverage = mean Euclidean distance from every pool row to its nearest picked
or labeled row (lower is better). "time / ours" divides each method's time by ours.
A competitor that would need more than ``--cap`` seconds at a size is run only at smaller
sizes (its time at the largest size it ran is extrapolated quadratically to decide), and the
table says so.

Environment: as for ``benchmarks/label_efficiency.py`` (modAL-python and scikit-activeml,
scikit-learn 1.7.2); without them only our method and random run. From the repository root::

    bench-venv/bin/python benchmarks/diversity_speed.py            # 100k rows, d = 64 and 384
    bench-venv/bin/python benchmarks/diversity_speed.py --quick    # 20k rows, d = 64

The full run saves its table to ``benchmarks/results/diversity_speed.txt``.
"""

import argparse
import importlib.util
import os
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from activelabel_widget.strategies import build_embedding_index, score_pool, top_k  # noqa: E402

BATCH = 100
N_LABELED = 50


def make_pool(n, d, seed=0):
    """(X float32 (n, d), labeled_mask (n,), blob id (n,)) of uneven Gaussian blobs."""
    rng = np.random.default_rng(seed)
    n_blobs = 100
    weights = rng.pareto(1.5, size=n_blobs) + 0.2
    blob = rng.choice(n_blobs, size=n, p=weights / weights.sum())
    centers = rng.normal(scale=4.0 / np.sqrt(d) * 10, size=(n_blobs, d)).astype(np.float32)
    scale = rng.uniform(0.5, 1.5, size=n_blobs).astype(np.float32)
    X = centers[blob] + rng.normal(size=(n, d)).astype(np.float32) * scale[blob, None]
    mask = np.zeros(n, dtype=bool)
    mask[rng.choice(n, size=N_LABELED, replace=False)] = True
    return X, mask, blob


def coverage(X, chosen, chunk=8192):
    """Mean distance from each row of X to its nearest row among ``chosen`` positions."""
    C = X[chosen].astype(np.float32)
    c2 = np.einsum("ij,ij->i", C, C)
    total = 0.0
    for start in range(0, X.shape[0], chunk):
        block = X[start:start + chunk]
        d2 = np.einsum("ij,ij->i", block, block)[:, None] - 2.0 * block @ C.T + c2[None, :]
        total += float(np.sqrt(np.clip(d2.min(axis=1), 0.0, None)).sum())
    return total / X.shape[0]


def ours_build_and_pick(X, mask, seed):
    index = build_embedding_index(X, random_state=seed)
    return top_k(score_pool("diversity", labeled_mask=mask, index=index), BATCH)


def ours_prebuilt(index):
    def pick(X, mask, seed):
        return top_k(score_pool("diversity", labeled_mask=mask, index=index), BATCH)
    return pick


def random_pick(X, mask, seed):
    rng = np.random.default_rng(seed)
    return rng.choice(np.flatnonzero(~mask), size=BATCH, replace=False)


def coreset_pick(X, mask, seed):
    from skactiveml.pool import CoreSet

    y = np.full(X.shape[0], np.nan)
    y[mask] = 0.0
    return np.asarray(CoreSet(random_state=seed).query(X, y, batch_size=BATCH))


def modal_ranked_batch(X, mask, seed):
    from modAL.batch import uncertainty_batch_sampling
    from sklearn.linear_model import LogisticRegression

    # ranked batch needs a classifier; the labeled rows get alternating labels
    from sklearn.exceptions import ConvergenceWarning

    labeled = np.flatnonzero(mask)
    y = (np.arange(labeled.size) % 2).astype(int)
    with warnings.catch_warnings():  # arbitrary labels: convergence does not matter here
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = LogisticRegression(max_iter=200).fit(X[labeled], y)

    class Learner:  # the attributes modAL reads from an ActiveLearner
        estimator = clf
        X_training = X[labeled]
        on_transformed = False

        def predict_proba(self, Z):
            return clf.predict_proba(Z)

    unlabeled = np.flatnonzero(~mask)
    result = uncertainty_batch_sampling(Learner(), X[unlabeled], n_instances=BATCH)
    chosen = result[0] if isinstance(result, tuple) else result
    return unlabeled[np.asarray(chosen, dtype=np.int64)]


def timed(fn, X, mask, seed, *, repeat=3):
    best, chosen = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        chosen = fn(X, mask, seed)
        best = min(best, time.perf_counter() - start)
    return best, np.asarray(chosen)


def peak_memory(fn, X, mask, seed):
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn(X, mask, seed)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--dims", default=None, help="comma list, default 64,384")
    parser.add_argument("--cap", type=float, default=300.0,
                        help="seconds a competitor may take at one size")
    parser.add_argument("--save", default=None)
    args = parser.parse_args(argv)
    n_full = args.n or (20_000 if args.quick else 100_000)
    dims = [int(d) for d in (args.dims or ("64" if args.quick else "64,384")).split(",")]
    ladder = sorted({min(n_full, s) for s in (10_000, 30_000, n_full)})

    methods = [("ours (build + pick)", ours_build_and_pick), ("random", random_pick)]
    if importlib.util.find_spec("skactiveml"):
        methods.append(("skactiveml CoreSet", coreset_pick))
    if importlib.util.find_spec("modAL"):
        methods.append(("modAL ranked batch", modal_ranked_batch))

    import platform

    import sklearn

    lines = ["# Diversity sampling speed (benchmarks/diversity_speed.py"
             f"{' --quick' if args.quick else ''})", "",
             f"Batch of {BATCH} from a pool of n rows with {N_LABELED} labeled; synthetic "
             "mixture of 100 uneven Gaussian blobs, float32. Time = best of 3 runs, after a "
             "warm-up call of every method on a small pool. Peak = tracemalloc peak in a separate run. Coverage = mean distance "
             "from every pool row to its nearest picked-or-labeled row (lower = better).",
             f"python {platform.python_version()}, numpy {np.__version__}, scikit-learn "
             f"{sklearn.__version__}", ""]
    print("\n".join(lines), flush=True)
    load_start = os.getloadavg()[0]
    # Warm up: imports and first-call costs stay out of the timings.
    X_small, mask_small, _ = make_pool(2_000, 8, seed=1)
    for _, fn in methods:
        fn(X_small, mask_small, 0)
    for d in dims:
        head = (f"## d = {d}\n\nmethod | n | seconds | time / ours (build + pick) | "
                "time / ours (prebuilt) | peak MiB | coverage | coverage / random\n"
                "--- | --- | --- | --- | --- | --- | --- | ---")
        print(head, flush=True)
        rows = [head]
        skipped = {}
        last_time = {}
        for n in ladder:
            X, mask, _ = make_pool(n, d, seed=0)
            index = build_embedding_index(X, random_state=0)
            todo = methods[:1] + [("ours (prebuilt index)", ours_prebuilt(index))] + methods[1:]
            results = {}
            for name, fn in todo:
                if name in skipped:
                    continue
                if name in last_time:
                    n_prev, t_prev = last_time[name]
                    guess = t_prev * (n / n_prev) ** 2
                    if guess > args.cap:
                        skipped[name] = (n_prev, guess)
                        continue
                seconds, chosen = timed(fn, X, mask, 0)
                last_time[name] = (n, seconds)
                peak = peak_memory(fn, X, mask, 0)
                picked = np.concatenate([np.flatnonzero(mask), chosen])
                results[name] = (seconds, peak, coverage(X, picked))
            ours = results["ours (build + pick)"][0]
            prebuilt = results["ours (prebuilt index)"][0]
            base = results["random"][2]
            for name, (seconds, peak, cov) in results.items():
                row = (f"{name} | {n:,} | {seconds:.4f} | {seconds / ours:.2f} | "
                       f"{seconds / prebuilt:.0f} | {peak:.1f} | {cov:.3f} | {cov / base:.3f}")
                print(row, flush=True)
                rows.append(row)
        for name, (n_prev, guess) in skipped.items():
            note = (f"\n{name}: not run beyond n = {n_prev:,}; extrapolated "
                    f"{guess:.0f} s at the next size exceeds the {args.cap:.0f} s cap.")
            print(note, flush=True)
            rows.append(note)
        lines += rows + [""]
        print(flush=True)
    lines.append(f"load average (1 min) at start {load_start:.1f}, at end {os.getloadavg()[0]:.1f} "
                 f"on {os.cpu_count()} cores; times taken while other work shares the machine "
                 "swing by several x, the ratios within one size less so.")
    text = "\n".join(lines) + "\n"
    save = args.save or (None if args.quick else
                         str(ROOT / "benchmarks" / "results" / "diversity_speed.txt"))
    if save:
        Path(save).parent.mkdir(parents=True, exist_ok=True)
        Path(save).write_text(text)
        print(f"saved to {save}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
