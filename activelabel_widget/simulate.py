"""Headless active learning with an oracle: how fast does a strategy learn on labeled data?

:func:`simulate` hides the labels of a training split, reveals ``initial`` random ones, then
asks a strategy for the next record(s) to label, one query (or ``step``) at a time, refitting a
fresh clone of the model after every answer and recording its score on a held-out test split.
The result is a learning curve as a plain DataFrame; :func:`area_under_curve` sums it up.

Run ``python -m activelabel_widget.simulate --dataset digits --strategy hybrid`` for a quick
look from a shell.
"""

import argparse
from dataclasses import dataclass

import numpy as np
import pandas as pd

from activelabel_widget.strategies import (
    STRATEGIES, build_embedding_index, needs_model, score_pool, top_k)

__all__ = ["simulate", "area_under_curve"]

_COMMITTEE_SIZE = 5
_SVD_COMPONENTS = 100


def _default_model():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def _as_features(X):
    """Numeric rows of X as an ndarray or CSR matrix (never a copy of a numeric ndarray)."""
    if isinstance(X, pd.DataFrame):
        non_numeric = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if non_numeric:
            raise TypeError(f"simulate needs numeric features; columns {non_numeric[:5]} are "
                            "not numeric. Encode them first (e.g. TF-IDF for text).")
        return X.to_numpy(dtype=np.float64)
    if hasattr(X, "tocsr"):
        return X.tocsr()
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n_rows, n_features), got {X.shape}.")
    if not np.issubdtype(X.dtype, np.number):
        raise TypeError(f"simulate needs numeric features, got dtype {X.dtype}.")
    return X


def _default_embeddings(X_pool, random_state):
    if hasattr(X_pool, "tocsr"):
        from sklearn.decomposition import TruncatedSVD

        k = max(1, min(_SVD_COMPONENTS, X_pool.shape[1] - 1, X_pool.shape[0] - 1))
        return TruncatedSVD(n_components=k, random_state=random_state).fit_transform(X_pool)
    return X_pool


@dataclass
class _Setup:
    """One seed's split, first labels and embedding index (shared by all strategies)."""

    X_pool: object
    y_pool: np.ndarray
    X_test: object
    y_test: np.ndarray
    initial_mask: np.ndarray
    embeddings: np.ndarray
    index: object
    seed: int


def _prepare(X, y, *, initial, test_size, random_state, embeddings=None):
    from sklearn.model_selection import train_test_split

    X = _as_features(X)
    y = np.asarray(y)
    n = X.shape[0]
    if y.shape != (n,):
        raise ValueError(f"y must have one label per row of X: X has {n} rows, y has shape "
                         f"{y.shape}.")
    _, counts = np.unique(y, return_counts=True)
    if counts.size < 2 or counts.min() < 2:
        raise ValueError("simulate needs at least two classes with at least two rows each "
                         "(the split is stratified); drop or merge the rare classes.")
    train, test = train_test_split(np.arange(n), test_size=test_size, stratify=y,
                                   random_state=random_state)
    train, test = np.sort(train), np.sort(test)
    if not 1 <= initial <= train.size:
        raise ValueError(f"initial must be between 1 and the pool size ({train.size}), "
                         f"got {initial}.")
    rng = np.random.default_rng(random_state)
    initial_mask = np.zeros(train.size, dtype=bool)
    initial_mask[rng.choice(train.size, size=initial, replace=False)] = True
    X_pool = X[train]
    if embeddings is None:
        emb = _default_embeddings(X_pool, random_state)
    else:
        emb = np.asarray(embeddings)
        if emb.ndim != 2 or emb.shape[0] != n:
            raise ValueError(f"embeddings must have shape (n_rows, n_dims) with {n} rows, "
                             f"got {emb.shape}.")
        emb = emb[train]
    emb = np.asarray(emb, dtype=np.float32)
    index = build_embedding_index(emb, random_state=random_state)
    return _Setup(X_pool=X_pool, y_pool=y[train], X_test=X[test], y_test=y[test],
                  initial_mask=initial_mask, embeddings=emb, index=index, seed=random_state)


