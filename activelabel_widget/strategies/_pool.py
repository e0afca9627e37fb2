"""Score the pool by name, rank it, and say why each record comes next."""

import numpy as np

from activelabel_widget.strategies._diversity import (
    cell_coverage, check_index, diversity_scores)
from activelabel_widget.strategies._hybrid import hybrid_scores, hybrid_weight
from activelabel_widget.strategies._topk import top_k
from activelabel_widget.strategies._uncertainty import (
    as_proba, committee_disagreement, confidence, least_confident_uncertainty,
    margin_uncertainty)

__all__ = ["STRATEGIES", "needs_model", "score_pool", "rank_pool"]

STRATEGIES = ("hybrid", "confidence", "margin", "least_confident", "diversity", "committee",
              "random")
_MODEL_FREE = frozenset({"diversity", "random"})


def needs_model(name):
    """Whether strategy ``name`` uses a model's probabilities (without them it explores).

    Examples
    --------
    >>> needs_model("margin"), needs_model("diversity")
    (True, False)
    """
    _check_name(name)
    return name not in _MODEL_FREE


def _check_name(name):
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}.")


def _check_mask(labeled_mask):
    mask = np.asarray(labeled_mask)
    if mask.ndim != 1:
        raise ValueError(f"labeled_mask must be 1-d with one entry per pool row, got shape "
                         f"{mask.shape}.")
    if mask.dtype != np.bool_:
        raise TypeError(f"labeled_mask must be a boolean array (True = labeled), got dtype "
                        f"{mask.dtype}; build it with e.g. np.isin(np.arange(n), positions).")
    return mask.copy()


def _check_rows(array, n, what):
    if array.shape[-2] != n:
        raise ValueError(f"{what} has {array.shape[-2]} rows but labeled_mask has {n}; "
                         "score the whole pool, in the same row order.")


class _Scored:
    """Scores plus what is needed to explain them (internal)."""

    def __init__(self, scores, mode, **detail):
        self.scores = scores
        self.mode = mode
        self.detail = detail


def _explore(name, mask, index, random_state, why):
    if index is not None:
        return _Scored(diversity_scores(index, mask), "explore", why=why, index=index,
                       mask=mask)
    rng = np.random.default_rng(random_state)
    return _Scored(rng.random(mask.shape[0]), "random", why=why)


def _score(name, *, labeled_mask, proba, committee_proba, index, random_state):
    _check_name(name)
    mask = _check_mask(labeled_mask)
    n = mask.shape[0]
    if index is not None:
        check_index(index, n)
    if name == "random":
        return _Scored(np.random.default_rng(random_state).random(n), "random", why="")
    if name == "diversity":
        return _explore(name, mask, index, random_state,
                        why="" if index is not None else "no embeddings yet")

    p = None
    if proba is not None:
        p = as_proba(proba)
        _check_rows(p, n, "proba")
    if name == "committee" and committee_proba is not None:
        c = np.asarray(committee_proba, dtype=np.float64)
        if c.ndim != 3:
            raise ValueError("committee_proba must have shape (n_models, n_rows, n_classes), "
                             f"got {c.shape}.")
        _check_rows(c, n, "committee_proba")
        if c.shape[0] >= 2 and c.shape[2] >= 2:
            return _Scored(committee_disagreement(c), "committee")
        if p is None:
            p = as_proba(c.mean(axis=0))
    if p is None:
        return _explore(name, mask, index, random_state, why="no model yet")
    if p.shape[1] == 1:
        return _explore(name, mask, index, random_state, why="one class labeled so far")
    if name == "committee":  # one model only: its own uncertainty stands in
        return _Scored(1.0 - confidence(p), "confidence", proba=p, why="no committee yet")
    if name == "confidence":
        return _Scored(1.0 - confidence(p), "confidence", proba=p)
    if name == "margin":
        return _Scored(margin_uncertainty(p), "margin")
    if name == "least_confident":
        return _Scored(least_confident_uncertainty(p), "least_confident")
    return _Scored(hybrid_scores(p, mask, index), "hybrid", proba=p, index=index, mask=mask)


