"""Score the pool by name, rank it, and say why each record comes next."""

import numpy as np

from activelabel_widget.strategies._registry import REGISTRY, run
from activelabel_widget.strategies._topk import top_k, top_k_spread

__all__ = ["score_pool", "rank_pool", "rank_with_boost"]


def score_pool(name, *, labeled_mask, proba=None, committee_proba=None, index=None,
               random_state=0, label_mix=None):
    """Score every pool row for strategy ``name``; higher means "ask sooner".

    Parameters
    ----------
    name : str
        One of :data:`STRATEGIES`: ``"hybrid"`` (default in the session), ``"confidence"``,
        ``"margin"``, ``"least_confident"``, ``"diversity"``, ``"committee"``, ``"random"``.
        Any other name raises :class:`~activelabel_widget.errors.OptionError`.
    labeled_mask : ndarray of shape (n,), bool
        True where a row already has a label.
    proba : array-like of shape (n, K), optional
        The current model's class probabilities for every pool row. Without it (no model
        yet), or with a single class, model-based strategies explore by diversity instead.
    committee_proba : array-like of shape (m, n, K), optional
        Probabilities of ``m`` committee members (``"committee"`` only).
    index : EmbeddingIndex, optional
        From :func:`build_embedding_index`; used by diversity, hybrid and the cold start.
        Without it those fall back to a seeded random order.
    random_state : int
        Seed for the random strategy and random fallbacks.
    label_mix : array-like of shape (K,), optional
        Labeled examples per class, when ``proba`` comes from a model fitted with balanced class
        weights: the strategies then rank by the probabilities at the labels' own class mix
        (:func:`at_label_mix`), those of a model without class weights, whose boundary is the one
        a plain classifier trained on these labels draws. The reasons still quote ``proba``.

    Returns
    -------
    scores : ndarray of shape (n,), float64
        Finite at unlabeled rows, ``-inf`` exactly at labeled rows. Inputs are not modified.

    Examples
    --------
    >>> mask = np.array([True, False, False])
    >>> score_pool("margin", labeled_mask=mask, proba=[[1, 0], [.5, .5], [.9, .1]])
    array([-inf,  1. ,  0.2])
    """
    scores, _ = run(name, labeled_mask=labeled_mask, proba=proba, committee_proba=committee_proba,
                    index=index, random_state=random_state, label_mix=label_mix)
    return scores


def _pick(name, scores, k, index, batch, bonus=None):
    """The top ``k`` of ``scores + bonus``; a model-based strategy with an index spreads each run of
    ``batch`` over the cells (the bonus is never lowered by spreading)."""
    if batch > 1 and index is not None and REGISTRY[name].needs_model:
        return top_k_spread(scores, k, index.cell, batch, bonus=bonus)
    return top_k(scores if bonus is None else scores + bonus, k)


def rank_pool(name, *, k, labeled_mask, proba=None, committee_proba=None, index=None,
              random_state=0, batch=1, label_mix=None):
    """The next ``k`` records to ask about, their scores, and why.

    Parameters
    ----------
    name, labeled_mask, proba, committee_proba, index, random_state, label_mix
        As in :func:`score_pool`.
    k : int
        How many records; fewer come back when fewer are unlabeled.
    batch : int
        Records asked about between two fits (the session's ``retrain_every``). With an
        ``index``, a model-based strategy spreads each run of ``batch`` picks over the
        embedding cells (:func:`top_k_spread`), so one model's picks are not near-duplicates.

    Returns
    -------
    positions : ndarray of shape (k',), int64
        Unique unlabeled positions, in the order to ask (best first; ties by position).
    scores : ndarray of shape (k',), float64
        Their scores (higher = asked sooner).
    reasons : list of str, length k'
        Short texts for the card, e.g. ``"confidence 0.12 (hybrid)"`` or
        ``"no model yet: exploring an unlabeled region (margin)"``.
    """
    scores, reasons = run(name, labeled_mask=labeled_mask, proba=proba, committee_proba=committee_proba,
                          index=index, random_state=random_state, label_mix=label_mix)
    picks = _pick(name, scores, k, index, batch)
    return picks, scores[picks], reasons(picks)


