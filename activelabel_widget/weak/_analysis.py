"""Read a label matrix: per-heuristic summary, per-row conflict, weak classifiers' votes.

A label matrix is an (n_rows, n_heuristics) integer array of label codes in
``0 .. n_classes - 1`` with -1 where a heuristic abstains.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["model_votes", "summarize", "conflict_scores", "DEFAULT_VOTE_THRESHOLD"]

DEFAULT_VOTE_THRESHOLD = 0.8
"""Smallest top probability at which a weak classifier votes (see :func:`model_votes`)."""


def check_matrix(matrix, *, n_classes: int | None = None, name: str = "matrix") -> np.ndarray:
    """Validate a label matrix and return it as an int64 array of shape (n, h) (a copy)."""
    array = np.asarray(matrix)
    if array.ndim != 2:
        raise DataError(f"{name} must be 2-d (rows x heuristics), got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        if not np.issubdtype(array.dtype, np.floating) or not np.all(np.mod(array, 1) == 0):
            raise DataError(f"{name} must hold integer label codes (-1 = abstain), got {array.dtype}")
    array = array.astype(np.int64)
    if array.size and array.min() < -1:
        raise DataError(f"{name} holds codes below -1; use -1 for an abstention")
    if n_classes is not None:
        check_n_classes(n_classes)
        if array.size and array.max() >= n_classes:
            raise DataError(
                f"{name} holds code {int(array.max())} but n_classes={n_classes}; codes must be 0..{n_classes - 1}"
            )
    return array


def check_n_classes(n_classes) -> int:
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer, got {n_classes!r}")
    return int(n_classes)


def check_hand_codes(hand_codes, n_rows: int, n_classes: int) -> np.ndarray:
    """Validate hand label codes (n,) with -1 where a row has no hand label (returns a copy)."""
    codes = np.asarray(hand_codes)
    if codes.shape != (n_rows,):
        raise DataError(
            f"hand_codes must have shape ({n_rows},), one code per row (-1 = no hand label), got {codes.shape}"
        )
    if codes.size and not np.issubdtype(codes.dtype, np.integer):
        raise DataError(f"hand_codes must be integer label codes with -1 where unlabeled, got {codes.dtype}")
    codes = codes.astype(np.int64)
    if codes.size and (codes.min() < -1 or codes.max() >= n_classes):
        raise DataError(f"hand_codes must be in -1..{n_classes - 1}, got {int(codes.min())}..{int(codes.max())}")
    return codes


def vote_counts(matrix: np.ndarray, n_classes: int) -> np.ndarray:
    """Votes per row and label, shape (n, n_classes) int32, from a validated matrix."""
    n_rows = matrix.shape[0]
    counts = np.zeros((n_rows, n_classes), dtype=np.int32)
    rows = np.arange(n_rows)
    for column in matrix.T:
        voted = column >= 0
        counts[rows[voted], column[voted]] += 1
    return counts


def model_votes(proba, *, threshold: float = DEFAULT_VOTE_THRESHOLD) -> np.ndarray:
    """Turn a weak classifier's probabilities into votes: its top label where it is confident.

    A model votes on a row when its top probability reaches ``threshold`` and abstains
    elsewhere. The default 0.8 is above 0.5, so at most one label can reach it whatever the
    number of labels, and it keeps a classifier trained on few labels to the rows it is sure of,
    where its precision is far above its overall accuracy. In the benchmark
    (``benchmarks/weak_supervision.py``), a logistic regression trained on 50 or 200 hand labels
    is right on 98-100% of the rows it votes on at 0.8 (breast cancer, digits), against 80-97%
    of all rows at 0.5, while still voting on 90-93% of the rows (breast cancer) or 11-52%
    (digits); above 0.9 its coverage falls fast for little gain in precision. A model that is
    rarely confident (short movie reviews) then seldom votes, which is the safe failure. Lower
    the threshold to cover more rows with less precise votes: :func:`aggregate` weighs each
    column by its accuracy measured on hand labels, so such votes are discounted.

    Parameters
    ----------
    proba : array-like of shape (n, K)
        Class probabilities; column k is label code k.
    threshold : float, default 0.8
        In (0, 1].

    Returns
    -------
    ndarray of shape (n,), int16
        The top label's code where its probability >= threshold, else -1. Rows with NaN
        probabilities abstain.

    Examples
    --------
    >>> model_votes([[0.9, 0.1], [0.6, 0.4], [0.05, 0.95]]).tolist()
    [0, -1, 1]
    """
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] < 1:
        raise DataError(f"proba must have shape (n, K), got {proba.shape}")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    if proba.shape[0] == 0:
        return np.zeros(0, dtype=np.int16)
    safe = np.where(np.isnan(proba), -np.inf, proba)
    top = safe.argmax(axis=1)
    confident = safe[np.arange(len(safe)), top] >= threshold
    return np.where(confident, top, -1).astype(np.int16)


def summarize(
    matrix,
    names: Sequence[str],
    *,
    hand_codes,
    n_classes: int,
    labels: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """One row per heuristic: what it votes, how much, with whom it agrees, how accurate it is.

    Coverage, overlaps and conflicts are shares of all rows, as in Snorkel's ``lf_summary``,
    so ``conflicts <= overlaps <= coverage``.

    Parameters
    ----------
    matrix : array-like of shape (n, h)
        Label codes, -1 = abstain.
    names : sequence of str, length h
        Heuristic names (the index of the result).
    hand_codes : array-like of shape (n,)
        Hand label codes, -1 where a row has no hand label.
    n_classes : int
        Number of labels.
    labels : sequence of hashable, optional
        Label names for the ``labels`` column; codes are shown without it.

    Returns
    -------
    DataFrame indexed by heuristic name, columns:
        ``labels``: list of the labels it voted (sorted by code);
        ``coverage``: share of rows it voted on;
        ``overlaps``: share of rows it voted on where another heuristic also voted;
        ``conflicts``: share of rows it voted on where another heuristic voted another label;
        ``n_checked``: its votes on hand-labeled rows;
        ``correct``: those that match the hand label;
        ``accuracy``: correct / n_checked, NaN when nothing was checked.

    Examples
    --------
    >>> L = [[0, 0], [0, 1], [-1, 1]]
    >>> table = summarize(L, ["a", "b"], hand_codes=[0, -1, 0], n_classes=2)
    >>> table["coverage"].round(3).tolist(), table["conflicts"].round(3).tolist(), table["accuracy"].tolist()
    ([0.667, 1.0], [0.333, 0.333], [1.0, 0.5])
    """
    n_classes = check_n_classes(n_classes)
    matrix = check_matrix(matrix, n_classes=n_classes)
    n_rows, n_heuristics = matrix.shape
    names = [str(name) for name in names]
    if len(names) != n_heuristics:
        raise DataError(f"names has {len(names)} entries for {n_heuristics} heuristic columns")
    hand = check_hand_codes(hand_codes, n_rows, n_classes)
    if labels is not None and len(labels) != n_classes:
        raise DataError(f"labels has {len(labels)} entries for n_classes={n_classes}")

    voted = matrix >= 0
    counts = vote_counts(matrix, n_classes)
    n_votes = counts.sum(axis=1)
    n_distinct = (counts > 0).sum(axis=1)
    checked = voted & (hand >= 0)[:, None]
    correct = checked & (matrix == hand[:, None])
    denominator = max(n_rows, 1)
    n_checked = checked.sum(axis=0)
    n_correct = correct.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(n_checked > 0, n_correct / np.maximum(n_checked, 1), np.nan)

    voted_labels = []
    for column in matrix.T:
        codes = np.unique(column[column >= 0]).tolist()
        voted_labels.append([labels[c] for c in codes] if labels is not None else codes)
    return pd.DataFrame(
        {
            "labels": voted_labels,
            "coverage": voted.sum(axis=0) / denominator,
            "overlaps": (voted & (n_votes > 1)[:, None]).sum(axis=0) / denominator,
            "conflicts": (voted & (n_distinct > 1)[:, None]).sum(axis=0) / denominator,
            "n_checked": n_checked.astype(np.int64),
            "correct": n_correct.astype(np.int64),
            "accuracy": accuracy.astype(np.float64),
        },
        index=pd.Index(names, name="heuristic"),
    )


def conflict_scores(matrix) -> np.ndarray:
    """How much the heuristics disagree on each row, in [0, 1]; higher = more disagreement.

    The share of pairs of votes on the row that name different labels: 0 when fewer than two
    heuristics vote or all agree, 1 when every vote names a different label (a 1-1 split),
    2/3 for a 2-1 split, 1/2 for 3-1. Useful to show first the rows the heuristics fight over.

    Parameters
    ----------
    matrix : array-like of shape (n, h)
        Label codes, -1 = abstain.

    Returns
    -------
    ndarray of shape (n,), float64

    Examples
    --------
    >>> conflict_scores([[0, 0, 1], [0, -1, -1], [0, 1, -1]]).round(3).tolist()
    [0.667, 0.0, 1.0]
    """
    matrix = check_matrix(matrix)
    if matrix.size == 0:
        return np.zeros(matrix.shape[0], dtype=np.float64)
    counts = vote_counts(matrix, int(matrix.max()) + 1 if matrix.max() >= 0 else 1).astype(np.float64)
    n_votes = counts.sum(axis=1)
    pairs = n_votes * (n_votes - 1)
    agreeing = (counts * (counts - 1)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(pairs > 0, 1.0 - agreeing / np.maximum(pairs, 1), 0.0)
    return np.clip(scores, 0.0, 1.0)
