"""Turn a label matrix into one weak label per row, with a confidence, and pick rows to promote.

Three aggregations:

``"majority"``
    Each vote counts one. Confidence is the winning label's vote share under a uniform
    (Laplace) prior, ``(votes for it + 1) / (votes + K)``, so one lone vote is not certainty.
    A tie for the most votes abstains (code -1): a coin flip is not a label.
``"weighted"`` (the default)
    Each heuristic's accuracy is estimated on the hand-labeled rows it voted on, shrunk toward a
    prior (Beta with mean ``prior_accuracy`` and weight ``prior_strength`` votes), so two lucky
    checked votes do not make it trusted; its vote then weighs ``log(a (K - 1) / (1 - a))``, the
    log-odds of a vote that is right with probability a against one of the K - 1 wrong labels
    (0 for a heuristic no better than chance). The row's label is the naive Bayes posterior under
    a uniform class prior (hand labels picked by active learning are no random sample, so their
    class frequencies would be a biased prior), so the winner is always a label some heuristic
    voted; confidence is the winner's posterior. With no hand labels every heuristic gets the
    prior accuracy: majority vote, with confidences from that accuracy.
``"dawid_skene"``
    An unsupervised label model fitted by EM (Dawid & Skene, 1979): each heuristic has a
    confusion matrix P(its output | true label) over K labels and abstention, the true labels are
    latent, and heuristics are independent given the true label. Hand labels, when given, are
    clamped as observed true labels while fitting. Confidence is the posterior of the winner.
    It needs no hand labels, but it trusts heuristics that agree with each other, so correlated
    heuristics can mislead it.

Rows that no heuristic covers stay unlabeled (-1, confidence NaN) whatever the method.

Why ``"weighted"`` is the default: it uses the hand labels the user makes anyway, so a heuristic
that is often wrong loses its say even when others agree with it (majority vote and label models
trust agreement); its confidences are calibrated enough that ``promote`` picks rows that are
right (98-100% of the rows promoted at 0.9 on the benchmark's breast cancer and digits); and it
is one pass over the matrix, with nothing to converge. In ``benchmarks/weak_supervision.py`` it
labels as many rows as the label models, as accurately or better in 5 of 6 settings (1 point
behind Dawid-Skene in the sixth), while on digits, where eight one-label rules cover ten digits,
the unsupervised label models fall to 61-71% (ours) and 74-81% (Snorkel's LabelModel) against
77-86%. Majority vote is the most accurate on the rows it labels but labels fewer (ties
abstain) and, with its Laplace confidence, promotes none at 0.9.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.special import logsumexp

from ._analysis import check_hand_codes, check_matrix, check_n_classes, vote_counts

__all__ = ["WeakLabels", "aggregate", "promote", "METHODS"]

METHODS = ("weighted", "majority", "dawid_skene")
_TIE = 1e-9


@dataclass(frozen=True, eq=False)
class WeakLabels:
    """What :func:`aggregate` returns.

    Attributes
    ----------
    codes : ndarray of shape (n,), int64
        The weak label's code, -1 where no heuristic voted or the evidence is tied.
    confidence : ndarray of shape (n,), float64
        In [0, 1]: the estimated probability that the weak label is right; NaN where code is -1.
    votes : ndarray of shape (n,), int64
        How many heuristics voted on the row (0 = uncovered; > 0 with code -1 = tied).
    proba : ndarray of shape (n, K), float64
        Probability of each label given the votes; rows of NaN where no heuristic voted.
    accuracies : ndarray of shape (h,), float64
        Each heuristic's accuracy as the method estimated it (NaN for majority).
    method : str
    """

    codes: np.ndarray
    confidence: np.ndarray
    votes: np.ndarray
    proba: np.ndarray
    accuracies: np.ndarray
    method: str


def _decide(proba: np.ndarray, covered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and confidences from per-row probabilities; ties and uncovered rows get -1 / NaN."""
    n_rows, n_classes = proba.shape
    codes = np.full(n_rows, -1, dtype=np.int64)
    confidence = np.full(n_rows, np.nan)
    if n_rows == 0:
        return codes, confidence
    top = proba.argmax(axis=1)
    best = proba[np.arange(n_rows), top]
    if n_classes > 1:
        second = np.partition(proba, n_classes - 2, axis=1)[:, n_classes - 2]
        decided = covered & (best - second > _TIE)
    else:
        decided = covered
    codes[decided] = top[decided]
    confidence[decided] = np.clip(best[decided], 0.0, 1.0)
    return codes, confidence


def _softmax(scores: np.ndarray) -> np.ndarray:
    return np.exp(scores - logsumexp(scores, axis=1, keepdims=True))


def _majority(matrix, n_classes):
    counts = vote_counts(matrix, n_classes).astype(np.float64)
    proba = (counts + 1.0) / (counts.sum(axis=1, keepdims=True) + n_classes)
    return proba, np.full(matrix.shape[1], np.nan)


