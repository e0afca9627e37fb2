"""Time and memory of the plots on a large pool, with the 2-D projection computed once.

Pool: ``--rows`` records (default 1,000,000) in 3 Gaussian blobs of dimension 64 and 384
(float32), ``--labeled`` of them (default 300) hand-labeled, 10 queued, model confidence drawn
from Dirichlet probabilities. For each dimension the table gives, per step, the median time over
``--repeat`` runs (project_2d and coverage_share run once: the caller caches them), the peak of
traced Python allocations (tracemalloc, a separate run), the peak resident memory during that
run and how far it rose above the resident memory at the start of the step.

Run::

    python benchmarks/plots_speed.py | tee benchmarks/results/plots_speed.txt
"""

from __future__ import annotations

import argparse
import gc
import statistics
import threading
import time
import tracemalloc

import numpy as np
import pandas as pd

from activelabel_widget.plots import (
    coverage_share,
    figure_to_png,
    plot_confidence,
    plot_coverage,
    plot_label_counts,
    plot_learning_curve,
    project_2d,
)

try:
    import psutil
except ImportError:  # resident memory columns read "n/a" without psutil
    psutil = None

LABELS = ["bug", "feature", "question"]
MB = 1024 * 1024


class PeakRSS:
    """Samples the resident memory of this process every 5 ms while active."""

    def __init__(self):
        self.process = psutil.Process() if psutil else None
        self.start = self.peak = 0
        self._stop = threading.Event()

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self):
        if self.process is not None:
            self.start = self.peak = self.process.memory_info().rss
            self._stop.clear()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.process is not None:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, self.process.memory_info().rss)


def make_pool(rows, dims, labeled, random_state):
    """Blobs (rows, dims) float32, class codes, a labeled mask and Dirichlet probabilities."""
    rng = np.random.default_rng(random_state)
    codes = rng.integers(0, 3, size=rows)
    centers = rng.normal(scale=1.5, size=(3, dims)).astype(np.float32)
    X = rng.standard_normal((rows, dims), dtype=np.float32)
    for start in range(0, rows, 65_536):  # add the centres block by block: no second copy
        X[start:start + 65_536] += centers[codes[start:start + 65_536]]
    mask = np.zeros(rows, dtype=bool)
    mask[rng.choice(rows, size=labeled, replace=False)] = True
    alpha = np.full(3, 0.6)
    proba = rng.dirichlet(alpha, size=rows)
    proba[np.arange(rows), codes] += 0.5
    proba /= proba.sum(axis=1, keepdims=True)
    entropy = -(proba * np.log(proba)).sum(axis=1)
    confidence = np.clip(1.0 - entropy / np.log(3), 0.0, 1.0)
    return X, codes, mask, proba.argmax(axis=1), confidence


def measure(step, repeat):
    """(median seconds, tracemalloc peak MB, RSS peak MB, RSS rise MB) of ``step()``."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    gc.collect()
    with PeakRSS() as rss:
        tracemalloc.start()
        step()
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rss_cols = ((rss.peak / MB, (rss.peak - rss.start) / MB) if psutil else (None, None))
    return statistics.median(times), traced / MB, *rss_cols


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[64, 384])
    parser.add_argument("--labeled", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"plots at {args.rows:,} rows, 3 labels, {args.labeled:,} labeled, 10 queued; "
          f"time: median of {args.repeat} (project_2d, coverage_share: 1 run)")
    print(f"{'d':>4} {'step':<38} {'time s':>8} {'traced MB':>10} {'RSS peak MB':>12} "
          f"{'RSS rise MB':>12}")
    for dims in args.dims:
        X, codes, mask, predicted, confidence = make_pool(args.rows, dims, args.labeled, 0)
        label_codes = np.where(mask, codes, -1)
        unlabeled = ~mask
        queued = np.flatnonzero(unlabeled)[np.argsort(confidence[unlabeled])[:10]]
        n_labels = np.arange(20, args.labeled + 1, 20)
        accuracy = 0.95 - 0.5 * np.exp(-n_labels / 80.0)
        counts = pd.DataFrame({"hand": np.bincount(codes[mask], minlength=3),
                               "suggestion-accepted": [12, 7, 3], "weak": [40_000, 25_000, 900]},
                              index=LABELS)
        cache = {}

        def project():
            cache["xy"] = project_2d(X)

        def cover():
            cache["coverage"] = coverage_share(X, mask)

        plots = {
            "plot_confidence": lambda: plot_confidence(
                confidence[unlabeled], predicted[unlabeled], LABELS,
                labeled_confidence=confidence[mask], threshold=0.3),
            "plot_coverage": lambda: plot_coverage(
                cache["xy"], label_codes, LABELS, queued=queued, coverage=cache["coverage"]),
            "plot_learning_curve": lambda: plot_learning_curve(n_labels, accuracy),
            "plot_label_counts": lambda: plot_label_counts(counts),
        }
        rows = [("project_2d (pca)", measure(project, 1)),
                ("coverage_share (default radius)", measure(cover, 1))]
        for name, draw in plots.items():
            rows.append((name, measure(draw, args.repeat)))
            figure = draw()
            rows.append((f"  figure_to_png({name})", measure(lambda: figure_to_png(figure),
                                                             args.repeat)))
            del figure
        for name, (seconds, traced, peak, rise) in rows:
            rss = (f"{peak:>12.0f} {rise:>12.0f}" if peak is not None
                   else f"{'n/a':>12} {'n/a':>12}")
            print(f"{dims:>4} {name:<38} {seconds:>8.3f} {traced:>10.1f} {rss}")
        share, radius = cache["coverage"]
        print(f"{dims:>4} coverage: {share:.1%} of the pool within r = {radius:.3g} "
              f"of a label (pool {X.nbytes / MB:,.0f} MB)")
        del X, cache
        gc.collect()


if __name__ == "__main__":
    main()
