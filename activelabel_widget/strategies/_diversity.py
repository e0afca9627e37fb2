"""Diversity: cover the regions of the embedding space that no label covers yet.

The pool's embeddings are cut once into k-means cells (:func:`build_embedding_index`, fitted
on a sample, then every row assigned in float32 chunks). Scoring then works on the cells, not
on the rows, so it costs ``O(n + n_cells ** 2)`` and computes no row-to-row distance:

1. **Cover the regions.** A greedy facility-location pass over the cells orders them by how
   much each would shorten the distance from the pool's rows to their nearest label (cells
   weighted by their unlabeled rows; a row of cell ``i`` is taken to be
   ``sqrt(|c_i - c_j| ** 2 + rms_i ** 2)`` from the representative of cell ``j``). Each chosen
   cell offers its representative, the row nearest its centroid. Regions near existing labels
   gain little and wait; a cell whose neighbours are already covered is skipped.
2. **Then share out the rest.** Every other row of a cell of ``size`` rows holding ``labels``
   labels is offered at priority ``size / (1 + labels + r)`` for its ``r``-th place in the
   cell's pick order (D'Hondt rule: later picks go to cells in proportion to their size).
   Within a cell, after the representative come the representatives of a few sub-clusters,
   so a cell's later picks are spread out too.
"""

import math
import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["EmbeddingIndex", "build_embedding_index", "diversity_scores"]

_MAX_CELLS = 256
_SAMPLE_PER_CELL = 48
_MIN_SAMPLE = 10_000
_SUB_SAMPLE = 96
_MAX_SUB = 8
_CHUNK_ROWS = 32_768
_INIT_PER_CELL = 8


@dataclass(frozen=True, eq=False)
class EmbeddingIndex:
    """K-means cells over a pool's embeddings; built once by :func:`build_embedding_index`.

    Attributes
    ----------
    centers : ndarray of shape (n_cells, d), float32
        Cell centroids.
    cell : ndarray of shape (n,), int32
        The cell of each row.
    distance : ndarray of shape (n,), float32
        Euclidean distance of each row to its cell's centroid.
    cell_size : ndarray of shape (n_cells,), int64
        Rows per cell.
    cell_spread : ndarray of shape (n_cells,), float32
        Mean distance of a cell's rows to its centroid (0 for an empty cell).
    reach : ndarray of shape (n_cells, n_cells), float32
        ``reach[i, j]``: typical distance from a row of cell ``i`` to the representative of
        cell ``j``, ``sqrt(|c_i - c_j| ** 2 + rms_i ** 2)``.
    order : ndarray of shape (n,), int64
        Row positions grouped by cell, and within a cell in pick order: the representative
        (nearest the centroid), then sub-cluster representatives, then by distance.
    cell_start : ndarray of shape (n_cells + 1,), int64
        ``order[cell_start[c]:cell_start[c + 1]]`` are the rows of cell ``c``.
    random_state : int
        The seed it was built with.
    """

    centers: np.ndarray
    cell: np.ndarray
    distance: np.ndarray
    cell_size: np.ndarray
    order: np.ndarray
    cell_start: np.ndarray
    cell_spread: np.ndarray
    reach: np.ndarray
    random_state: int = 0

    @property
    def n_rows(self):
        """Number of pool rows the index covers."""
        return int(self.cell.shape[0])

    @property
    def n_cells(self):
        """Number of k-means cells."""
        return int(self.centers.shape[0])

    def __repr__(self):
        return (f"EmbeddingIndex(n_rows={self.n_rows}, n_cells={self.n_cells}, "
                f"dim={self.centers.shape[1]})")


def _default_n_cells(n):
    return int(min(n, _MAX_CELLS, max(2, round(math.sqrt(n)))))


def _chunk_f32(embeddings, start, stop):
    chunk = np.asarray(embeddings[start:stop], dtype=np.float32)
    if not np.isfinite(chunk).all():
        raise ValueError(f"embeddings rows {start}..{stop - 1} contain nan or inf; "
                         "fill or drop those values before building the index.")
    return chunk