def _estimated_accuracies(matrix, hand, prior_accuracy, prior_strength):
    checked = (matrix >= 0) & (hand >= 0)[:, None]
    correct = checked & (matrix == hand[:, None])
    return (correct.sum(axis=0) + prior_strength * prior_accuracy) / (checked.sum(axis=0) + prior_strength)


def _weighted(matrix, n_classes, hand, prior_accuracy, prior_strength):
    n_rows = matrix.shape[0]
    if hand is None:
        accuracies = np.full(matrix.shape[1], prior_accuracy)
    else:
        accuracies = _estimated_accuracies(matrix, hand, prior_accuracy, prior_strength)
    chance = 1.0 / n_classes
    clipped = np.clip(accuracies, chance, 1.0 - 1e-9)
    weights = np.log(clipped * (n_classes - 1) / (1.0 - clipped)) if n_classes > 1 else np.zeros_like(clipped)
    scores = np.zeros((n_rows, n_classes))  # uniform class prior
    rows = np.arange(n_rows)
    for column, weight in zip(matrix.T, weights):
        voted = column >= 0
        scores[rows[voted], column[voted]] += weight
    return _softmax(scores), accuracies


def _distinct_rows(matrix: np.ndarray, n_outcomes: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of the label matrix (m, h) and each row's position among them (n,)."""
    n_heuristics = matrix.shape[1]
    if n_heuristics * np.log2(n_outcomes) < 62:
        # one integer per row: sorting n integers is far faster than sorting n rows
        keys = (matrix + 1) @ (n_outcomes ** np.arange(n_heuristics, dtype=np.int64))
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        return matrix[first], inverse.reshape(-1)
    patterns, inverse = np.unique(matrix, axis=0, return_inverse=True)
    return patterns, inverse.reshape(-1)


def _dawid_skene(matrix, n_classes, hand, max_iter, tol):
    """EM over the distinct rows of the label matrix (weighted by how often each occurs)."""
    n_rows, n_heuristics = matrix.shape
    n_outcomes = n_classes + 1  # outcome 0 = abstain, k + 1 = vote for label k
    patterns, inverse = _distinct_rows(matrix, n_outcomes)
    n_patterns = len(patterns)
    is_hand = np.zeros(n_rows, dtype=bool) if hand is None else hand >= 0
    weight = np.bincount(inverse[~is_hand], minlength=n_patterns).astype(np.float64)
    observed = np.zeros((n_patterns, n_classes))
    if is_hand.any():
        np.add.at(observed, (inverse[is_hand], hand[is_hand]), 1.0)

    columns = (np.arange(n_heuristics) * n_outcomes)[None, :] + (patterns + 1)
    one_hot = sparse.csr_matrix(
        (np.ones(columns.size), columns.reshape(-1), np.arange(0, columns.size + 1, n_heuristics)),
        shape=(n_patterns, n_heuristics * n_outcomes),
    )
    # start from plain vote shares (uniform where nothing voted), the usual Dawid-Skene start
    counts = vote_counts(patterns, n_classes).astype(np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    posterior = np.where(totals > 0, counts / np.maximum(totals, 1.0), 1.0 / n_classes)

    # Laplace smoothing, but only of outcomes a heuristic produces: one that only ever votes
    # "bug" keeps probability 0 of voting anything else
    produced = np.zeros((n_heuristics, n_outcomes), dtype=bool)
    produced[:, 0] = True
    produced[np.nonzero(patterns >= 0)[1], patterns[patterns >= 0] + 1] = True
    smoothing = produced[:, :, None].astype(np.float64)

    log_theta = None
    for _ in range(max_iter):
        expected = weight[:, None] * posterior + observed  # (m, K) expected true-label counts
        counts = np.asarray(one_hot.T @ expected).reshape(n_heuristics, n_outcomes, n_classes) + smoothing
        with np.errstate(divide="ignore"):  # log 0 for outcomes never produced: never looked up
            new_log_theta = np.log(counts / counts.sum(axis=1, keepdims=True))
        log_prior = np.log((expected.sum(axis=0) + 1.0) / (expected.sum() + n_classes))
        scores = np.asarray(one_hot @ new_log_theta.reshape(n_heuristics * n_outcomes, n_classes)) + log_prior
        posterior = _softmax(scores)
        converged = log_theta is not None and np.max(np.abs(np.exp(new_log_theta) - np.exp(log_theta))) < tol
        log_theta = new_log_theta
        if converged:
            break

    theta = np.exp(log_theta)  # (h, K + 1, K): P(outcome | true label)
    truth = (weight[:, None] * posterior + observed).sum(axis=0)
    truth = truth / max(truth.sum(), 1e-12)
    voted = 1.0 - theta[:, 0, :]  # P(vote | true label)
    right = theta[:, 1:, :].diagonal(axis1=1, axis2=2)  # P(vote for the true label | true label)
    accuracies = (right * truth).sum(axis=1) / np.maximum((voted * truth).sum(axis=1), 1e-12)
    return posterior[inverse], accuracies


def aggregate(
    matrix,
    *,
    n_classes: int,
    hand_codes=None,
    method: str = "weighted",
    prior_accuracy: float = 0.7,
    prior_strength: float = 4.0,
    max_iter: int = 200,
    tol: float = 1e-6,
) -> WeakLabels:
    """Combine the heuristics' votes into one weak label per row.

    See the module docstring for what each method does and how ties are handled.

    Parameters
    ----------
    matrix : array-like of shape (n, h)
        Label codes in 0..n_classes-1, -1 = abstain (``HeuristicResult.matrix``, with weak
        classifiers' :func:`model_votes` as extra columns).
    n_classes : int
        Number of labels K.
    hand_codes : array-like of shape (n,), optional
        Hand label codes, -1 where a row has none. ``"weighted"`` estimates accuracies from
        them; ``"dawid_skene"`` treats them as observed. Weak labels are still computed for
        hand-labeled rows (from the votes alone); :func:`promote` never selects them.
    method : {"weighted", "majority", "dawid_skene"}, default "weighted"
    prior_accuracy : float, default 0.7
        ``"weighted"``: accuracy assumed for a heuristic before any of its votes is checked.
    prior_strength : float, default 4.0
        ``"weighted"``: how many checked votes the prior is worth.
    max_iter : int, default 200
        ``"dawid_skene"``: EM iterations at most.
    tol : float, default 1e-6
        ``"dawid_skene"``: stop when no probability of the model moves more than this.

    Returns
    -------
    WeakLabels
        ``codes`` (n,), ``confidence`` (n,), ``votes`` (n,), ``proba`` (n, K), ``accuracies``
        (h,), ``method``.

    Notes
    -----
    A weak classifier's column (:func:`model_votes`) must hold, on the hand-labeled rows, votes
    from models that did not train on those rows (out of fold, e.g. ``cross_val_predict``):
    otherwise ``"weighted"`` measures its accuracy on its own training data and trusts it too
    much.

    Examples
    --------
    >>> weak = aggregate([[0, 0, 1], [1, -1, -1], [-1, -1, -1]], n_classes=2, method="majority")
    >>> weak.codes.tolist(), weak.confidence.round(2).tolist()[:2], weak.votes.tolist()
    ([0, 1, -1], [0.6, 0.67], [3, 1, 0])
    """
    n_classes = check_n_classes(n_classes)
    matrix = check_matrix(matrix, n_classes=n_classes)
    n_rows = matrix.shape[0]
    hand = None if hand_codes is None else check_hand_codes(hand_codes, n_rows, n_classes)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(repr(m) for m in METHODS)}, got {method!r}")
    if not 0.0 < prior_accuracy < 1.0:
        raise ValueError(f"prior_accuracy must be in (0, 1), got {prior_accuracy!r}")
    if prior_strength < 0:
        raise ValueError(f"prior_strength must be >= 0, got {prior_strength!r}")
    if max_iter < 1 or tol <= 0:
        raise ValueError(f"max_iter must be >= 1 and tol > 0, got {max_iter!r} and {tol!r}")

    votes = (matrix >= 0).sum(axis=1).astype(np.int64)
    covered = votes > 0
    if n_rows == 0 or matrix.shape[1] == 0:
        proba, accuracies = np.full((n_rows, n_classes), np.nan), np.full(matrix.shape[1], np.nan)
    elif method == "majority":
        proba, accuracies = _majority(matrix, n_classes)
    elif method == "weighted":
        proba, accuracies = _weighted(matrix, n_classes, hand, prior_accuracy, prior_strength)
    else:
        proba, accuracies = _dawid_skene(matrix, n_classes, hand, max_iter, tol)
    proba = np.where(covered[:, None], proba, np.nan)
    codes, confidence = _decide(np.nan_to_num(proba, nan=0.0), covered)
    return WeakLabels(codes, confidence, votes, proba, np.asarray(accuracies, dtype=np.float64), method)


def promote(weak: WeakLabels, *, hand_codes, min_confidence: float) -> np.ndarray:
    """Rows whose weak label may be used as a label: covered, confident, and not hand-labeled.

    Hand labels are never overwritten: a row with a hand label is never selected, whatever the
    heuristics say about it.

    Parameters
    ----------
    weak : WeakLabels
        From :func:`aggregate`.
    hand_codes : array-like of shape (n,)
        Hand label codes, -1 where a row has none.
    min_confidence : float
        In [0, 1]; rows need ``weak.confidence >= min_confidence``.

    Returns
    -------
    ndarray of shape (n,), bool

    Examples
    --------
    >>> weak = aggregate([[0, 0], [1, 1], [1, -1]], n_classes=2, method="majority")
    >>> promote(weak, hand_codes=[-1, 1, -1], min_confidence=0.7).tolist()
    [True, False, False]
    """
    if not isinstance(weak, WeakLabels):
        raise TypeError(f"promote needs the WeakLabels that aggregate returns, got {type(weak).__name__}")
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence!r}")
    hand = check_hand_codes(hand_codes, len(weak.codes), weak.proba.shape[1])
    with np.errstate(invalid="ignore"):
        confident = np.nan_to_num(weak.confidence, nan=-1.0) >= min_confidence
    return (weak.codes >= 0) & confident & (hand < 0)
