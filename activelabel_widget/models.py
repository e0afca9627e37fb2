"""Weak classifiers: fit clones on the hand labels, score the pool, estimate quality.

The user's estimators are never fitted in place (:func:`sklearn.base.clone`). Probabilities are
always returned as an (n, K) float32 array whose columns follow the labeler's label list, with
zeros for labels the model has not seen, whatever order the estimator keeps in ``classes_``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from .errors import ModelError

__all__ = ["default_model", "balanced_class_weights", "UsedColumnsLogisticRegression", "check_estimators", "FittedCommittee", "fit_committee",
           "predict_proba", "cross_validate", "CrossValidated", "cross_val_accuracy", "ready_to_train"]

_SCORE_CHUNK = 65_536


class UsedColumnsLogisticRegression(LogisticRegression):
    """:class:`~sklearn.linear_model.LogisticRegression` that, on sparse rows, solves on the columns
    the training rows use and widens its coefficients back to every column.

    A column that is zero in every training row adds nothing to the loss's gradient but the
    penalty's, so its coefficient is zero at the optimum: the fit is the full one (to the solver's
    tolerance), and on 2**18 hashed text columns of which a few thousand occur in the labeled rows
    it is 5-20x faster. The fitted estimator scores full-width rows like any logistic regression.
    """

    def fit(self, X, y, sample_weight=None):
        from scipy import sparse

        if not sparse.issparse(X):
            return super().fit(X, y, sample_weight=sample_weight)
        X = sparse.csr_matrix(X)
        used = np.unique(X.indices)
        if len(used) == 0:  # no training row has a word: the intercepts alone, as the full fit gives
            return super().fit(X, y, sample_weight=sample_weight)
        super().fit(X[:, used], y, sample_weight=sample_weight)
        coef = np.zeros((self.coef_.shape[0], X.shape[1]), dtype=self.coef_.dtype)
        coef[:, used] = self.coef_
        self.coef_, self.n_features_in_ = coef, X.shape[1]
        return self


def default_model(kind: str):
    """A model that learns from few labels, per data kind.

    Logistic regression with balanced class weights on every kind: on hashed TF-IDF features for
    text (solved by Newton-CG), on grey thumbnails for images, on standardised columns for tables. It trains
    in milliseconds on hundreds of labels, and its probabilities are better calibrated than naive
    Bayes', which matters because the card shows them as confidence.
    """
    if kind == "text":
        # Newton-CG, not L-BFGS: on a few hundred thousand TF-IDF columns each L-BFGS step costs tens of
        # milliseconds however few the labels, while Newton-CG reaches the same optimum in 4-5 steps;
        # a round (fit and 5-fold estimate) is 6-45x faster (benchmarks/session_speed.py --rounds)
        return UsedColumnsLogisticRegression(C=10.0, solver="newton-cg", max_iter=1000, class_weight="balanced")
    return LogisticRegression(C=1.0, max_iter=1000, class_weight="balanced")


def balanced_class_weights(estimators) -> bool:
    """Whether every estimator weighs its classes as balanced (``class_weight="balanced"``, a
    pipeline's step included): its probabilities are then those of a pool of equally frequent classes."""

    def balanced(estimator) -> bool:
        try:
            params = estimator.get_params(deep=True)
        except Exception:  # not a scikit-learn estimator: nothing to read
            return False
        return any((key == "class_weight" or key.endswith("__class_weight")) and isinstance(value, str)
                   and value == "balanced" for key, value in params.items())

    return bool(estimators) and all(balanced(e) for e in estimators)


def check_estimators(model) -> list:
    """The user's ``model=`` as a list of estimators (empty for None), each checked before any fit.

    Raises
    ------
    ModelError
        A class instead of an instance, an object without ``fit``, or one that can neither
        give probabilities nor a decision function.
    """
    estimators = list(model) if isinstance(model, (list, tuple)) else [] if model is None else [model]
    for estimator in estimators:
        if isinstance(estimator, type):
            raise ModelError(f"model= got the class {estimator.__name__}, not an estimator; pass an instance, "
                             f"e.g. model={estimator.__name__}().")
        if not hasattr(estimator, "fit"):
            raise ModelError(f"model= must be scikit-learn estimators with fit(); got {type(estimator).__name__}.")
        if not (hasattr(estimator, "predict_proba") or hasattr(estimator, "decision_function")):
            raise ModelError(
                f"{type(estimator).__name__} has neither predict_proba nor decision_function, so it cannot suggest "
                "labels or rank records; wrap it in sklearn.calibration.CalibratedClassifierCV or pass another model.")
    return estimators


def ready_to_train(counts: np.ndarray) -> bool:
    """Training starts once two labels have two or more examples each."""
    return int((np.asarray(counts) >= 2).sum()) >= 2


@dataclass
class FittedCommittee:
    """Fitted clones of the user's estimators (one or more) and the label order they map to."""

    estimators: list
    n_classes: int
    multi_label: bool = False  # fitted on an indicator matrix: probabilities are per label, not a distribution


def _fit_one(estimator, X, y):
    model = clone(estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # one-vs-rest on label sets: a label no row has yet is fitted as "never", which is right
        warnings.filterwarnings("ignore", message="Label (not )?[0-9]+ is present in all training examples")
        model.fit(X, y)
    return model


def _name(estimator) -> str:
    """The user's estimator's class name, also when it is wrapped one-vs-rest for label sets."""
    inner = getattr(estimator, "estimator", None)
    if type(estimator).__name__ == "OneVsRestClassifier" and inner is not None:
        return f"{type(inner).__name__} (one per label)"
    return type(estimator).__name__


def fit_committee(estimators, X, y: np.ndarray, *, n_classes: int) -> FittedCommittee:
    """Fit a clone of each estimator on ``X`` (m, p) and label codes ``y`` (m,), or an indicator matrix
    ``y`` (m, n_classes) of label sets (one-vs-rest estimators, see :mod:`activelabel_widget.multilabel`).

    Raises
    ------
    ModelError
        Naming the estimator that failed and its error.
    """
    fitted = []
    for estimator in estimators:
        try:
            fitted.append(_fit_one(estimator, X, y))
        except Exception as error:  # the user's estimator may raise anything; report it, keep the old model
            raise ModelError(f"{_name(estimator)}.fit failed: {type(error).__name__}: {error}") from error
    return FittedCommittee(fitted, n_classes, multi_label=np.ndim(y) == 2)


def _model_classes(model, n_classes: int) -> np.ndarray:
    """The label codes of ``model.classes_`` in the model's own order (which need not be sorted)."""
    name = type(model).__name__
    if not hasattr(model, "classes_"):
        raise ModelError(f"{name} has no classes_ after fit; a classifier must set classes_ (e.g. np.unique(y)) in fit.")
    raw = np.asarray(model.classes_)
    try:
        classes = raw.astype(np.int64)
    except (TypeError, ValueError):
        classes = None
    if (classes is None or raw.ndim != 1 or not np.array_equal(classes, raw) or len(set(classes.tolist())) != len(classes)
            or (len(classes) and (classes.min() < 0 or classes.max() >= n_classes))):
        raise ModelError(
            f"{name}.classes_ is {raw.tolist()[:10]!r}, not the label codes 0..{n_classes - 1} it was fitted on; "
            "a classifier must keep the y it was given in classes_."
        )
    return classes


def _model_proba(model, X, n_classes: int, multi_label: bool = False) -> np.ndarray:
    name = type(model).__name__
    classes = _model_classes(model, n_classes)
    if hasattr(model, "predict_proba"):
        raw = np.asarray(model.predict_proba(X))
    elif multi_label and hasattr(model, "decision_function"):
        # one score per label: the logistic function turns each into that label's probability
        scores = np.asarray(model.decision_function(X), dtype=np.float64)
        raw = 1.0 / (1.0 + np.exp(-np.clip(scores, -500, 500)))
    elif hasattr(model, "decision_function"):
        # no probabilities: a softmax of the decision values keeps the ranking of classes,
        # which is all suggestions and uncertainty sampling need
        scores = np.asarray(model.decision_function(X), dtype=np.float64)
        if scores.ndim == 1 and len(classes) == 2:
            scores = np.stack([-scores, scores], axis=1)  # binary: the score is for classes_[1]
        if scores.ndim == 2 and scores.shape[1] == len(classes) and np.isfinite(scores).all():
            scores = scores - scores.max(axis=1, keepdims=True)
            raw = np.exp(scores)
            raw /= raw.sum(axis=1, keepdims=True)
        else:
            raw = scores  # refused below with the shape or the bad values named
    else:
        raise ModelError(
            f"{name} has neither predict_proba nor decision_function; pass a classifier that "
            "gives probabilities (e.g. wrap it in sklearn.calibration.CalibratedClassifierCV)."
        )
    if raw.shape != (X.shape[0], len(classes)):
        raise ModelError(f"{name} returned probabilities of shape {raw.shape}, expected {(X.shape[0], len(classes))} "
                         "(one column per class in classes_).")
    if not np.isfinite(raw).all():
        bad = ~np.isfinite(raw).all(axis=1)
        raise ModelError(
            f"{name} returned NaN or infinite probabilities for {int(bad.sum()):,} of {len(raw):,} rows; check how it "
            "handles these features (e.g. missing values) or pass another model."
        )
    if raw.min(initial=0.0) < 0:
        if raw.min() < -1e-6:  # a rounding error's -1e-17 is not worth refusing a model for
            raise ModelError(f"{name} returned negative probabilities; pass a classifier whose predict_proba gives probabilities.")
        raw = np.clip(raw, 0.0, None)
    out = np.zeros((X.shape[0], n_classes), dtype=np.float32)
    out[:, classes] = raw  # column j of the model is its classes_[j], whatever order it keeps
    if multi_label:
        if raw.max(initial=0.0) > 1.0 + 1e-6:
            raise ModelError(f"{name} returned probabilities above 1; pass a classifier whose predict_proba gives "
                             "probabilities.")
        return np.clip(out, 0.0, 1.0)  # one probability per label: they need not sum to one
    total = out.sum(axis=1, keepdims=True)
    if np.abs(total - 1.0).max(initial=0.0) > 1e-4:  # most models already sum to one: skip two passes
        out /= np.where(total > 0, total, 1.0)
    return out


def predict_proba(committee: FittedCommittee, X) -> tuple[np.ndarray, np.ndarray | None]:
    """Probabilities over the pool: the committee mean (n, K), and each member's (m, n, K) when m > 1.

    Scored in chunks so memory stays bounded on large pools.
    """
    n = X.shape[0]
    members = len(committee.estimators)
    mean = np.empty((n, committee.n_classes), dtype=np.float32)
    each = np.empty((members, n, committee.n_classes), dtype=np.float32) if members > 1 else None
    for start in range(0, n, _SCORE_CHUNK):
        block = X[start : start + _SCORE_CHUNK]
        probas = []
        for model in committee.estimators:
            try:
                probas.append(_model_proba(model, block, committee.n_classes, committee.multi_label))
            except ModelError:
                raise
            except Exception as error:  # the user's estimator may raise anything
                raise ModelError(f"{type(model).__name__}.predict_proba failed: {type(error).__name__}: {error}") from error
        rows = slice(start, start + block.shape[0])
        if each is None:
            mean[rows] = probas[0]
        else:
            each[:, rows] = probas
            mean[rows] = each[:, rows].mean(axis=0)
    return mean, each


@dataclass
class CrossValidated:
    """Out-of-fold results on the hand labels.

    ``accuracy`` is None when there are too few labels for an honest estimate. ``proba`` (m, K)
    holds each labeled row's probabilities from the fold that did not train on it (NaN rows for
    rows left out); ``each`` (members, m, K) the same per committee member, or None for one model.
    """

    accuracy: float | None
    proba: np.ndarray | None = None
    each: np.ndarray | None = None


def cross_validate(estimators, X, y: np.ndarray, *, n_classes: int, random_state: int = 0,
                   on_fold: Callable[[int, int], None] | None = None) -> CrossValidated:
    """Stratified k-fold (k <= 5) accuracy and out-of-fold probabilities of the committee.

    ``on_fold(done, folds)`` is called after each fold (for a progress line).

    A class with fewer than two examples cannot be split across folds, so its rows are left out
    (NaN probabilities); with fewer than two such classes there is no estimate. A model that
    cannot be fitted or cannot score on a fold's share of the labels gives no estimate either
    (rather than no model).
    """
    y = np.asarray(y)
    if y.ndim == 2:
        return _cross_validate_sets(estimators, X, y, n_classes=n_classes, random_state=random_state, on_fold=on_fold)
    present, counts = np.unique(y, return_counts=True)
    usable = present[counts >= 2]
    if len(usable) < 2:
        return CrossValidated(None)
    keep = np.flatnonzero(np.isin(y, usable))
    Xk, yk = X[keep], y[keep]
    folds = int(min(5, counts[counts >= 2].min()))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    members = len(estimators)
    proba = np.full((len(y), n_classes), np.nan, dtype=np.float32)
    each = np.full((members, len(y), n_classes), np.nan, dtype=np.float32) if members > 1 else None
    for done, (train, test) in enumerate(splitter.split(np.zeros(len(yk)), yk), start=1):
        try:
            committee = fit_committee(estimators, Xk[train], yk[train], n_classes=n_classes)
            fold_mean, fold_each = predict_proba(committee, Xk[test])
        except ModelError:
            # a model that cannot work on a fold's fewer labels (e.g. k-neighbours with k above the
            # fold's size) may still work on all of them: no estimate, rather than no model
            return CrossValidated(None)
        proba[keep[test]] = fold_mean
        if each is not None:
            each[:, keep[test]] = fold_each
        if on_fold is not None:
            on_fold(done, folds)
    accuracy = float((proba[keep].argmax(axis=1) == yk).mean())
    return CrossValidated(accuracy, proba, each)


#: Label sets needed before a cross-validated estimate (fewer folds than this teach nothing).
MIN_SETS_FOR_ESTIMATE = 10


def _cross_validate_sets(estimators, X, Y: np.ndarray, *, n_classes: int, random_state: int,
                         on_fold) -> CrossValidated:
    """K-fold (k <= 5) micro-F1 and out-of-fold marginals of a committee fitted on label sets ``Y`` (m, L).

    The "accuracy" of a multi-label fit is the micro-averaged F1 of its suggested sets (labels
    at probability 0.5 or more): plain per-label accuracy would reward predicting "no label"
    everywhere when labels are rare.
    """
    from sklearn.model_selection import KFold

    from .multilabel import micro_f1, predicted_sets

    m = len(Y)
    if m < MIN_SETS_FOR_ESTIMATE:
        return CrossValidated(None)
    folds = 5 if m >= 25 else 3
    members = len(estimators)
    proba = np.full((m, n_classes), np.nan, dtype=np.float32)
    each = np.full((members, m, n_classes), np.nan, dtype=np.float32) if members > 1 else None
    splitter = KFold(n_splits=folds, shuffle=True, random_state=random_state)
    for done, (train, test) in enumerate(splitter.split(np.zeros(m)), start=1):
        try:
            committee = fit_committee(estimators, X[train], Y[train], n_classes=n_classes)
            fold_mean, fold_each = predict_proba(committee, X[test])
        except ModelError:
            return CrossValidated(None)
        proba[test] = fold_mean
        if each is not None:
            each[:, test] = fold_each
        if on_fold is not None:
            on_fold(done, folds)
    return CrossValidated(micro_f1(Y, predicted_sets(proba)), proba, each)


def cross_val_accuracy(estimators, X, y: np.ndarray, *, n_classes: int, random_state: int = 0) -> float | None:
    """Stratified k-fold accuracy of the committee on the hand labels; see :func:`cross_validate`."""
    return cross_validate(estimators, X, y, n_classes=n_classes, random_state=random_state).accuracy
