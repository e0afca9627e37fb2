"""Likely label errors among the hand labels, by confident learning on out-of-fold probabilities.

The rule is confident learning (Northcutt, Jiang and Chuang, "Confident Learning: Estimating
Uncertainty in Dataset Labels", JAIR 2021) with the pruning cleanlab applies by default
(``filter_by="prune_by_noise_rate"``), on the probabilities each labeled row got from the fold
that did not train on it. With ``m`` labeled rows, ``K`` classes, ``p`` a row's out-of-fold
probabilities and ``n_i`` the number of scored rows labeled ``i``:

0. Only scored rows take part. A row whose probabilities are not all finite (no fold scored it)
   is never flagged, has score NaN and suggestion -1, and counts in no threshold or total.
1. Thresholds. ``t_j`` is the mean of ``p_j`` over the rows labeled ``j``. A class with fewer than
   ``min_per_class`` scored rows has no threshold, so no row counts as confidently of it, and its
   own rows are never counted as confidently another class (so never flagged): too few rows to
   say what is usual for it. With fewer than two classes that have a threshold nothing is flagged
   and :attr:`LabelIssues.reason` says why.
2. Confident joint. A row labeled ``i`` is confidently of class ``j`` when ``p_j >= t_j - 1e-6``;
   when several classes qualify, the one with the largest ``p_j`` among them. ``C[i][j]`` counts
   these rows; rows confident of no class are not counted. Each diagonal entry is raised to at
   least 1.
3. Calibration. Row ``i`` of ``C`` is scaled to sum to ``n_i`` and rounded to integers keeping its
   sum (the entries with the largest remainders round up). If a diagonal entry rounds to 0 it is
   set back to 1 and the other non-zero entries of the row give up the difference evenly, rounded
   down, so a class is never flagged whole.
4. Prune by noise rate. For each off-diagonal ``(i, j)`` with ``C[i][j] > 0``, flag the
   ``C[i][j]`` rows labeled ``i`` with the largest margin ``p_j - p_i`` (the same row may be
   picked for several ``j``; it is flagged once).
5. A flagged row whose given label is still its most probable class (within 1e-6) is unflagged:
   the model agrees with the label, so there is nothing to review.

This differs from cleanlab 2.9 only at the edges: with several qualifying classes cleanlab takes
the largest ``p`` over all classes, qualifying or not (the paper, and this module, only over the
qualifying ones); cleanlab computes a threshold from a single row where this module wants
``min_per_class`` rows; and in step 3 cleanlab spreads the shortfall over one entry fewer than
there are.

The score of a row is ``1 - p[given label]`` (self-confidence turned around: how likely the label
is wrong, in [0, 1]); flagged rows are ranked by it, highest first, ties by position. The
suggested label is the most probable class.

Examples
--------
>>> labels = np.array([0, 0, 0, 1, 1, 1])
>>> proba = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.1, .9], [.3, .7]])
>>> issues = find_label_issues(labels, proba)
>>> issues.flagged.tolist(), issues.suggested[2].item(), round(issues.score[2].item(), 2)
([2], 1, 0.9)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["LabelIssues", "find_label_issues", "label_issue_frame", "RULE"]

#: The rule in one sentence, for a card or a report.
RULE = ("confident learning, pruned by noise rate (Northcutt et al. 2021): per given label, the rows that most "
        "confidently belong to another class, as many as the estimated share of that mix-up; ranked by 1 - p(label)")

# the tolerance cleanlab uses for "p >= threshold" and "the label is the most probable class"
_TOLERANCE = 1e-6


@dataclass(frozen=True, eq=False)
class LabelIssues:
    """Rows whose label looks wrong, from :func:`find_label_issues`.

    Attributes
    ----------
    flagged : ndarray of shape (f,), int64
        Positions into ``labels`` of the flagged rows, most likely wrong first.
    score : ndarray of shape (m,), float64
        ``1 - p[given label]`` per row, in [0, 1]; NaN where no fold scored the row.
    suggested : ndarray of shape (m,), int64
        The most probable class per row; -1 where no fold scored the row.
    labels : ndarray of shape (m,), int64
        A copy of the given labels (read-only), for :func:`label_issue_frame`.
    rule : str
        Which rule flagged the rows, in one sentence.
    reason : str or None
        Why nothing could be flagged (too few labels); None when the rule ran.
    joint : ndarray of shape (K, K), int64, or None
        The calibrated confident joint: ``joint[i, j]`` rows labeled ``i`` estimated to be ``j``.
        None when the rule did not run.

    The arrays are read-only.
    """

    flagged: np.ndarray
    score: np.ndarray
    suggested: np.ndarray
    labels: np.ndarray
    rule: str = RULE
    reason: str | None = None
    joint: np.ndarray | None = None

    def top(self, k: int) -> np.ndarray:
        """Positions of the ``k`` most likely label errors (fewer when fewer are flagged).

        Raises
        ------
        ValueError
            For a negative ``k``.
        """
        k = int(k)
        if k < 0:
            raise ValueError(f"top(k) needs k >= 0, got {k}; pass how many flagged rows to show.")
        return self.flagged[:k]


def _check_inputs(labels, oof_proba, min_per_class: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.array(labels, copy=True)  # a copy: the caller's labels are never touched
    p = np.array(oof_proba, dtype=np.float64, copy=True)
    if p.ndim != 2 or p.shape[1] == 0:
        raise ValueError(f"oof_proba must have shape (n_labeled, n_classes), got {p.shape}; pass the out-of-fold "
                         "probabilities of the labeled rows, e.g. models.cross_validate(...).proba.")
    if y.ndim != 1 or len(y) != len(p):
        raise ValueError(f"labels must have shape ({len(p)},), one code per row of oof_proba, got {y.shape}; pass the "
                         "label codes of the same labeled rows, in the same order.")
    if y.dtype.kind == "b" or (y.dtype.kind not in "iu" and len(y)):
        raise ValueError(f"labels must be integer label codes 0..{p.shape[1] - 1}, got dtype {y.dtype}; pass the "
                         "codes (positions in the label list), not the label names.")
    y = y.astype(np.int64)
    if len(y) and (y.min() < 0 or y.max() >= p.shape[1]):
        raise ValueError(f"labels must be codes in 0..{p.shape[1] - 1} (one per column of oof_proba), got values "
                         f"from {y.min()} to {y.max()}; leave unlabeled rows (code -1) out.")
    if int(min_per_class) < 2:
        raise ValueError(f"min_per_class must be at least 2, got {min_per_class}; a threshold from one row is "
                         "that row's own probability.")
    return y, p


def _round_keeping_sum(values: np.ndarray) -> np.ndarray:
    """Round to integers so that the (rounded) sum stays; the largest remainders round up."""
    ints = np.round(values)
    missing = int(np.round(values.sum()) - ints.sum())
    if missing:
        step = 1 if missing > 0 else -1
        # the entries rounded down the most go up first (or rounded up the most go down first); numpy's
        # default sort, as in cleanlab, so that exact ties break the same way on the same machine
        order = np.argsort(values - ints)[::-step]
        ints[order[: abs(missing)]] += step
    return ints.astype(np.int64)


def _thresholds(labels: np.ndarray, proba: np.ndarray, *, min_per_class: int = 2) -> np.ndarray:
    """Per-class threshold ``t_j``: the mean ``p_j`` over rows labeled ``j``; ``inf`` with too few rows.

    Parameters
    ----------
    labels : ndarray of shape (m,), int
        Label codes of scored rows only.
    proba : ndarray of shape (m, K)
        Their (finite) out-of-fold probabilities.
    min_per_class : int
        Fewer rows than this: no threshold (``inf``).
    """
    k = proba.shape[1]
    counts = np.bincount(labels, minlength=k)
    sums = np.zeros(k)
    np.add.at(sums, labels, proba[np.arange(len(labels)), labels])
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    # the lower bound keeps a class whose rows all say p = 0 from counting every row as confident
    return np.where(counts >= min_per_class, np.maximum(means, 2 * _TOLERANCE), np.inf)


def _confident_joint(labels: np.ndarray, proba: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Calibrated confident joint ``C`` (K, K) of given label (rows) and confident class (columns).

    Steps 2 and 3 of the module docstring; ``labels`` and ``proba`` are scored rows only.
    """
    k = proba.shape[1]
    qualifies = proba >= thresholds - _TOLERANCE
    # the paper's argmax over the qualifying classes only
    confident = np.where(qualifies, proba, -np.inf).argmax(axis=1)
    counted = qualifies.any(axis=1) & np.isfinite(thresholds[labels])
    joint = np.bincount(labels[counted] * k + confident[counted], minlength=k * k).reshape(k, k).astype(np.float64)
    np.fill_diagonal(joint, np.maximum(joint.diagonal(), 1))
    counts = np.bincount(labels, minlength=k)
    scaled = (joint.T / joint.sum(axis=1) * counts).T
    # a second scaling to the total, a no-op but for rounding: it keeps exact .5 ties breaking as in cleanlab
    scaled = scaled / scaled.sum() * counts.sum()
    calibrated = np.stack([_round_keeping_sum(row) for row in scaled])
    for i in np.flatnonzero(calibrated.diagonal() < 1):
        # keep at least one row of each class: move the shortfall evenly off the row's other non-zero entries
        others = np.flatnonzero(calibrated[i] > 0)
        others = others[others != i]
        row = calibrated[i].astype(np.float64)
        row[others] -= (1 - row[i]) / max(len(others), 1)
        row[i] = 1
        calibrated[i] = np.floor(np.maximum(row, 0)).astype(np.int64)
    return calibrated