def _fit(model, X, y):
    from sklearn.base import clone
    from sklearn.dummy import DummyClassifier

    if np.unique(y).size < 2:  # most classifiers refuse one class; predict it everywhere
        return DummyClassifier(strategy="most_frequent").fit(X, y)
    return clone(model).fit(X, y)


def _scorer(metric):
    if metric == "accuracy":
        return lambda fitted, X, y: float(np.mean(fitted.predict(X) == y))
    from sklearn.metrics import get_scorer

    return get_scorer(metric)


def _committee_proba(model, X_pool, y_lab, X_lab, classes, rng):
    """(m, n, K) probabilities of bootstrap clones, columns in the order of ``classes``."""
    members = []
    for _ in range(_COMMITTEE_SIZE):
        rows = rng.choice(y_lab.size, size=y_lab.size, replace=True)
        if np.unique(y_lab[rows]).size < 2:
            continue
        fitted = _fit(model, X_lab[rows], y_lab[rows])
        p = np.zeros((X_pool.shape[0], classes.size))
        p[:, np.searchsorted(classes, fitted.classes_)] = fitted.predict_proba(X_pool)
        members.append(p)
    return np.stack(members) if len(members) >= 2 else None


def _strategy_picker(strategy, model, setup, random_state):
    """pick(fitted, labeled_mask, n_pick, step_no) -> positions, using our strategies."""
    rng = np.random.default_rng([random_state, 1])

    def pick(fitted, labeled_mask, n_pick, step_no):
        proba = committee = None
        if needs_model(strategy):
            proba = fitted.predict_proba(setup.X_pool)
            if strategy == "committee":
                lab = np.flatnonzero(labeled_mask)
                committee = _committee_proba(model, setup.X_pool, setup.y_pool[lab],
                                             setup.X_pool[lab], fitted.classes_, rng)
        scores = score_pool(strategy, labeled_mask=labeled_mask, proba=proba,
                            committee_proba=committee, index=setup.index,
                            random_state=int(rng.integers(2**31 - 1)))
        return top_k(scores, n_pick)

    return pick


def _learning_curve(setup, pick, *, model, budget, step, metric):
    """Run the oracle loop; ``pick`` chooses pool positions. Returns (n_labels, scores)."""
    if step < 1:
        raise ValueError(f"step must be at least 1, got {step}.")
    score = _scorer(metric)
    labeled = setup.initial_mask.copy()
    budget = min(int(budget), labeled.size)
    sizes, values = [], []
    step_no = 0
    while True:
        lab = np.flatnonzero(labeled)
        fitted = _fit(model, setup.X_pool[lab], setup.y_pool[lab])
        sizes.append(int(lab.size))
        values.append(score(fitted, setup.X_test, setup.y_test))
        n_pick = min(step, budget - lab.size)
        if n_pick <= 0:
            break
        picks = np.asarray(pick(fitted, labeled.copy(), n_pick, step_no), dtype=np.int64)
        if picks.size == 0 or labeled[picks].any() or np.unique(picks).size != picks.size:
            raise RuntimeError(f"the query strategy returned {picks.tolist()[:10]} at "
                               f"{lab.size} labels; it must return new unlabeled positions.")
        labeled[picks] = True
        step_no += 1
    return np.array(sizes), np.array(values)


