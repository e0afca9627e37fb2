"""Headless active learning with an oracle: how fast does the product's own labeler learn?

:func:`simulate` hides the labels of a training split, reveals ``initial`` random ones, then lets
a real :class:`~activelabel_widget.session.LabelingSession` (the product's own features, model,
background rounds run inline, line and ranking) choose which record comes next, answering each
card with the true label. After every ``step`` labels an evaluation model, the same for every
strategy and every library compared, is fitted on the labeled rows and scored on a held-out test
split. The result is a learning curve as a plain DataFrame; :func:`area_under_curve` sums it up.

Run ``python -m activelabel_widget.simulate --dataset digits --strategy hybrid`` for a quick
look from a shell.
"""

import argparse

import numpy as np
import pandas as pd

from activelabel_widget.errors import OptionError
from activelabel_widget.strategies import STRATEGIES, check_strategy

__all__ = ["simulate", "area_under_curve", "split", "default_evaluation_model"]


def default_evaluation_model():
    """``LogisticRegression(max_iter=1000)``: what the curve is measured with unless told otherwise."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def _as_features(X):
    """Numeric rows of X as an ndarray or CSR matrix (never a copy of a numeric ndarray)."""
    if isinstance(X, pd.DataFrame):
        non_numeric = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if non_numeric:
            raise OptionError(f"simulate needs numeric evaluation features; columns {non_numeric[:5]} are "
                              "not numeric. Encode them first (e.g. TF-IDF for text) and pass the text as data=.")
        return X.to_numpy(dtype=np.float64)
    if hasattr(X, "tocsr"):
        return X.tocsr()
    X = np.asarray(X)
    if X.ndim != 2:
        raise OptionError(f"X must have shape (n_rows, n_features), got {X.shape}.")
    if not np.issubdtype(X.dtype, np.number):
        raise OptionError(f"simulate needs numeric features, got dtype {X.dtype}.")
    return X


def split(y, *, initial=10, test_size=0.3, random_state=0):
    """The stratified pool/test split and the first random labels every compared method starts from.

    Returns
    -------
    pool, test : ndarray of int
        Sorted row positions of the pool (to label) and of the held-out test rows.
    initial : ndarray of int
        Positions *within the pool* of the first labels, seeded by ``random_state``.
    """
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    _, counts = np.unique(y, return_counts=True)
    if counts.size < 2 or counts.min() < 2:
        raise OptionError("simulate needs at least two classes with at least two rows each "
                          "(the split is stratified); drop or merge the rare classes.")
    pool, test = train_test_split(np.arange(y.size), test_size=test_size, stratify=y, random_state=random_state)
    pool, test = np.sort(pool), np.sort(test)
    if not 1 <= initial <= pool.size:
        raise OptionError(f"initial must be between 1 and the pool size ({pool.size}), got {initial}.")
    first = np.random.default_rng(random_state).choice(pool.size, size=initial, replace=False)
    return pool, test, np.sort(first)


def _scorer(metric):
    if metric == "accuracy":
        return lambda fitted, X, y: float(np.mean(fitted.predict(X) == y))
    from sklearn.metrics import get_scorer

    return get_scorer(metric)


def _fit(model, X, y):
    from sklearn.base import clone
    from sklearn.dummy import DummyClassifier

    if np.unique(y).size < 2:  # most classifiers refuse one class; predict it everywhere
        return DummyClassifier(strategy="most_frequent").fit(X, y)
    return clone(model).fit(X, y)


def _pool_frame(data, X, pool):
    """The DataFrame the session labels: the user's ``data`` rows, or X's columns as a table."""
    if data is not None:
        if len(data) != X.shape[0]:
            raise OptionError(f"data= has {len(data)} rows but X has {X.shape[0]}; they must describe the same rows.")
        return data.iloc[pool].reset_index(drop=True), {}
    if hasattr(X, "tocsr"):
        raise OptionError("X is sparse (text features?): pass the records themselves as data= with text= (e.g. "
                          "simulate(X, y, data=df, text='body')), so the labeler builds its own features.")
    columns = [f"x{j}" for j in range(X.shape[1])]
    return pd.DataFrame(X[pool], columns=columns), {"features": columns}


def simulate(X, y, *, data=None, strategy="hybrid", model=None, evaluate_with=None, budget=300, initial=10,
             test_size=0.3, random_state=0, step=1, metric="accuracy", **session_options):
    """Label with an oracle through the product's own session and return the learning curve.

    Parameters
    ----------
    X : ndarray, sparse matrix or DataFrame of shape (n, p)
        Numeric features of the evaluation model (the same for every compared method).
    y : array-like of shape (n,)
        The true labels (the oracle).
    data : DataFrame of n rows, optional
        The records the session labels, with ``text=``, ``image=`` or ``features=`` in
        ``session_options`` as for :class:`~activelabel_widget.LabelingSession`. Default: X's
        columns as a table.
    strategy : str
        The session's query strategy, a name from ``STRATEGIES``.
    model : estimator or list, optional
        The session's own model (``model=`` of the session; default the product's default).
    evaluate_with : classifier, optional
        Fitted (a fresh clone) on the labeled rows of X after every step and scored on the
        test split. Default :func:`default_evaluation_model`.
    budget : int
        Labels at the end (including the initial ones); capped at the pool size.
    initial : int
        Random labels to start from.
    test_size : float
        Share of rows held out (stratified) to measure the evaluation model.
    random_state : int
        Seeds the split, the first labels and the session.
    step : int
        Labels per round: the session refits every ``step`` labels (``retrain_every``).
    metric : str
        ``"accuracy"`` or any scikit-learn scorer name.
    **session_options
        Passed to the session (``text=``, ``features=``, ``embeddings=`` in X's row order, ...).

    Returns
    -------
    curve : DataFrame
        One row per round with columns ``n_labels`` (increasing), the metric (column named
        after it, ``accuracy`` by default), ``stop_hint`` (whether the session's stop hint was
        ready at that point; see :meth:`~activelabel_widget.LabelingSession.stop_hint`),
        ``strategy`` and ``seed``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> curve = simulate(X, y, strategy="margin", budget=20, initial=5)
    >>> curve.columns.tolist(), curve.n_labels.iloc[[0, -1]].tolist()
    (['n_labels', 'accuracy', 'stop_hint', 'strategy', 'seed'], [5, 20])
    """
    from activelabel_widget.session import LabelingSession

    check_strategy(strategy)
    if not isinstance(step, (int, np.integer)) or step < 1:
        raise OptionError(f"step must be a whole number of at least 1, got {step!r}.")
    X = _as_features(X)
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise OptionError(f"y must have one label per row of X: X has {X.shape[0]} rows, y has shape {y.shape}.")
    pool, test, first = split(y, initial=initial, test_size=test_size, random_state=random_state)
    frame, kind = _pool_frame(data, X, pool)
    options = {**kind, **session_options}
    if options.get("embeddings") is not None and not isinstance(options["embeddings"], str):
        options["embeddings"] = np.asarray(options["embeddings"])[pool]
    classes = np.unique(y)
    names = [str(c) for c in classes]
    truth = np.searchsorted(classes, y[pool])
    evaluator = default_evaluation_model() if evaluate_with is None else evaluate_with
    score = _scorer(metric)
    X_pool, X_test, y_pool, y_test = X[pool], X[test], y[pool], y[test]
    budget = min(int(budget), pool.size)

    session = LabelingSession(frame, labels=names, model=model, strategy=strategy, retrain_every=int(step),
                              store=":memory:", annotator="oracle", random_state=random_state, background=False,
                              **options)
    sizes, values, stop = [], [], []
    try:
        session.label_many(first, [names[t] for t in truth[first]], source="hand")
        session.retrain(wait=True)
        while True:
            labeled = np.flatnonzero(session.hand_codes() >= 0)
            sizes.append(int(labeled.size))
            values.append(score(_fit(evaluator, X_pool[labeled], y_pool[labeled]), X_test, y_test))
            stop.append(session.stop_hint().ready)
            if labeled.size >= budget:
                break
            for _ in range(min(step, budget - labeled.size)):
                position = session.current_position
                if position is None:
                    break
                session.label(session.current, names[truth[position]])
    finally:
        session.close()
    return pd.DataFrame({"n_labels": sizes, metric: values, "stop_hint": stop, "strategy": strategy,
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