def _nearest_center(chunk, centers, center_sq):
    """(argmin, distance) of each row of ``chunk`` (b, d) to ``centers`` (c, d)."""
    d2 = chunk @ centers.T
    d2 *= -2.0
    d2 += center_sq[None, :]
    d2 += np.einsum("ij,ij->i", chunk, chunk)[:, None]
    nearest = np.argmin(d2, axis=1)
    best = d2[np.arange(chunk.shape[0]), nearest]
    return nearest.astype(np.int32), np.sqrt(np.clip(best, 0.0, None)).astype(np.float32)


def _fit_centers(sample, n_cells, rng):
    from sklearn.cluster import KMeans, kmeans_plusplus
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    # k-means++ costs n_cells passes over its input: seed it on a small subsample, then let
    # Lloyd iterations on the whole sample refine the centres.
    seed = int(rng.integers(2**31 - 1))
    m = min(sample.shape[0], max(_INIT_PER_CELL * n_cells, 1_000))
    init_rows = rng.choice(sample.shape[0], size=m, replace=False)
    with warnings.catch_warnings():
        # Fewer distinct points than cells: some cells stay empty, which scoring handles.
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Its many small matrix products run far faster on one BLAS thread than on several.
        with threadpool_limits(limits=1, user_api="blas"):
            init, _ = kmeans_plusplus(sample[init_rows], n_cells, random_state=seed)
        km = KMeans(n_clusters=n_cells, init=init, n_init=1, max_iter=30, tol=1e-3,
                    random_state=seed).fit(sample)
    return np.ascontiguousarray(km.cluster_centers_, dtype=np.float32)


