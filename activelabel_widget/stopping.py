"""A hint that more labels are unlikely to help, from the fits themselves.

Stabilising predictions (Bloodgood and Vijay-Shanker, "A Method for Stopping Active Learning
Based on Stabilizing Predictions and the Need for User-Adjustable Stopping", CoNLL 2009): the
caller picks a fixed "stop set" of unlabeled rows once (e.g. 1,000 seeded rows) and every fit
predicts a label for each of them. When successive fits keep predicting the same labels there,
the model has stopped changing. The hint fires when all three hold:

1. Agreement. Cohen's kappa between each fit's stop-set predictions and the previous fit's is at
   least ``kappa_threshold`` for each of the last ``windows`` pairs of fits.
2. Plateau. Of the cross-validated accuracies (None entries left out), the best of the last
   ``plateau_fits`` is at most ``plateau_tolerance`` (default 0.01, one point) above the best of
   all those before them; at least ``plateau_fits + 1`` accuracies are needed.
3. Enough labels. Every label has at least ``min_per_class`` hand labels; below that the hint
   says which labels are short and never fires, as agreement among fits that have barely seen a
   label says little about it.

Examples
--------
>>> same = np.array([0, 1, 1, 0, 2])
>>> hint = stop_hint([same] * 4, [0.84, 0.845, 0.842, 0.844], np.array([9, 8, 7]))
>>> hint.ready, hint.kappas
(True, [1.0, 1.0, 1.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["StopHint", "stop_hint", "cohen_kappa"]


@dataclass
class StopHint:
    """Whether to suggest stopping, and why in one sentence.

    Attributes
    ----------
    ready : bool
        True when predictions have stabilised, accuracy has levelled off and every label has
        enough hand labels.
    message : str
        One plain sentence for the card, with the numbers it rests on.
    kappas : list of float
        Cohen's kappa between each fit's stop-set predictions and the previous fit's.
    fired_at_fit : int or None
        When ready: the earliest fit (position in the lists given) from which the agreement and
        plateau conditions have held at every fit up to the last. None otherwise.
    """

    ready: bool
    message: str
    kappas: list[float] = field(default_factory=list)
    fired_at_fit: int | None = None


#: Hand labels every label needs before the hint can fire.
MIN_PER_CLASS = 5


def cohen_kappa(a, b, n_classes: int) -> float:
    """Cohen's kappa between two label vectors over the same rows.

    Parameters
    ----------
    a, b : array-like of shape (n,), int
        Label codes in ``[0, n_classes)``.
    n_classes : int

    Returns
    -------
    float
        ``(p_o - p_e) / (1 - p_e)`` with ``p_o`` the share of rows where they agree and ``p_e``
        the agreement expected by chance from each vector's label shares. When both vectors
        predict one and the same label everywhere ``p_e = 1`` and the formula is 0/0; they then
        agree on every row, so the kappa is 1.

    Raises
    ------
    ValueError
        Vectors of different shapes, empty, or with codes outside ``[0, n_classes)``.

    Examples
    --------
    >>> cohen_kappa([0, 1, 1, 0], [0, 1, 0, 0], 2)
    0.5
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise ValueError(f"cohen_kappa needs two non-empty 1-d label vectors of the same length, got shapes {a.shape} "
                         f"and {b.shape}; pass each fit's predicted label codes on the same stop-set rows.")
    for name, values in (("a", a), ("b", b)):
        if values.dtype.kind not in "iu" or values.min() < 0 or values.max() >= n_classes:
            raise ValueError(f"{name} must hold integer label codes in 0..{n_classes - 1}, got dtype {values.dtype} "
                             f"with values from {values.min()} to {values.max()}.")
    n = a.size
    confusion = np.bincount(a.astype(np.int64) * n_classes + b, minlength=n_classes * n_classes)
    confusion = confusion.reshape(n_classes, n_classes)
    observed = np.trace(confusion) / n
    expected = float(confusion.sum(axis=1) @ confusion.sum(axis=0)) / (n * n)
    if expected >= 1.0:
        return 1.0  # one label everywhere in both: identical (a different label each would give p_e = 0)
    return float((observed - expected) / (1.0 - expected))


def _plateau(accuracies: Sequence[float | None], fits: int, tolerance: float) -> tuple[bool | None, float, float]:
    """``(levelled off, best of the last fits, best before them)``; None when there are too few accuracies."""
    known = [float(value) for value in accuracies if value is not None]
    if len(known) < fits + 1:
        return None, np.nan, np.nan
    recent, before = max(known[-fits:]), max(known[:-fits])
    return recent <= before + tolerance, recent, before


def _holds(kappas: list[float], accuracies, upto: int, *, threshold: float, windows: int, plateau_fits: int,
           tolerance: float) -> bool:
    """Agreement and plateau at fit ``upto`` (using the fits up to it only)."""
    window = kappas[max(0, upto - windows):upto]  # kappas[i] compares fit i and fit i + 1
    if len(window) < windows or min(window) < threshold:
        return False
    return bool(_plateau(accuracies[: upto + 1], plateau_fits, tolerance)[0])


