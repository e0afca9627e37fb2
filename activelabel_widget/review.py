"""Orders for walking labeled records again (review mode): pure functions over numpy arrays.

Review walks hand-labeled records in an order the user picks; the session keeps where the walk
is and what was changed. Each order here takes the labeled rows' facts as arrays and returns the
rows to visit, in order, with the reason the card shows for each:

- ``"issues"``: likely label errors first (confident learning on out-of-fold probabilities, see
  :mod:`activelabel_widget.label_issues`), most likely wrong first.
- ``"disagreement"``: rows whose out-of-fold prediction differs from their label, the most
  confident disagreement first (ties: oldest label first). Rows no fold scored are left out.
- ``"label"``: grouped by label in label order, oldest first within a label.
- ``"annotator"``: grouped by annotator (alphabetical), oldest first within each.
- ``"time"``: newest label first.

Examples
--------
>>> codes = np.array([0, 1, 1])
>>> oof = np.array([[.9, .1], [.8, .2], [.3, .7]])
>>> order, reasons = review_order("disagreement", codes=codes, ids=np.array([5, 6, 7]), oof_proba=oof,
...                               annotators=["ana"] * 3, label_names=["bug", "feature"])
>>> order.tolist(), reasons[0]
([1], 'the model says bug (out-of-fold p=0.80); labeled feature')
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["REVIEW_ORDERS", "review_order", "describe_order", "check_order"]

#: Review orders, with how the card names each.
REVIEW_ORDERS = {
    "issues": "likely label errors",
    "disagreement": "disagreement with the model",
    "label": "by label",
    "annotator": "by annotator",
    "time": "newest first",
}


def check_order(by: str) -> str:
    """Return ``by`` if it is a review order, else raise :class:`~activelabel_widget.errors.LabelError`."""
    from .errors import LabelError

    if by not in REVIEW_ORDERS:
        raise LabelError(f"review(by={by!r}) is not a review order; use one of {list(REVIEW_ORDERS)}.")
    return by


def describe_order(by: str) -> str:
    """How the card names an order: ``"likely label errors"``."""
    return REVIEW_ORDERS[check_order(by)]


def _scored(oof_proba: np.ndarray | None, n: int) -> np.ndarray:
    if oof_proba is None:
        return np.zeros(n, dtype=bool)
    return np.isfinite(oof_proba).all(axis=1)


def review_order(by: str, *, codes: np.ndarray, ids: np.ndarray, oof_proba: np.ndarray | None,
                 annotators: Sequence[str | None], label_names: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """The labeled rows to review in order ``by``, and the reason for each.

    Parameters
    ----------
    by : str
        One of :data:`REVIEW_ORDERS`.
    codes : ndarray of shape (m,), int
        Each labeled row's label code.
    ids : ndarray of shape (m,), int
        Each row's label event id (larger is newer): the time order.
    oof_proba : ndarray of shape (m, K) or None
        Each row's out-of-fold probabilities from the latest fit (NaN where no fold scored it);
        None before the first cross-validated fit.
    annotators : sequence of str or None, length m
        Who labeled each row.
    label_names : sequence of str
        The label names, in code order.

    Returns
    -------
    order : ndarray of int64
        Indices into the ``m`` rows, in review order (rows the order does not cover are left out).
    reasons : list of str
        Why each row is in the review, aligned with ``order``.
    """
    by = check_order(by)
    codes = np.asarray(codes, dtype=np.int64)
    ids = np.asarray(ids, dtype=np.int64)
    m = len(codes)
    names = [str(name) for name in label_names]
    if by == "time":
        order = np.argsort(-ids, kind="stable")
        return order, ["newest first"] * m
    if by == "label":
        order = np.lexsort((ids, codes))
        counts = np.bincount(codes, minlength=len(names))
        seen = np.zeros(len(names), dtype=np.int64)
        reasons = []
        for row in order:
            seen[codes[row]] += 1
            reasons.append(f"label {names[codes[row]]}: {seen[codes[row]]} of {counts[codes[row]]}")
        return order, reasons
    if by == "annotator":
        who = np.array(["" if a is None else str(a) for a in annotators], dtype=object)
        groups = {name: rank for rank, name in enumerate(sorted(set(who.tolist())))}
        order = np.lexsort((ids, np.array([groups[name] for name in who], dtype=np.int64)))
        return order, [f"labeled by {who[row] or 'an unnamed annotator'}" for row in order]
    scored = _scored(oof_proba, m)
    if by == "disagreement":
        rows = np.flatnonzero(scored)
        predicted = oof_proba[rows].argmax(axis=1)
        differs = predicted != codes[rows]
        rows, predicted = rows[differs], predicted[differs]
        strength = oof_proba[rows, predicted]
        ranked = np.lexsort((ids[rows], -strength))
        order = rows[ranked]
        return order, [f"the model says {names[p]} (out-of-fold p={oof_proba[row, p]:.2f}); labeled {names[codes[row]]}"
                       for row, p in zip(order.tolist(), predicted[ranked].tolist())]
    # issues
    from .label_issues import find_label_issues

    if not scored.any():
        return np.zeros(0, dtype=np.int64), []
    issues = find_label_issues(codes, oof_proba)
    order = issues.flagged.astype(np.int64)
    return order, [f"likely label error (score {issues.score[row]:.2f}): the model says {names[issues.suggested[row]]}"
                   for row in order.tolist()]