def _sub_representatives(points, n_sub, rng, n_iter=6):
    """Indices into ``points`` (m, d) of up to ``n_sub`` sub-cluster representatives,
    biggest sub-cluster first (a few Lloyd steps from a k-means++ start)."""
    m = points.shape[0]
    first = int(rng.integers(m))
    centers = [points[first]]
    closest = ((points - points[first]) ** 2).sum(axis=1)
    for _ in range(1, n_sub):
        total = float(closest.sum())
        if total <= 0.0:
            break
        pick = int(rng.choice(m, p=closest / total))
        centers.append(points[pick])
        closest = np.minimum(closest, ((points - points[pick]) ** 2).sum(axis=1))
    centers = np.array(centers, dtype=np.float64)
    for _ in range(n_iter):
        d2 = ((points[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
        assign = d2.argmin(axis=1)
        for j in range(centers.shape[0]):
            members = points[assign == j]
            if members.shape[0]:
                centers[j] = members.mean(axis=0)
    d2 = ((points[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    assign = d2.argmin(axis=1)
    sizes = np.bincount(assign, minlength=centers.shape[0])
    reps = []
    for j in np.argsort(-sizes, kind="stable"):
        if sizes[j] == 0:
            continue
        members = np.flatnonzero(assign == j)
        reps.append(int(members[np.argmin(d2[members, j])]))
    return reps


def build_embedding_index(embeddings, *, n_cells=None, random_state=0):
    """Cut a pool's embeddings into k-means cells, once per data set.

    Parameters
    ----------
    embeddings : array-like of shape (n, d)
        One float vector per pool row (any float dtype; read in float32 chunks, never
        copied whole). Must be finite.
    n_cells : int, optional
        Number of cells; default ``round(sqrt(n))`` clipped to [2, 256] (and at most ``n``).
    random_state : int
        Seed for the sample, the k-means start and the sub-clusters.

    Returns
    -------
    EmbeddingIndex

    Notes
    -----
    K-means is fitted on a random sample of ``max(10_000, 48 * n_cells)`` rows; every row is
    then assigned to its nearest centroid in chunks of float32 matrix products, so the cost
    is about ``n * n_cells * d`` multiply-adds (a few seconds for 1,000,000 x 384).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> index = build_embedding_index(rng.normal(size=(500, 8)), random_state=0)
    >>> index.n_rows, index.n_cells
    (500, 22)
    """
    if hasattr(embeddings, "tocsr"):
        raise TypeError("embeddings must be dense; reduce sparse features first "
                        "(e.g. sklearn.decomposition.TruncatedSVD).")
    if not isinstance(embeddings, np.ndarray):
        embeddings = np.asarray(embeddings)
    shape = embeddings.shape
    if len(shape) != 2:
        raise ValueError(f"embeddings must have shape (n_rows, n_dims), got {shape}.")
    n, d = int(shape[0]), int(shape[1])
    if n == 0 or d == 0:
        raise ValueError(f"embeddings of shape {shape} are empty; the index needs at least "
                         "one row with at least one dimension.")
    rng = np.random.default_rng(random_state)
    c = _default_n_cells(n) if n_cells is None else int(n_cells)
    if c < 1:
        raise ValueError(f"n_cells must be at least 1, got {n_cells}.")
    c = min(c, n)

    sample_size = min(n, max(_MIN_SAMPLE, _SAMPLE_PER_CELL * c))
    sample_rows = np.sort(rng.choice(n, size=sample_size, replace=False))
    sample = _chunk_f32(embeddings[sample_rows], 0, sample_size)
    if c == 1:
        centers = sample.mean(axis=0, keepdims=True).astype(np.float32)
    else:
        centers = _fit_centers(sample, c, rng)
    center_sq = np.einsum("ij,ij->i", centers, centers)

    cell = np.empty(n, dtype=np.int32)
    distance = np.empty(n, dtype=np.float32)
    for start in range(0, n, _CHUNK_ROWS):
        stop = min(n, start + _CHUNK_ROWS)
        cell[start:stop], distance[start:stop] = _nearest_center(
            _chunk_f32(embeddings, start, stop), centers, center_sq)
    cell_size = np.bincount(cell, minlength=c).astype(np.int64)
    spread = np.divide(np.bincount(cell, weights=distance, minlength=c), cell_size,
                       out=np.zeros(c), where=cell_size > 0).astype(np.float32)
    rms2 = np.divide(np.bincount(cell, weights=distance.astype(np.float64) ** 2, minlength=c),
                     cell_size, out=np.zeros(c), where=cell_size > 0)
    c64 = centers.astype(np.float64)
    sq = np.einsum("ij,ij->i", c64, c64)
    center_d2 = np.clip(sq[:, None] + sq[None, :] - 2.0 * c64 @ c64.T, 0.0, None)
    np.fill_diagonal(center_d2, 0.0)
    reach = np.sqrt(center_d2 + rms2[:, None]).astype(np.float32)

    # Pick order inside a cell: key = distance, lowered for the chosen representatives.
    key = distance.astype(np.float64)
    sample_cell, _ = _nearest_center(sample, centers, center_sq)
    by_cell = np.argsort(sample_cell, kind="stable")
    bounds = np.searchsorted(sample_cell[by_cell], np.arange(c + 1))
    for j in range(c):
        members = by_cell[bounds[j]:bounds[j + 1]]
        if members.size < 4:
            continue
        if members.size > _SUB_SAMPLE:
            members = members[rng.choice(members.size, size=_SUB_SAMPLE, replace=False)]
        n_sub = min(_MAX_SUB, members.size // 4)
        reps = _sub_representatives(sample[members].astype(np.float64), n_sub, rng)
        for rank, r in enumerate(reps):
            row = sample_rows[members[r]]
            key[row] = -float(len(reps) - rank)  # biggest sub-cluster first, all before others
    # The cell's overall representative (nearest the centroid) comes first of all.
    order0 = np.lexsort((distance, cell))
    starts = np.searchsorted(cell[order0], np.arange(c + 1))
    nonempty = cell_size > 0
    key[order0[starts[:-1][nonempty]]] = -np.inf
    order = np.lexsort((np.arange(n), key, cell)).astype(np.int64)
    return EmbeddingIndex(
        centers=centers, cell=cell, distance=distance, cell_size=cell_size, order=order,
        cell_start=starts.astype(np.int64), cell_spread=spread, reach=reach,
        random_state=int(random_state))


def check_index(index, n):
    """Raise a clear error when ``index`` was built for another pool."""
    if not isinstance(index, EmbeddingIndex):
        raise TypeError("index must be an EmbeddingIndex from build_embedding_index(embeddings), "
                        f"got {type(index).__name__}.")
    if index.n_rows != n:
        raise ValueError(f"the embedding index covers {index.n_rows} rows but the pool has {n}; "
                         "rebuild it with build_embedding_index on this pool's embeddings.")


def rank_among_unlabeled(index, labeled_mask):
    """Each row's place in its cell's pick order, counting unlabeled rows only.

    Returns
    -------
    rank : ndarray of shape (n,), int64
        0 for the first unlabeled row of a cell, 1 for the next, ...; meaningless at labeled
        rows.
    """
    unl = ~labeled_mask[index.order]
    counts = np.cumsum(unl, dtype=np.int64)
    before_cell = np.concatenate([[0], counts])[index.cell_start[:-1]]
    cell_of_sorted = index.cell[index.order]
    rank = np.empty(index.n_rows, dtype=np.int64)
    rank[index.order] = counts - 1 - before_cell[cell_of_sorted]
    return rank


def cell_coverage(index, labeled_mask):
    """Labels per cell and each cell's uncovered share ``size / (1 + labels)``.

    Returns
    -------
    labels : ndarray of shape (n_cells,), int64
    share : ndarray of shape (n_cells,), float64
        Rows per label the cell would have after one more label; higher = less covered.
    """
    labels = np.bincount(index.cell[labeled_mask], minlength=index.n_cells).astype(np.int64)
    return labels, index.cell_size / (1.0 + labels)


def cover_order(index, labeled_mask):
    """Cells in the order a greedy facility-location pass would cover them.

    Parameters
    ----------
    index : EmbeddingIndex
    labeled_mask : ndarray of shape (n,), bool

    Returns
    -------
    cells : ndarray of shape (t,), int64
        Cells with unlabeled rows, best first; only cells whose representative would bring
        some pool rows closer to a label are listed (``t <= n_cells``).
    """
    reach = index.reach.astype(np.float64)
    weight = np.bincount(index.cell, weights=~labeled_mask, minlength=index.n_cells)
    labeled_cells = np.flatnonzero(np.bincount(index.cell[labeled_mask],
                                               minlength=index.n_cells))
    if labeled_cells.size:
        cover = reach[:, labeled_cells].min(axis=1)
    else:  # nothing labeled: every row is as far as the farthest pair of regions
        cover = np.full(index.n_cells, reach.max() if reach.size else 0.0)
    # Lazy greedy: a cell's gain only shrinks as others are chosen (the objective is
    # submodular), so a stale gain is an upper bound and only the leader is recomputed.
    bound = weight @ np.maximum(cover[:, None] - reach, 0.0)
    bound[weight <= 0] = -np.inf
    fresh = np.ones(index.n_cells, dtype=bool)
    order = []
    while True:
        best = int(np.argmax(bound)) if bound.size else 0
        if not bound.size or bound[best] <= 0.0:
            break
        if not fresh[best]:
            bound[best] = weight @ np.maximum(cover - reach[:, best], 0.0)
            fresh[best] = True
            continue
        order.append(best)
        bound[best] = -np.inf
        np.minimum(cover, reach[:, best], out=cover)
        fresh[:] = False
    return np.array(order, dtype=np.int64)


def diversity_scores(index, labeled_mask):
    """Score each unlabeled row by how much asking it would cover the pool.

    Parameters
    ----------
    index : EmbeddingIndex
        Built on the same pool (n rows).
    labeled_mask : ndarray of shape (n,), bool
        True where a row already has a label.

    Returns
    -------
    scores : ndarray of shape (n,), float64
        Higher means "ask sooner"; ``-inf`` at labeled rows. The representatives of the
        cells in :func:`cover_order` score above 2 (earlier cells higher); every other
        unlabeled row scores ``size / (1 + labels_in_cell + rank)`` scaled into (0, 1).
        Top-k of these spreads a batch over the regions that labels do not reach yet.
    """
    check_index(index, labeled_mask.shape[0])
    labels, _ = cell_coverage(index, labeled_mask)
    rank = rank_among_unlabeled(index, labeled_mask)
    shared = index.cell_size[index.cell] / (1.0 + labels[index.cell] + rank)
    scores = shared / (float(shared.max()) + 1.0) if shared.size else shared
    cells = cover_order(index, labeled_mask)
    if cells.size:
        heads = np.flatnonzero(~labeled_mask & (rank == 0))  # first unlabeled row per cell
        head_of_cell = np.full(index.n_cells, -1, dtype=np.int64)
        head_of_cell[index.cell[heads]] = heads
        scores[head_of_cell[cells]] = 2.0 + (cells.size - np.arange(cells.size))
    scores[labeled_mask] = -np.inf
    return scores
