"""Label efficiency with label sets: the product's multi-label session against random order.

Ours is the product's own :class:`~activelabel_widget.multisession.MultiLabelSession` (its
one-vs-rest model, inline rounds, line and ranking by the mean per-label margin): it picks
every record and each card is answered with the record's true label set. Every strategy starts
from the same 10 random records of the same seeded 70/30 pool/test split; the session retrains
every 5 labels (as a labeler would, not after each one). Every 10 labels the *evaluation model*,
the same for everyone (``OneVsRestClassifier(LogisticRegression(max_iter=1000))`` on the data's
features), is fitted afresh on the labeled rows and scored on the held-out 30% by micro-F1.

Data sets (both ship with scikit-learn; nothing is downloaded):

* ``synthetic``: ``make_multilabel_classification(n_samples=2000, n_features=20, n_classes=6,
  n_labels=2)`` (seeded), standardized.
* ``digits-attributes``: the 1,797 8x8 digits with four attributes of the digit as label sets:
  ``even``, ``five or more``, ``prime`` (2, 3, 5, 7), ``closed loop`` (0, 6, 8, 9); pixels / 16.

Reported per data set and strategy: micro-F1 at 50/100/200/300 labels (mean over seeds), the
normalised area under the learning curve (AULC, mean and standard deviation over seeds), labels
to first reach 95% and 98% of the micro-F1 of the evaluation model fitted on the whole pool, and
labels until every label has a positive example.

Run from the repository root::

    .venv/bin/python benchmarks/multilabel_efficiency.py             # 5 seeds, 300 labels
    .venv/bin/python benchmarks/multilabel_efficiency.py --quick     # 2 seeds, 120 labels
"""

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits, make_multilabel_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler

from activelabel_widget.multisession import MultiLabelSession
from activelabel_widget.simulate import area_under_curve

DATASETS = ("synthetic", "digits-attributes")
STRATEGIES = ("hybrid", "margin", "random")
INITIAL = 10
RETRAIN_EVERY = 5
EVALUATE_EVERY = 10


def load(name):
    """``(X, Y, label names)``: features (n, p) and label sets as an indicator matrix (n, L)."""
    if name == "synthetic":
        X, Y = make_multilabel_classification(n_samples=2000, n_features=20, n_classes=6, n_labels=2, random_state=0)
        return StandardScaler().fit_transform(X), Y.astype(bool), [f"topic {j}" for j in range(6)]
    if name == "digits-attributes":
        X, y = load_digits(return_X_y=True)
        Y = np.stack([y % 2 == 0, y >= 5, np.isin(y, [2, 3, 5, 7]), np.isin(y, [0, 6, 8, 9])], axis=1)
        return X / 16.0, Y, ["even", "five or more", "prime", "closed loop"]
    raise SystemExit(f"unknown data set {name!r}; choose from {', '.join(DATASETS)}")


def evaluation_model():
    return OneVsRestClassifier(LogisticRegression(max_iter=1000))


def score(X_train, Y_train, X_test, Y_test) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = evaluation_model().fit(X_train, Y_train)
        return float(f1_score(Y_test, model.predict(X_test), average="micro", zero_division=0))


def run(name, seed, strategy, budget):
    """One labeling run: micro-F1 every 10 labels, and labels until every label has a positive."""
    X, Y, labels = load(name)
    pool, test = train_test_split(np.arange(len(X)), test_size=0.3, random_state=seed)
    X_pool, Y_pool, X_test, Y_test = X[pool], Y[pool], X[test], Y[test]
    frame = pd.DataFrame(X_pool, columns=[f"x{i}" for i in range(X.shape[1])])
    session = MultiLabelSession(frame, labels=labels, features=list(frame.columns), strategy=strategy,
                                retrain_every=RETRAIN_EVERY, store=":memory:", random_state=seed, background=False)

    def answer(position):
        session.label(position, [label for label, on in zip(labels, Y_pool[position]) if on])

    sizes, values, covered_at = [], [], None
    try:
        for position in np.random.default_rng(seed).permutation(len(pool))[:INITIAL]:
            answer(int(position))
        while True:
            labeled = np.flatnonzero(session.hand_codes() >= 0)
            if covered_at is None and Y_pool[labeled].any(axis=0).all():
                covered_at = int(labeled.size)
            if labeled.size % EVALUATE_EVERY == 0 or labeled.size >= budget:
                sizes.append(int(labeled.size))
                values.append(score(X_pool[labeled], Y_pool[labeled], X_test, Y_test))
            if labeled.size >= budget or session.current_position is None:
                break
            answer(session.current_position)
    finally:
        session.close()
    full = score(X_pool, Y_pool, X_test, Y_test)
    return {"sizes": sizes, "values": values, "covered_at": covered_at, "full": full}


def summarize(runs, marks):
    aulc = [area_under_curve(r["sizes"], r["values"]) for r in runs]
    row = {"AULC": f"{np.mean(aulc):.3f} ± {np.std(aulc):.3f}"}
    for mark in marks:
        row[f"F1@{mark}"] = f"{np.mean([dict(zip(r['sizes'], r['values'])).get(mark, np.nan) for r in runs]):.3f}"
    for share in (0.95, 0.98):
        reached = [next((n for n, v in zip(r["sizes"], r["values"]) if v >= share * r["full"]), None) for r in runs]
        hit = [n for n in reached if n is not None]
        row[f"to {share:.0%}"] = (f"{np.mean(hit):.0f}" if len(hit) == len(runs) else
                                  f"{np.mean(hit):.0f} ({len(hit)}/{len(runs)})" if hit else "never")
    covered = [r["covered_at"] for r in runs if r["covered_at"] is not None]
    row["every label seen"] = f"{np.mean(covered):.1f}" if covered else "never"
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="2 seeds, 120 labels")
    args = parser.parse_args(argv)
    seeds, budget = (2, 120) if args.quick else (args.seeds, args.budget)
    marks = [m for m in (50, 100, 200, 300) if m <= budget]
    for name in args.datasets.split(","):
        X, Y, labels = load(name)
        print(f"\n{name}: {len(X):,} rows, {len(labels)} labels, {Y.sum(axis=1).mean():.2f} labels per record "
              f"(label shares {', '.join(f'{s:.0%}' for s in Y.mean(axis=0))}); {seeds} seeds, {INITIAL} -> {budget} "
              f"labels, retrain every {RETRAIN_EVERY}")
        rows = {}
        for strategy in args.strategies.split(","):
            started = time.perf_counter()
            runs = [run(name, seed, strategy, budget) for seed in range(seeds)]
            rows[strategy] = summarize(runs, marks)
            rows[strategy]["s/run"] = f"{(time.perf_counter() - started) / seeds:.1f}"
            full = np.mean([r["full"] for r in runs])
        print(f"micro-F1 of the evaluation model on the whole pool: {full:.3f}")
        print(pd.DataFrame(rows).T.to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
