"""When does the stop hint fire, and how good is the model there?

Run:  .venv/bin/python benchmarks/stop_hint.py [--seeds 3] [--budget 300] [--step 10]

The label-efficiency set-up (``benchmarks/label_efficiency.py``: the same data sets, split, first
10 labels and evaluation model) with the product's own session answering its cards through
:func:`activelabel_widget.simulate.simulate`, refitting every ``--step`` labels (the product's
``retrain_every`` default is 10). After every round it notes whether
:meth:`~activelabel_widget.LabelingSession.stop_hint` is ready. For each data set and seed it
prints the label count at which the hint first fired (or "never" within the budget), the
evaluation model's accuracy there and at the budget, and the share of the budget's accuracy the
model had when the hint fired. Target: the hint fires once accuracy is within 2% of the
300-label figure (share >= 0.98), and not before.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from activelabel_widget.simulate import simulate
from label_efficiency import DATASETS, INITIAL, TEST_SIZE, load


def run(dataset: str, seed: int, budget: int, step: int) -> dict:
    X, y, model, data, options, _ = load(dataset)
    started = time.perf_counter()
    curve = simulate(X, y, data=data, strategy="hybrid", evaluate_with=model, budget=budget, initial=INITIAL,
                     test_size=TEST_SIZE, random_state=seed, step=step, **options)
    fired = curve.index[curve["stop_hint"]]
    final = float(curve["accuracy"].iloc[-1])
    if len(fired):
        at = curve.loc[fired[0]]
        return {"dataset": dataset, "seed": seed, "fired_at": int(at["n_labels"]), "accuracy": float(at["accuracy"]),
                "final": final, "share": float(at["accuracy"]) / final, "seconds": time.perf_counter() - started}
    return {"dataset": dataset, "seed": seed, "fired_at": None, "accuracy": np.nan, "final": final, "share": np.nan,
            "seconds": time.perf_counter() - started}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--step", type=int, default=10)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    args = parser.parse_args()
    print(f"stop hint on the label-efficiency runs: ours (hybrid), refit every {args.step} labels, budget "
          f"{args.budget}, seeds 0..{args.seeds - 1}")
    print(f"{'data set':22} {'seed':>4} | {'fired at':>8} | {'accuracy there':>14} | {'at budget':>9} | "
          f"{'share':>6} | {'within 2%':>9} | {'s':>5}")
    rows = []
    for dataset in args.datasets:
        for seed in range(args.seeds):
            r = run(dataset, seed, args.budget, args.step)
            rows.append(r)
            fired = "never" if r["fired_at"] is None else f"{r['fired_at']:,}"
            within = "-" if r["fired_at"] is None else ("yes" if r["share"] >= 0.98 else "NO")
            print(f"{dataset:22} {seed:>4} | {fired:>8} | {r['accuracy']:>14.3f} | {r['final']:>9.3f} | "
                  f"{r['share']:>6.3f} | {within:>9} | {r['seconds']:>5.0f}", flush=True)
    fired = [r for r in rows if r["fired_at"] is not None]
    early = [r for r in fired if r["share"] < 0.98]
    print(f"fired in {len(fired)} of {len(rows)} runs; too early (below 98% of the budget's accuracy) in {len(early)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
