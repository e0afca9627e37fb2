"""Embedding geometry behind the coverage map: a 2-D projection and a coverage estimate.

Plain numpy / scikit-learn over arrays, no matplotlib. The public names are re-exported by
:mod:`activelabel_widget.plots`; the caller computes them once and caches the result.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import euclidean_distances
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state

__all__ = ["project_2d", "coverage_share", "radius_rank"]

METHODS = ("pca", "tsne", "umap")

#: Rows per block when a pass over the whole pool is needed (bounded memory at 1M rows).
_CHUNK = 32_768
#: Dimensions kept by the PCA step that precedes t-SNE / UMAP and the nearest-neighbour placement.
_PRE_DIMS = 50
#: Records sampled to estimate the default coverage radius.
_RADIUS_SAMPLE = 2_000


def _as_embeddings(embeddings):
    """Validate an (n, d) numeric array without copying it."""
    X = np.asarray(embeddings)
    if X.ndim != 2:
        raise ValueError(f"embeddings must be 2-D (n rows, d dims); got shape {X.shape}")
    if X.dtype.kind not in "fiub":
        raise TypeError(f"embeddings must be numeric; got dtype {X.dtype}")
    return X


def _work_dtype(X):
    """float32 stays float32 (memory at 1M rows), everything else computes in float64."""
    return np.float32 if X.dtype == np.float32 else np.float64


def _sample_rows(n, size, random_state):
    """Sorted positions of ``min(n, size)`` distinct rows (all rows when ``n <= size``)."""
    if n <= size:
        return np.arange(n)
    rng = check_random_state(random_state)
    return np.sort(rng.choice(n, size=size, replace=False))


def _pca_fit(X, rows, n_components):
    """Mean and leading principal axes of ``X[rows]``, by eigen-decomposition of the covariance.

    Returns ``mean`` (d,) float64 and ``axes`` (d, n_components) float64, axes ordered by
    variance, each signed so that its largest-magnitude loading is positive (deterministic).
    Components beyond the rank of the data are zero columns.
    """
    d = X.shape[1]
    step = max(1, _CHUNK // 2)
    total = np.zeros(d)
    for start in range(0, len(rows), step):
        total += X[rows[start:start + step]].sum(axis=0, dtype=np.float64)
    mean = total / max(len(rows), 1)
    # Blocks are centred and multiplied in the working dtype (float32 input: float32, about
    # three times faster) and summed in float64; plenty for axes that only draw a map.
    dtype = _work_dtype(X)
    mean_w = mean.astype(dtype)
    scatter = np.zeros((d, d))
    for start in range(0, len(rows), step):
        block = X[rows[start:start + step]].astype(dtype, copy=False) - mean_w
        scatter += block.T @ block
    if not np.all(np.isfinite(scatter)):
        raise ValueError("embeddings contain NaN or infinite values; clean them before projecting")
    values, vectors = np.linalg.eigh(scatter)
    keep = min(n_components, d)
    axes = np.zeros((d, n_components))
    axes[:, :keep] = vectors[:, ::-1][:, :keep]
    variance = np.zeros(n_components)
    variance[:keep] = values[::-1][:keep]
    axes[:, variance <= 0] = 0.0  # no variance along it: nothing to show
    pivot = np.argmax(np.abs(axes), axis=0)
    signs = np.sign(axes[pivot, np.arange(n_components)])
    signs[signs == 0] = 1.0
    return mean, axes * signs


def _pca_transform(X, mean, axes):
    """``(X - mean) @ axes`` in blocks of rows; returns (n, c) in the working dtype."""
    dtype = _work_dtype(X)
    mean_w, axes_w = mean.astype(dtype), axes.astype(dtype)
    out = np.empty((X.shape[0], axes.shape[1]), dtype=dtype)
    for start in range(0, X.shape[0], _CHUNK):
        block = X[start:start + _CHUNK].astype(dtype, copy=False) - mean_w
        out[start:start + _CHUNK] = block @ axes_w
    return out


def _nonlinear(X, *, method, rng, sample, nonlinear_sample):
    """t-SNE or UMAP fitted on a subsample; every other row goes where its nearest fitted row is."""
    if method == "umap":
        try:
            import umap  # noqa: PLC0415 (optional dependency, imported only when asked for)
        except ImportError as error:
            raise ImportError(
                "project_2d(method='umap') needs the optional package umap-learn, which is not "
                "installed. Install it with `pip install umap-learn`, or use method='pca' "
                "(the default, fast on large pools) or method='tsne'."
            ) from error
    n, d = X.shape
    if n < 5:
        raise ValueError(f"method={method!r} needs at least 5 rows; got {n}. Use method='pca'.")
    # Reduce to at most 50 dimensions first: standard before t-SNE / UMAP, and it makes the
    # nearest-neighbour placement of the remaining rows cheap at 1M rows.
    fit_rows = _sample_rows(n, sample, rng)
    reduced = _pca_transform(X, *_pca_fit(X, fit_rows, min(d, _PRE_DIMS)))
    map_rows = _sample_rows(n, nonlinear_sample, rng)
    if method == "tsne":
        from sklearn.manifold import TSNE  # noqa: PLC0415 (only loaded when asked for)

        perplexity = float(min(30.0, max(1.0, (len(map_rows) - 1) / 3.0)))
        model = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=rng)
    else:
        model = umap.UMAP(n_components=2, random_state=rng)
    placed = np.asarray(model.fit_transform(reduced[map_rows]), dtype=np.float32)
    out = np.empty((n, 2), dtype=np.float32)
    out[map_rows] = placed
    others = np.setdiff1d(np.arange(n), map_rows, assume_unique=True)
    if len(others):
        index = NearestNeighbors(n_neighbors=1).fit(reduced[map_rows])
        for start in range(0, len(others), _CHUNK):
            rows = others[start:start + _CHUNK]
            nearest = index.kneighbors(reduced[rows], return_distance=False)[:, 0]
            out[rows] = placed[nearest]
    return out


def project_2d(embeddings, *, method="pca", random_state=0, sample=200_000,
               nonlinear_sample=10_000):
    """Project embeddings to two dimensions for the coverage map.

    ``"pca"`` (default): principal axes fitted on ``sample`` rows drawn at random (all rows when
    the pool is smaller), then every row is projected in blocks of rows, so memory stays bounded
    and 1,000,000 x 384 takes seconds. ``"tsne"`` (scikit-learn) and ``"umap"`` (the optional
    package umap-learn): embeddings are first reduced to 50 dimensions by the same PCA, the
    non-linear map is fitted on ``nonlinear_sample`` random rows, and every other row is placed
    exactly on its nearest fitted row (nearest in the 50-dimensional space). Use them only when
    asked for: they are far slower than PCA. The caller should cache the result.

    Parameters
    ----------
    embeddings : array-like of shape (n, d)
        One row per record. Not modified.
    method : {"pca", "tsne", "umap"}, default "pca"
    random_state : int, numpy.random.RandomState or None, default 0
        Seeds the row samples and the non-linear map; the same seed gives the same output.
    sample : int, default 200_000
        Rows the PCA is fitted on.
    nonlinear_sample : int, default 10_000
        Rows t-SNE / UMAP is fitted on.

    Returns
    -------
    xy : ndarray of shape (n, 2), float32
        Map coordinates. Axis 1 carries the most variance (PCA). With d == 1, or data without
        variance along a second axis, the second column is zero.

    Raises
    ------
    ImportError
        ``method="umap"`` without umap-learn installed (the message says how to install it).
    ValueError
        Unknown method, non-2-D input, non-finite values, or t-SNE / UMAP with fewer than 5 rows.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(1_000, 16))
    >>> project_2d(X).shape
    (1000, 2)
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    if int(sample) < 1 or int(nonlinear_sample) < 1:
        raise ValueError("sample and nonlinear_sample must be positive row counts")
    X = _as_embeddings(embeddings)
    n = X.shape[0]
    if n == 0 or X.shape[1] == 0:
        return np.zeros((n, 2), dtype=np.float32)
    rng = check_random_state(random_state)
    if method == "pca":
        fit_rows = _sample_rows(n, int(sample), rng)
        return _pca_transform(X, *_pca_fit(X, fit_rows, 2)).astype(np.float32, copy=False)
    return _nonlinear(X, method=method, rng=rng, sample=int(sample),
                      nonlinear_sample=int(nonlinear_sample))


