"""Where do the product's picks part from margin sampling's? A check of the query line, not a score.

``label_efficiency.py`` found the product's own ``strategy="margin"`` behind modAL's margin sampling.
The two can differ in two places: the product's line (the first line before a model exists, the
ranking, the line served between fits, the top-up) or its query model (features, class weights, C).
This script separates them. The product's session labels through
:func:`activelabel_widget.simulate.simulate`, unchanged, with ``strategy="margin"`` and one label per
fit, and at every pick it notes:

* **own top**: whether the record the session serves is the top of its own margin order at that
  moment (the smallest gap between the two likeliest labels of its model, among unlabeled rows;
  a model with balanced class weights read at the labels' class mix, as the ranking reads it).
  If the line lost labels, this is where it would show;
* **same as modAL**: whether modAL's ``margin_sampling`` (the evaluation model, fitted on the
  same labeled rows, on the evaluation features: exactly as ``label_efficiency.py`` runs it) asks
  for the same record, and the rank of the product's pick in modAL's order (0 = modAL's pick).

Picks made before the session's first fit (fewer than two examples each of two labels) are counted
apart: they come from the exploring first line, and modAL, which fits from one example per class,
margin-samples there already.

``--ours-model evaluation`` gives the session the evaluation model's settings (as in
``label_efficiency.py``), so the remaining differences are the features alone.

Run from the repository root (the environment of ``label_efficiency.py``)::

    bench-venv/bin/python benchmarks/pick_check.py                       # default model
    bench-venv/bin/python benchmarks/pick_check.py --ours-model evaluation
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import label_efficiency as le  # noqa: E402

from activelabel_widget.session import LabelingSession  # noqa: E402
from activelabel_widget.simulate import simulate, split  # noqa: E402

#: Margins closer than this count as a tie (the session's probabilities are float32).
TIE = 1e-6


def _gap(proba, labeled):
    """Margin sampling's order key per row (smaller = asked sooner), +inf at labeled rows."""
    top2 = np.sort(np.asarray(proba, dtype=np.float64), axis=1)[:, -2:]
    gap = top2[:, 1] - top2[:, 0]
    gap[labeled] = np.inf
    return gap


def _as_ranked(session, proba):
    """The probabilities the session's ranking reads (a balanced model's at the labels' class mix),
    decided as the session's rounds decide it."""
    from activelabel_widget.rounds import ranking_label_mix
    from activelabel_widget.strategies import at_label_mix

    codes = session.hand_codes()
    mix = ranking_label_mix(session._estimators, codes[codes >= 0], session._model)
    return proba if mix is None else at_label_mix(proba, mix)


def check(dataset, seed, budget, ours_model):
    """Per pick of the product's margin line: (before the first fit, own top, same as modAL, rank in modAL's order)."""
    from threadpoolctl import threadpool_limits

    X, y, model, data, options, dense = le.load(dataset)
    pool, _, _ = split(y, initial=le.INITIAL, test_size=le.TEST_SIZE, random_state=seed)
    X_pool, y_pool = X[pool], y[pool]
    modal_pick = le._picker("modAL-margin", model, X_pool, dense[pool], y_pool, np.unique(y), seed)
    if ours_model == "evaluation":
        options = {**options, "model": le.evaluation_like_model(dataset)}
    picks = []
    original = LabelingSession.label

    def watched(session, key, label, **kwargs):
        position = session.current_position
        labeled = session.hand_codes() >= 0
        proba, _ = session.model_proba()
        if proba is None:
            picks.append((True, False, False, -1))
        else:
            own = _gap(_as_ranked(session, proba), labeled)
            fitted = le._fit(model, X_pool[labeled], y_pool[labeled])
            theirs = _gap(fitted.predict_proba(X_pool), labeled)
            rank = int(np.sum(theirs < theirs[position] - TIE))
            picks.append((False, bool(own[position] <= own.min() + TIE), modal_pick(fitted, labeled) == position, rank))
        return original(session, key, label, **kwargs)

    LabelingSession.label = watched
    try:
        with threadpool_limits(1):
            simulate(X, y, data=data, strategy="margin", evaluate_with=model, budget=budget, initial=le.INITIAL,
                     test_size=le.TEST_SIZE, random_state=seed, step=1,
                     metric=le.METRICS.get(dataset, "accuracy"), **options)
    finally:
        LabelingSession.label = original
    return dataset, seed, picks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="digits,breast_cancer,shuttle,debates,rt_polarity")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=150)
    parser.add_argument("--ours-model", choices=["product", "evaluation"], default="product")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    from joblib import Parallel, delayed

    datasets = [d for d in args.datasets.split(",") if d]
    results = Parallel(n_jobs=args.jobs)(delayed(check)(d, s, args.budget, args.ours_model)
                                         for d in datasets for s in range(args.seeds))
    rows = []
    for dataset in datasets:
        picks = [p for d, _, ps in results if d == dataset for p in ps]
        fitted = [p for p in picks if not p[0]]
        ranks = np.array([p[3] for p in fitted])
        rows.append({"data set": dataset, "picks": len(picks), "before the first fit": len(picks) - len(fitted),
                     "own top": f"{sum(p[1] for p in fitted)}/{len(fitted)}",
                     "same as modAL": f"{np.mean([p[2] for p in fitted]):.0%}",
                     "median rank in modAL's order": f"{np.median(ranks):.0f}",
                     "rank > 10": f"{np.mean(ranks > 10):.0%}"})
    print(f"# Picks of the product's margin line (seeds 0..{args.seeds - 1}, {le.INITIAL} -> {args.budget} labels, "
          f"session model: {args.ours_model})\n")
    table = pd.DataFrame(rows)
    print(" | ".join(table.columns))
    print(" | ".join("---" for _ in table.columns))
    for row in table.itertuples(index=False):
        print(" | ".join(str(v) for v in row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