def _score_ranks(scores):
    """Each finite score's rank among the finite ones, scaled into [0, 1]; 0 elsewhere.

    Equal scores share their average rank, so ties never depend on a sort's internals.
    """
    finite = np.isfinite(scores)
    ranks = np.zeros(scores.shape[0], dtype=np.float64)
    n_finite = int(finite.sum())
    if n_finite:
        _, inverse, counts = np.unique(scores[finite], return_inverse=True, return_counts=True)
        first = np.cumsum(counts) - counts  # rank of the first of each run of equal scores
        ranks[finite] = (first + (counts - 1) / 2.0)[inverse.ravel()] / max(n_finite - 1, 1)
    return ranks, finite


def rank_with_boost(name, *, k, boost, labeled_mask, proba=None, committee_proba=None,
                    index=None, random_state=0, batch=1, why="heuristics disagree", label_mix=None):
    """The next ``k`` records by the strategy's rank plus a boost, e.g. heuristics' conflicts.

    Each unlabeled row scores its rank under strategy ``name`` scaled into [0, 1] (0 = the
    strategy's last choice, 1 = its first) plus ``boost``, so a row the boost flags comes
    before the strategy's own picks of similar rank, without scores on different scales
    having to agree.

    Parameters
    ----------
    name, labeled_mask, proba, committee_proba, index, random_state, label_mix
        As in :func:`score_pool`.
    k, batch : int
        As in :func:`rank_pool`.
    boost : array-like of shape (n,)
        Extra priority per pool row, in [0, 1] (e.g. how much labeling heuristics disagree
        on it); ``nan`` counts as 0.
    why : str
        What the boost stands for, in the reasons of the rows it lifts.

    Returns
    -------
    positions : ndarray of shape (k',), int64
        Unique unlabeled positions, best first (ties by position).
    scores : ndarray of shape (k',), float64
        Their combined scores ``rank + boost``.
    reasons : list of str, length k'
        ``"heuristics disagree (0.50) + hybrid"`` where the boost is positive, otherwise
        ``"hybrid rank 0.75"``.

    Examples
    --------
    >>> mask = np.array([True, False, False, False])
    >>> proba = [[1.0, 0.0], [0.6, 0.4], [0.9, 0.1], [0.5, 0.5]]
    >>> positions, scores, reasons = rank_with_boost(
    ...     "margin", k=3, boost=[0.0, 0.0, 0.8, 0.0], labeled_mask=mask, proba=proba)
    >>> positions.tolist(), scores.tolist()
    ([3, 2, 1], [1.0, 0.8, 0.5])
    >>> reasons
    ['margin rank 1.00', 'heuristics disagree (0.80) + margin', 'margin rank 0.50']
    """
    mask = np.asarray(labeled_mask)
    boost = np.asarray(boost, dtype=np.float64)
    if mask.ndim == 1 and boost.shape != mask.shape:
        raise ValueError(f"boost must have shape ({mask.shape[0]},), one value per pool row "
                         f"in the order of labeled_mask, got shape {boost.shape}.")
    scores = score_pool(name, labeled_mask=labeled_mask, proba=proba, committee_proba=committee_proba,
                        index=index, random_state=random_state, label_mix=label_mix)
    boost = np.nan_to_num(boost, nan=0.0)
    ranks, finite = _score_ranks(scores)
    combined = np.where(finite, ranks + boost, -np.inf)
    positions = _pick(name, np.where(finite, ranks, -np.inf), k, index, batch, bonus=boost)
    reasons = [f"{why} ({boost[p]:.2f}) + {name}" if boost[p] > 0
               else f"{name} rank {ranks[p]:.2f}" for p in positions]
    return positions, combined[positions], reasons