def _name_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def stop_hint(stop_set_predictions: list[np.ndarray], accuracies: list[float | None], label_counts: np.ndarray, *,
              kappa_threshold: float = 0.99, windows: int = 3, min_per_class: int = MIN_PER_CLASS, plateau_fits: int = 3,
              plateau_tolerance: float = 0.01, label_names: Sequence[str] | None = None) -> StopHint:
    """Whether more labels are unlikely to help; the rule is in the module docstring.

    Parameters
    ----------
    stop_set_predictions : list of ndarray of shape (s,), int
        One entry per fit, oldest first: the label codes the fit predicted on the stop set (the
        same ``s`` rows, in the same order, for every fit).
    accuracies : list of float or None
        One entry per fit, aligned with ``stop_set_predictions``: its cross-validated accuracy
        (a fraction), or None when there was no estimate.
    label_counts : ndarray of shape (K,), int
        Hand labels per label code now.
    kappa_threshold : float, default 0.99
        Agreement needed between successive fits.
    windows : int, default 3
        How many successive pairs of fits must agree (so ``windows + 1`` fits are needed).
    min_per_class : int, default 5
        Hand labels each label needs before the hint can fire.
    plateau_fits : int, default 3
        How many of the latest accuracies are compared with the best before them.
    plateau_tolerance : float, default 0.01
        How far (as a fraction: 0.01 is one point) the latest best may rise and still count as level.
    label_names : sequence of str, optional
        Name of each label code, for the message (default: "label 0", "label 1", ...).

    Returns
    -------
    StopHint

    Raises
    ------
    ValueError
        Lists of different lengths, stop-set predictions of different lengths, names that do
        not match the label counts, or ``windows`` or ``plateau_fits`` below 1.
    """
    if int(windows) < 1 or int(plateau_fits) < 1:
        raise ValueError(f"windows and plateau_fits must be at least 1, got {windows} and {plateau_fits}.")
    counts = np.asarray(label_counts)
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError(f"label_counts must have shape (n_labels,), got {counts.shape}; pass the number of hand "
                         "labels per label code, e.g. np.bincount(codes, minlength=n_labels).")
    k = counts.size
    names = [f"label {code}" for code in range(k)] if label_names is None else [str(name) for name in label_names]
    if len(names) != k:
        raise ValueError(f"label_names has {len(names)} names for {k} label counts; pass one name per label code.")
    if len(stop_set_predictions) != len(accuracies):
        raise ValueError(f"stop_set_predictions has {len(stop_set_predictions)} fits but accuracies has "
                         f"{len(accuracies)}; pass one entry per fit in both (None where a fit had no accuracy).")
    predictions = [np.asarray(each) for each in stop_set_predictions]
    if len({each.shape for each in predictions}) > 1:
        raise ValueError("every fit's stop-set predictions must cover the same rows, got shapes "
                         f"{sorted({each.shape for each in predictions})}; pick the stop set once and predict it "
                         "at every fit.")
    kappas = [cohen_kappa(before, after, k) for before, after in zip(predictions, predictions[1:])]

    short = np.flatnonzero(counts < min_per_class)
    if short.size:
        fewest = int(short[np.argmin(counts[short])])
        message = (f"too few labels of {_name_list([names[code] for code in short])} to judge when to stop: each label "
                   f"needs {min_per_class} (fewest: {int(counts[fewest])} of {names[fewest]})")
        return StopHint(False, message, kappas)
    if len(kappas) < windows:
        return StopHint(False, f"too few fits to judge when to stop: it takes {windows + 1} fits to compare, "
                               f"and there {'has' if len(predictions) == 1 else 'have'} been {len(predictions)}",
                        kappas)

    window = kappas[-windows:]
    lowest = min(window)
    if lowest < kappa_threshold:
        return StopHint(False, f"predictions are still changing: agreement between successive fits fell to "
                               f"{lowest:.3f} over the last {windows} fits ({kappa_threshold:g} needed)", kappas)
    stable = f"predictions have stopped changing (agreement at least {lowest:.3f} over the last {windows} fits)"
    levelled, recent, before = _plateau(accuracies, plateau_fits, plateau_tolerance)
    if levelled is None:
        return StopHint(False, f"{stable}, but there are too few accuracy estimates to tell whether accuracy has "
                               f"levelled off ({plateau_fits + 1} needed)", kappas)
    if not levelled:
        return StopHint(False, f"{stable}, but accuracy is still rising (best {recent:.1%} over the last "
                               f"{plateau_fits} fits against {before:.1%} before): keep labeling", kappas)

    last = len(predictions) - 1
    first = last
    options = dict(threshold=kappa_threshold, windows=windows, plateau_fits=plateau_fits, tolerance=plateau_tolerance)
    while first > 0 and _holds(kappas, accuracies, first - 1, **options):
        first -= 1
    return StopHint(True, f"{stable} and accuracy has levelled off (best {recent:.1%} over the last {plateau_fits} "
                          f"fits against {before:.1%} before): more labels are unlikely to help much", kappas, first)