def simulate(X, y, *, strategy="hybrid", model=None, budget=300, initial=10, test_size=0.3,
             random_state=0, embeddings=None, step=1, metric="accuracy"):
    """Simulate labeling with an oracle and return the learning curve.

    Parameters
    ----------
    X : ndarray, sparse matrix or DataFrame of shape (n, p)
        Numeric model features.
    y : array-like of shape (n,)
        The true labels (the oracle).
    strategy : str
        A name from ``STRATEGIES``.
    model : classifier, optional
        Any scikit-learn classifier with ``predict_proba``; a fresh ``clone`` is fitted at
        every step and the object passed here is never fitted. Default
        ``LogisticRegression(max_iter=1000)``.
    budget : int
        Labels at the end (including the initial ones); capped at the pool size.
    initial : int
        Random labels to start from.
    test_size : float
        Share of rows held out (stratified) to measure the model.
    random_state : int
        Seeds the split, the first labels, the embedding index and the strategy.
    embeddings : array-like of shape (n, d), optional
        For diversity, the hybrid and the cold start. Default: X itself when dense, a
        100-component truncated SVD of X when sparse.
    step : int
        Labels added per query round.
    metric : str
        ``"accuracy"`` or any scikit-learn scorer name.

    Returns
    -------
    curve : DataFrame
        One row per round with columns ``n_labels`` (increasing), the metric (column named
        after it, ``accuracy`` by default), ``strategy`` and ``seed``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> curve = simulate(X, y, strategy="margin", budget=20, initial=5)
    >>> curve.columns.tolist(), curve.n_labels.iloc[[0, -1]].tolist()
    (['n_labels', 'accuracy', 'strategy', 'seed'], [5, 20])
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}.")
    model = _default_model() if model is None else model
    setup = _prepare(X, y, initial=initial, test_size=test_size, random_state=random_state,
                     embeddings=embeddings)
    pick = _strategy_picker(strategy, model, setup, random_state)
    sizes, values = _learning_curve(setup, pick, model=model, budget=budget, step=step,
                                    metric=metric)
    return pd.DataFrame({"n_labels": sizes, metric: values, "strategy": strategy,
                         "seed": random_state})


def area_under_curve(n_labels, values):
    """Normalised area under a learning curve: the trapezoid mean of ``values``.

    Parameters
    ----------
    n_labels : array-like of shape (t,)
        Increasing label counts.
    values : array-like of shape (t,)
        The metric at each count.

    Returns
    -------
    float
        Mean height of the curve between the first and last label count (same unit as the
        metric; higher = learns faster). A single point returns its value.
    """
    x = np.asarray(n_labels, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if x.size == 1:
        return float(v[0])
    return float(np.sum((v[1:] + v[:-1]) / 2.0 * np.diff(x)) / (x[-1] - x[0]))


def _load(name):
    from sklearn import datasets

    loaders = {"digits": datasets.load_digits, "breast_cancer": datasets.load_breast_cancer,
               "wine": datasets.load_wine, "iris": datasets.load_iris}
    if name not in loaders:
        raise SystemExit(f"unknown dataset {name!r}; choose one of {', '.join(loaders)}")
    X, y = loaders[name](return_X_y=True)
    if name == "digits":
        return X / 16.0, y
    from sklearn.preprocessing import StandardScaler

    return StandardScaler().fit_transform(X), y


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m activelabel_widget.simulate",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="digits",
                        help="digits, breast_cancer, wine or iris (scikit-learn's copies)")
    parser.add_argument("--strategy", default="hybrid", help=", ".join(STRATEGIES))
    parser.add_argument("--budget", type=int, default=150)
    parser.add_argument("--initial", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    X, y = _load(args.dataset)
    rows = []
    for seed in range(args.seeds):
        curve = simulate(X, y, strategy=args.strategy, budget=args.budget,
                         initial=args.initial, random_state=seed)
        rows.append(curve)
    curves = pd.concat(rows, ignore_index=True)
    mean = curves.groupby("n_labels")["accuracy"].mean()
    marks = sorted({args.initial, *[m for m in (25, 50, 100, 200, 300) if m < args.budget],
                    int(mean.index.max())})
    aucs = [area_under_curve(c.n_labels, c.accuracy) for _, c in curves.groupby("seed")]
    print(f"{args.strategy} on {args.dataset}, {args.seeds} seeds, "
          f"AUC {np.mean(aucs):.4f} +- {np.std(aucs):.4f}")
    for m in marks:
        if m in mean.index:
            print(f"  {m:4d} labels: accuracy {mean[m]:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
