"""How high can the area under the learning curve go on a data set, whatever the order of queries?

``label_efficiency.py`` asks the default order for an AULC above the best competitor's by more
than a standard deviation. Where every strategy is close to the evaluation model fitted on the
whole pool, that may ask for more than any order can give. This script measures a ceiling on the
same splits, first labels, evaluation model and metric as ``label_efficiency.py``: a greedy order
that **peeks at the held-out answers**. At every step it tries ``--candidates`` random unlabeled
rows, fits the evaluation model with each one added, and keeps the row that scores best on the
held-out 30%. No query strategy can do this (it reads the test labels); it shows what order of the
pool the learning curve could follow at best, step by step.

Printed per seed: the metric of the model fitted on the whole pool, the greedy order's AULC, and
its best score along the way; then the mean and the standard deviation over the seeds.

Run from the repository root (the environment of ``label_efficiency.py``)::

    bench-venv/bin/python benchmarks/aulc_ceiling.py                           # breast_cancer, shuttle
    bench-venv/bin/python benchmarks/aulc_ceiling.py --datasets digits --candidates 20
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import label_efficiency as bench  # noqa: E402
from activelabel_widget.simulate import area_under_curve, split  # noqa: E402


def peeking_curve(dataset, seed, *, budget, candidates):
    """The learning curve of the greedy order that picks, among ``candidates`` random rows, the one
    whose label raises the held-out score most. Returns (labels, scores, full-pool score)."""
    X, y, model, *_ = bench.load(dataset)
    pool, test, first = split(y, initial=bench.INITIAL, test_size=bench.TEST_SIZE, random_state=seed)
    X_pool, y_pool, X_test, y_test = X[pool], y[pool], X[test], y[test]

    def held_out(rows):
        return bench.score(dataset, bench._fit(model, X_pool[rows], y_pool[rows]), X_test, y_test)

    rng = np.random.default_rng(seed)
    labeled = list(first)
    sizes, scores = [len(labeled)], [held_out(labeled)]
    while len(labeled) < budget:
        rest = np.setdiff1d(np.arange(len(pool)), labeled)
        tried = rng.choice(rest, size=min(candidates, rest.size), replace=False)
        gains = [held_out(labeled + [int(row)]) for row in tried]
        labeled.append(int(tried[int(np.argmax(gains))]))
        sizes.append(len(labeled))
        scores.append(max(gains))
    return np.array(sizes), np.array(scores), bench.full_accuracy(dataset, seed)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="breast_cancer,shuttle")
    parser.add_argument("--seeds", type=int, default=bench.SEEDS)
    parser.add_argument("--budget", type=int, default=bench.BUDGET)
    parser.add_argument("--candidates", type=int, default=40, help="rows tried at every step")
    args = parser.parse_args(argv)
    print(f"Greedy order that peeks at the held-out answers: {args.candidates} random candidates a step, "
          f"{bench.INITIAL} -> {args.budget} labels, seeds 0..{args.seeds - 1}\n")
    for dataset in args.datasets.split(","):
        print(f"## {dataset}\n\nseed | full pool | AULC | best score | s")
        print("--- | --- | --- | --- | ---")
        areas = []
        for seed in range(args.seeds):
            started = time.perf_counter()
            sizes, scores, full = peeking_curve(dataset, seed, budget=args.budget, candidates=args.candidates)
            areas.append(area_under_curve(sizes, scores))
            print(f"{seed} | {full:.4f} | {areas[-1]:.4f} | {scores.max():.4f} | "
                  f"{time.perf_counter() - started:.0f}", flush=True)
        print(f"mean | | {np.mean(areas):.4f} +- {np.std(areas):.4f} | |\n")


if __name__ == "__main__":
    main()