def score_pool(name, *, labeled_mask, proba=None, committee_proba=None, index=None,
               random_state=0):
    """Score every pool row for strategy ``name``; higher means "ask sooner".

    Parameters
    ----------
    name : str
        One of :data:`STRATEGIES`: ``"hybrid"`` (default in the session), ``"confidence"``,
        ``"margin"``, ``"least_confident"``, ``"diversity"``, ``"committee"``, ``"random"``.
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
    scored = _score(name, labeled_mask=labeled_mask, proba=proba,
                    committee_proba=committee_proba, index=index, random_state=random_state)
    scores = np.asarray(scored.scores, dtype=np.float64).copy()
    scores[np.asarray(labeled_mask)] = -np.inf
    return scores


def _reasons(name, scored, picks):
    mode, d = scored.mode, scored.detail
    why = d.get("why", "")
    lead = f"{why}: " if why else ""
    if mode == "random":
        return [f"{lead}random pick ({name})"] * len(picks)
    if mode == "explore":
        index, mask = d["index"], d["mask"]
        labels, _ = cell_coverage(index, mask)
        out = []
        for i in picks:
            c = index.cell[i]
            if labels[c] == 0:
                text = "exploring an unlabeled region"
            else:
                text = (f"exploring a region with {labels[c]} label"
                        f"{'s' if labels[c] != 1 else ''} for {index.cell_size[c]} rows")
            out.append(f"{lead}{text} ({name})")
        return out
    s = scored.scores
    if mode == "confidence":
        conf = confidence(d["proba"][picks])
        return [f"{lead}confidence {c:.2f} ({name})" for c in conf]
    if mode == "margin":
        return [f"margin {1.0 - s[i]:.2f} between the two likeliest labels ({name})"
                for i in picks]
    if mode == "least_confident":
        return [f"top probability {1.0 - s[i]:.2f} ({name})" for i in picks]
    if mode == "committee":
        return [f"committee disagreement {s[i]:.2f} ({name})" for i in picks]
    # hybrid
    conf = confidence(d["proba"][picks])
    index = d["index"]
    if index is None:
        return [f"confidence {c:.2f} ({name})" for c in conf]
    weight, exponent = hybrid_weight(index, d["mask"])
    labels, _ = cell_coverage(index, d["mask"])
    out = []
    for c, i in zip(conf, picks):
        cell = index.cell[i]
        if exponent >= 0.05 and labels[cell] == 0:
            out.append(f"confidence {c:.2f}, in an unlabeled region ({name})")
        else:
            out.append(f"confidence {c:.2f} ({name})")
    return out


def rank_pool(name, *, k, labeled_mask, proba=None, committee_proba=None, index=None,
              random_state=0):
    """The next ``k`` records to ask about, their scores, and why.

    Parameters
    ----------
    name, labeled_mask, proba, committee_proba, index, random_state
        As in :func:`score_pool`.
    k : int
        How many records; fewer come back when fewer are unlabeled.

    Returns
    -------
    positions : ndarray of shape (k',), int64
        Unique unlabeled positions, best first (ties by position).
    scores : ndarray of shape (k',), float64
        Their scores (higher = asked sooner).
    reasons : list of str, length k'
        Short texts for the card, e.g. ``"confidence 0.12 (hybrid)"`` or
        ``"no model yet: exploring an unlabeled region (margin)"``.
    """
    scored = _score(name, labeled_mask=labeled_mask, proba=proba,
                    committee_proba=committee_proba, index=index, random_state=random_state)
    scores = np.asarray(scored.scores, dtype=np.float64).copy()
    scores[np.asarray(labeled_mask)] = -np.inf
    picks = top_k(scores, k)
    return picks, scores[picks], _reasons(name, scored, picks)