def _prune_by_noise_rate(labels: np.ndarray, proba: np.ndarray, joint: np.ndarray, prunable: np.ndarray) -> np.ndarray:
    """Step 4 as a mask: per off-diagonal ``(i, j)``, the ``joint[i, j]`` rows labeled ``i`` with largest ``p_j - p_i``.

    ``prunable[i]`` is False for classes whose rows are never flagged.
    """
    mask = np.zeros(len(labels), dtype=bool)
    for i in np.flatnonzero(prunable):
        rows = np.flatnonzero(labels == i)
        for j in np.flatnonzero(joint[i] > 0):
            if j == i:
                continue
            margin = proba[rows, j] - proba[rows, i]
            mask[rows[np.argsort(-margin)[: joint[i, j]]]] = True  # default sort: ties as in cleanlab
    return mask


def find_label_issues(labels: np.ndarray, oof_proba: np.ndarray, *, min_per_class: int = 2) -> LabelIssues:
    """Rows whose hand label is likely wrong, ranked; see the module docstring for the rule.

    Parameters
    ----------
    labels : array-like of shape (m,), int
        Label codes in ``[0, K)`` of the labeled rows. Never modified.
    oof_proba : array-like of shape (m, K)
        Out-of-fold probabilities of the same rows (each from a fold that did not train on the
        row), e.g. ``models.cross_validate(...).proba``. Rows with NaN (no fold scored them) are
        never flagged. Never modified.
    min_per_class : int, default 2
        Scored rows a class needs for a threshold and for its rows to be flagged; at least 2.

    Returns
    -------
    LabelIssues
        ``flagged`` positions (most likely wrong first), per-row ``score`` and ``suggested``;
        with too few labels nothing is flagged and ``reason`` says why.

    Raises
    ------
    ValueError
        Shapes that do not match, label codes that are not integers in ``[0, K)``, or
        ``min_per_class < 2``; the message says what to pass.
    """
    y, p = _check_inputs(labels, oof_proba, min_per_class)
    m, k = p.shape
    scored = np.isfinite(p).all(axis=1)
    p_scored = np.clip(p[scored], 0.0, None)
    y_scored = y[scored]

    score = np.full(m, np.nan)
    score[scored] = np.clip(1.0 - p_scored[np.arange(len(y_scored)), y_scored], 0.0, 1.0)
    suggested = np.full(m, -1, dtype=np.int64)
    suggested[scored] = p_scored.argmax(axis=1)

    def result(flagged: np.ndarray, reason: str | None, joint: np.ndarray | None) -> LabelIssues:
        flagged = flagged.astype(np.int64)
        for array in (flagged, score, suggested, y) + ((joint,) if joint is not None else ()):
            array.setflags(write=False)
        return LabelIssues(flagged, score, suggested, y, RULE, reason, joint)

    counts = np.bincount(y_scored, minlength=k)
    enough = counts >= min_per_class
    if enough.sum() < 2:
        reason = (f"too few labels to look for label errors: it takes two labels with at least {min_per_class} "
                  f"scored rows each, and {int(enough.sum())} label{'' if enough.sum() == 1 else 's'} "
                  f"{'has' if enough.sum() == 1 else 'have'} that ({int(scored.sum())} of {m} rows scored out of fold)")
        return result(np.empty(0, dtype=np.int64), reason, None)

    thresholds = _thresholds(y_scored, p_scored, min_per_class=min_per_class)
    joint = _confident_joint(y_scored, p_scored, thresholds)
    flags = _prune_by_noise_rate(y_scored, p_scored, joint, enough)
    # step 5: the model agrees with the label (cleanlab's nudge of 1e-6 towards the given label)
    nudged = p_scored.copy()
    nudged[np.arange(len(y_scored)), y_scored] += _TOLERANCE
    flags &= nudged.argmax(axis=1) != y_scored

    positions = np.flatnonzero(scored)[flags]
    # highest score first; a stable sort keeps equal scores in position order
    ranked = positions[np.argsort(-score[positions], kind="stable")]
    return result(ranked, None, joint)


