"""The one shared picker: the positions of the k highest scores."""

import numpy as np

__all__ = ["top_k", "top_k_spread"]


def top_k(scores, k):
    """Positions of the ``k`` highest finite scores, best first.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Higher means "ask sooner". Non-finite entries (``-inf`` at labeled rows, ``nan``,
        ``+inf``) are never picked.
    k : int
        How many positions to return. Fewer come back when fewer scores are finite;
        ``k <= 0`` gives an empty result.

    Returns
    -------
    positions : ndarray of shape (min(k, n_finite),), dtype int64
        Sorted by score descending; equal scores are ordered by position ascending, so the
        result never depends on how the partition happened to fall.

    Notes
    -----
    ``O(n + k log k)``: one ``argpartition`` to find the k-th best value, then a sort of the
    ``k`` winners only.

    Examples
    --------
    >>> top_k(np.array([0.1, 0.9, -np.inf, 0.9, 0.5]), 3)
    array([1, 3, 4])
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError(f"top_k needs a 1-d array of scores, got shape {scores.shape}; "
                         "pass one score per pool row.")
    k = int(k)
    finite = np.flatnonzero(np.isfinite(scores))
    if k <= 0 or finite.size == 0:
        return np.empty(0, dtype=np.int64)
    values = scores[finite]
    if k < finite.size:
        # k-th largest value; everything strictly above it wins, then the earliest ties.
        threshold = values[np.argpartition(values, finite.size - k)[finite.size - k]]
        above = values > threshold
        n_above = int(above.sum())
        tied = np.flatnonzero(values == threshold)[: k - n_above]
        chosen = np.concatenate([np.flatnonzero(above), tied])
        finite, values = finite[chosen], values[chosen]
    # lexsort: last key is primary -> score descending, then position ascending.
    order = np.lexsort((finite, -values))
    return finite[order].astype(np.int64, copy=False)


def top_k_spread(scores, k, group, batch, *, decay=0.5, bonus=None):
    """Like :func:`top_k`, but each run of ``batch`` picks spreads over the groups (e.g. embedding cells).

    Between two fits the session asks about ``batch`` records ranked by one model. Plain top-k
    then spends several labels on near-duplicates: the rows a model is unsure of crowd into the
    same corner. Here, within each run of ``batch`` picks, a row's score is multiplied by
    ``decay`` for every earlier pick of the run from its group, so a second record of one region
    comes only when it scores ``1 / decay`` times the best of the regions not asked about yet.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Higher means "ask sooner"; non-finite entries are never picked.
    k : int
        How many positions to return.
    group : array-like of shape (n,), int
        The group of each row (its embedding cell).
    batch : int
        Picks per run; ``batch <= 1`` is plain :func:`top_k`.
    decay : float in (0, 1)
        The factor per earlier pick from the same group.
    bonus : array-like of shape (n,), optional
        A priority added after the decay, which spreading never lowers (e.g. a boost the user
        asked for): the order is by ``bonus + scores * decay ** picks_from_the_group``.

    Returns
    -------
    positions : ndarray of shape (min(k, n_finite),), dtype int64
        Unique positions in the order to ask.

    Notes
    -----
    Only the best ``4 * k`` rows (at least 256) are candidates, so the cost is
    ``O(n + k * 4k)`` whatever the pool's size.

    Examples
    --------
    >>> scores = np.array([0.9, 0.8, 0.7, 0.5])
    >>> top_k_spread(scores, 3, group=np.array([0, 0, 0, 1]), batch=2)
    array([0, 3, 1])
    """
    batch = int(batch)
    if batch <= 1:
        return top_k(scores, k)
    scores = np.asarray(scores, dtype=np.float64)
    extra = np.zeros_like(scores) if bonus is None else np.nan_to_num(np.asarray(bonus, dtype=np.float64))
    candidates = top_k(scores + extra, max(4 * int(k), 256))
    if candidates.size == 0:
        return candidates
    values, extra = scores[candidates], extra[candidates]
    if values.min() < 0.0:  # non-negative, so that a decay never raises a score
        values = values - values.min()
    groups = np.asarray(group)[candidates]
    _, groups = np.unique(groups, return_inverse=True)
    taken_in_run = np.zeros(int(groups.max()) + 1, dtype=np.int64)
    free = np.ones(candidates.size, dtype=bool)
    picks = []
    for i in range(min(int(k), candidates.size)):
        if i % batch == 0:
            taken_in_run[:] = 0
        effective = np.where(free, extra + values * decay ** taken_in_run[groups], -np.inf)
        best = int(np.argmax(effective))  # the first of equal values: candidates are in score order
        picks.append(candidates[best])
        free[best] = False
        taken_in_run[groups[best]] += 1
    return np.asarray(picks, dtype=np.int64)