def radius_rank(n_rows, neighborhood=0.01):
    """Which neighbour defines the default coverage radius of a pool of ``n_rows`` records.

    Returns ``(k, among)``: the default radius of :func:`coverage_share` is the median, over
    ``among`` records (all of them, or 2,000 drawn at random from a larger pool), of the
    distance to their ``k``-th nearest other record among them, ``k = ceil(neighborhood *
    (among - 1))`` and at least 1.

    Examples
    --------
    >>> radius_rank(100_000), radius_rank(90)
    ((20, 2000), (1, 90))
    """
    among = min(int(n_rows), _RADIUS_SAMPLE)
    return max(1, math.ceil(neighborhood * (among - 1))), among


def _default_radius(X, *, neighborhood, random_state):
    """Median over sampled records of the distance to their ``k``-th nearest other record."""
    rows = _sample_rows(X.shape[0], _RADIUS_SAMPLE, random_state)
    if len(rows) < 2:
        return 0.0
    points = X[rows].astype(np.float64)
    distances = euclidean_distances(points, points)
    np.fill_diagonal(distances, np.inf)
    k, _ = radius_rank(len(rows), neighborhood)
    kth = np.partition(distances, k - 1, axis=1)[:, k - 1]
    return float(np.median(kth))


def coverage_share(embeddings, labeled_mask, *, radius=None, neighborhood=0.01, sample=200_000,
                   random_state=0):
    """Share of the pool that has a hand-labeled record within ``radius``.

    Distances are Euclidean in the embedding space (not on the 2-D map, which only displays).
    The pool is every row; labeled rows count as covered. Nearest labeled neighbours come from
    :class:`sklearn.neighbors.NearestNeighbors` fitted on the labeled rows only (fast while they
    are few) and queried in blocks of rows. Above ``sample`` rows the share is estimated on
    ``sample`` rows drawn at random (standard error below 0.12 points at 200,000).

    Default radius: the distance within which a typical record finds the nearest
    ``neighborhood`` share (1%) of the pool: the median, over 2,000 records drawn at random (all
    records of a smaller pool), of the distance to their k-th nearest other record among them,
    k = ceil(1% of (their number - 1)): k = 20 for 2,000 records, and k = 1 on pools of up to
    101 rows, where the radius is the median nearest-neighbour distance.
    "Covered" thus means "a label is as close as the nearest 1% of the data typically is". Unlike
    the nearest-neighbour distance of the whole pool, which shrinks as the pool grows (so a
    million-row pool would read as uncovered whatever was labeled), this radius does not depend
    on the pool size. As a yardstick, m labels drawn at random cover roughly 1 - 0.99**m of the
    pool: about 10% at 10 labels, 45% at 60, and 80-95% at 300 (less where the density
    varies); labels bunched in one region cover far less.

    Parameters
    ----------
    embeddings : array-like of shape (n, d)
        Not modified.
    labeled_mask : array-like of bool, shape (n,)
        True for hand-labeled rows.
    radius : float or None, default None
        Distance that counts as covered; None computes the default above.
    neighborhood : float in (0, 1], default 0.01
        Share of the pool that defines the default radius.
    sample : int, default 200_000
        Pool rows used to estimate the share on larger pools.
    random_state : int, numpy.random.RandomState or None, default 0
        Seeds both samples.

    Returns
    -------
    share : float in [0, 1]
        0.0 when nothing is labeled.
    radius : float
        The radius used (the one given, or the default).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [10.0], [11.0]])
    >>> coverage_share(X, np.array([True, False, False, False, False, False]), radius=2.0)
    (0.5, 2.0)
    """
    X = _as_embeddings(embeddings)
    mask = np.asarray(labeled_mask)
    if mask.dtype != bool:
        raise TypeError("labeled_mask must be boolean (n,), True for labeled rows; "
                        f"got {mask.dtype}")
    n = X.shape[0]
    if mask.shape != (n,):
        raise ValueError(f"labeled_mask must have shape ({n},) to match embeddings; "
                         f"got {mask.shape}")
    if n == 0:
        raise ValueError("coverage_share needs at least one row")
    if not 0.0 < neighborhood <= 1.0:
        raise ValueError(f"neighborhood must be in (0, 1]; got {neighborhood}")
    rng = check_random_state(random_state)
    if radius is None:
        radius = _default_radius(X, neighborhood=neighborhood, random_state=rng)
    elif not (np.isfinite(radius) and radius >= 0):
        raise ValueError(f"radius must be a finite distance >= 0; got {radius}")
    radius = float(radius)
    labeled = np.flatnonzero(mask)
    if len(labeled) == 0:
        return 0.0, radius
    pool = _sample_rows(n, int(sample), rng)
    queries = pool[~mask[pool]]
    covered = len(pool) - len(queries)
    if len(queries):
        index = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(X[labeled])
        for start in range(0, len(queries), _CHUNK):
            dist = index.kneighbors(X[queries[start:start + _CHUNK]], return_distance=True)[0]
            covered += int(np.count_nonzero(dist[:, 0] <= radius))
    return covered / len(pool), radius
