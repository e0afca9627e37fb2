"""The one shared picker: the positions of the k highest scores."""

import numpy as np

__all__ = ["top_k"]


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