def label_issue_frame(keys, label_names: Sequence[str], issues: LabelIssues) -> pd.DataFrame:
    """The flagged rows as a DataFrame for a hand-off, most likely wrong first.

    Parameters
    ----------
    keys : pandas.Index or array-like of shape (m,)
        The row keys of the labeled rows, in the order of ``labels`` given to :func:`find_label_issues`.
    label_names : sequence of str
        The label list: name of code 0, 1, ...
    issues : LabelIssues

    Returns
    -------
    pandas.DataFrame
        Indexed by the flagged rows' keys (in rank order, keeping the index's name), with columns
        ``label`` (given), ``suggested`` and ``score`` (how likely the given label is wrong).

    Raises
    ------
    ValueError
        ``keys`` or ``label_names`` that do not fit the labels the issues were found on.
    """
    index = keys if isinstance(keys, pd.Index) else pd.Index(list(keys) if not isinstance(keys, np.ndarray) else keys)
    if len(index) != len(issues.labels):
        raise ValueError(f"keys has {len(index)} entries but the issues were found on {len(issues.labels)} labeled "
                         "rows; pass the keys of the same rows, in the same order.")
    names = list(label_names)
    needed = int(max(issues.labels.max(initial=-1), issues.suggested.max(initial=-1))) + 1
    if len(names) < needed:
        raise ValueError(f"label_names has {len(names)} names but the labels use codes up to {needed - 1}; pass the "
                         "whole label list, in code order.")
    flagged = issues.flagged
    return pd.DataFrame(
        {
            "label": pd.Series([names[code] for code in issues.labels[flagged]], dtype=object),
            "suggested": pd.Series([names[code] for code in issues.suggested[flagged]], dtype=object),
            "score": issues.score[flagged],
        }
    ).set_index(index.take(flagged))
