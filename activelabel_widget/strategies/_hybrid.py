"""Hybrid: margin uncertainty, steered toward typical rows of uncovered, uncertain regions while the
model is poor, and left to plain margin sampling as it gets good.

Plain margin sampling chases the single most ambiguous rows, which early on are often
outliers or a handful of rows from one confusing corner. Diversity alone wastes labels once the
model knows where its boundaries are. The hybrid keeps margin uncertainty as its core and
multiplies it by three cheap factors read from the embedding index (cells of k-means over the
embeddings; no distance is computed at scoring time):

* **typicality** ``exp(-gamma * (distance / cell_spread) ** 2)``: rows near the heart of
  their cell before its fringe, so a label teaches about many rows (information density);
* **region uncertainty** ``mean_uncertainty_of_cell ** region``: an uncertain row inside an
  uncertain region before an isolated one;
* **coverage** ``(share / max_share) ** beta`` where ``share = cell_size / (1 + labels_in_cell)``:
  cells the labels do not cover yet first.

**How much to explore** is read off the model itself (:func:`exploration_share`): its expected
error on the pool, ``1 - mean(top probability)``, scaled so that a uniform guess is 1. The three
factors are raised to that share::

    score = (1 - margin) * (typicality * region_uncertainty * coverage) ** exploration_share

so a model that knows little explores (share near 1: the full product), and a model that is
sure of most of the pool asks where it is unsure (share near 0: margin sampling). While a label
has no example yet the share is 1: only exploring finds that class. The rule replaced a fixed
fade by label count, which kept exploring on easy data and stopped too early on hard data
(``benchmarks/label_efficiency.py``, seeds other than the reported ones were used to choose the
constants).
"""

import functools

import numpy as np

from activelabel_widget.strategies._diversity import cell_coverage, check_index
from activelabel_widget.strategies._uncertainty import margin_uncertainty

__all__ = ["hybrid_scores", "coverage_weight", "exploration_share"]

HYBRID_BETA = 1.0
HYBRID_GAMMA = 0.1
HYBRID_REGION = 0.5


def coverage_weight(index, labeled_mask, *, beta=HYBRID_BETA):
    """The coverage factor in (0, 1] per row: 1 in the least covered cells.

    Parameters
    ----------
    index : EmbeddingIndex
    labeled_mask : ndarray of shape (n,), bool

    Returns
    -------
    weight : ndarray of shape (n,), float64
        ``(share / max_share) ** beta``, with ``share = cell_size / (1 + labels_in_cell)`` and
        the maximum over cells with unlabeled rows.
    """
    check_index(index, labeled_mask.shape[0])
    _, share = cell_coverage(index, labeled_mask)
    row_share = share[index.cell]
    unl = ~labeled_mask
    top = float(row_share[unl].max()) if unl.any() else 0.0
    if top <= 0.0:
        return np.ones_like(row_share)
    return (row_share / top) ** beta


def exploration_share(proba, labeled_mask):
    """How much the hybrid still explores, in [0, 1]: the model's expected error on the pool.

    The expected error is ``1 - mean(top probability)`` over the unlabeled rows, scaled so that
    a model that knows nothing (uniform probabilities) gives 1 and a sure one 0. While a label
    has no example at all (its probability column is 0 everywhere) the share is 1: the only way
    to find that class is to explore.
    """
    p = np.asarray(proba, dtype=np.float64)
    k = p.shape[1]
    # column by column: on a million rows of a few classes, a reduction along each row is several
    # times slower than K passes over the columns
    columns = [p[:, j] for j in range(k)]
    if k < 2 or any(column.max() <= 0.0 for column in columns):
        return 1.0
    top = functools.reduce(np.maximum, columns)
    unl = ~np.asarray(labeled_mask, dtype=bool)
    mean_top = top[unl].mean() if unl.any() else top.mean()
    return float(np.clip((1.0 - mean_top) / (1.0 - 1.0 / k), 0.0, 1.0))


def hybrid_scores(proba, labeled_mask, index=None, *, beta=HYBRID_BETA, gamma=HYBRID_GAMMA,
                  region=HYBRID_REGION, share=None):
    """Margin uncertainty times typicality, region uncertainty and coverage, raised to the share
    of exploration the model still needs.

    Parameters
    ----------
    proba : array-like of shape (n, K)
        Class probabilities of the current model.
    labeled_mask : ndarray of shape (n,), bool
    index : EmbeddingIndex, optional
        Without it the score is the margin uncertainty alone.
    beta : float
        Strength of the coverage weight.
    gamma : float
        How strongly typical rows (near their cell's centroid) are preferred.
    region : float
        Exponent of the cell's mean uncertainty.
    share : float, optional
        :func:`exploration_share` of ``proba`` when the caller has it already.

    Returns
    -------
    scores : ndarray of shape (n,), float64, in [0, 1]
        Higher means "ask sooner"; labeled rows are not yet ``-inf`` (the caller sets that).
    """
    u = margin_uncertainty(proba)
    if index is None:
        return u
    mask = np.asarray(labeled_mask, dtype=bool)
    share = exploration_share(proba, mask) if share is None else share
    if share <= 0.0:
        return u
    spread = index.cell_spread[index.cell].astype(np.float64)
    ratio = np.divide(index.distance, spread, out=np.zeros_like(spread), where=spread > 0)
    typicality = np.exp(-gamma * ratio**2)
    unl = ~mask
    n_unl = np.bincount(index.cell, weights=unl, minlength=index.n_cells)
    u_sum = np.bincount(index.cell, weights=np.where(unl, u, 0.0), minlength=index.n_cells)
    cell_u = np.divide(u_sum, n_unl, out=np.zeros_like(u_sum), where=n_unl > 0)
    steer = typicality * coverage_weight(index, mask, beta=beta) * cell_u[index.cell] ** region
    return u * steer**share
