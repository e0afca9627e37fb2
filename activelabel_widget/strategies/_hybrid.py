"""Hybrid: margin uncertainty, weighted toward typical rows of uncertain, unlabeled regions.

Plain margin sampling chases the single most ambiguous rows, which early on are often
outliers or a handful of rows from one confusing corner. The hybrid keeps margin uncertainty
as its core and multiplies it by three cheap factors read from the embedding index (cells of
k-means over the embeddings; no distance is computed at scoring time):

* **typicality** ``exp(-gamma * (distance / cell_spread) ** 2)``: rows near the heart of
  their cell before its fringe, so a label teaches about many rows (information density);
* **region uncertainty** ``mean_uncertainty_of_cell ** region``: an uncertain row inside an
  uncertain region before an isolated one;
* **coverage** ``(share / max_share) ** (beta * exp(-labels / (tau * n_cells)))`` where
  ``share = cell_size / (1 + labels_in_cell)``: cells the labels do not cover yet first; this
  factor fades as labels accumulate, leaving uncertainty in charge.

``score = (1 - margin) * typicality * region_uncertainty * coverage``. Without an index the
score is the margin uncertainty alone. The constants were chosen on simulated labeling runs
(``benchmarks/label_efficiency.py``) with seeds other than the ones it reports.
"""

import numpy as np

from activelabel_widget.strategies._diversity import cell_coverage, check_index
from activelabel_widget.strategies._uncertainty import margin_uncertainty

__all__ = ["hybrid_scores", "hybrid_weight"]

HYBRID_BETA = 1.0
HYBRID_TAU = 2.0
HYBRID_GAMMA = 0.1
HYBRID_REGION = 0.5


def hybrid_weight(index, labeled_mask, *, beta=HYBRID_BETA, tau=HYBRID_TAU):
    """The coverage factor in (0, 1] per row, and the exponent in force.

    Parameters
    ----------
    index : EmbeddingIndex
    labeled_mask : ndarray of shape (n,), bool

    Returns
    -------
    weight : ndarray of shape (n,), float64
        1 in the least covered cells, smaller where labels already cover the region.
    exponent : float
        ``beta * exp(-n_labeled / (tau * n_cells))``; near 0 once every cell holds a few
        labels.
    """
    check_index(index, labeled_mask.shape[0])
    _, share = cell_coverage(index, labeled_mask)
    row_share = share[index.cell]
    unl = ~labeled_mask
    top = float(row_share[unl].max()) if unl.any() else 0.0
    exponent = beta * float(np.exp(-labeled_mask.sum() / (tau * max(index.n_cells, 1))))
    if top <= 0.0:
        return np.ones_like(row_share), exponent
    return (row_share / top) ** exponent, exponent


def hybrid_scores(proba, labeled_mask, index=None, *, beta=HYBRID_BETA, tau=HYBRID_TAU,
                  gamma=HYBRID_GAMMA, region=HYBRID_REGION):
    """Margin uncertainty times typicality, region uncertainty and a fading coverage weight.

    Parameters
    ----------
    proba : array-like of shape (n, K)
        Class probabilities of the current model.
    labeled_mask : ndarray of shape (n,), bool
    index : EmbeddingIndex, optional
        Without it the score is the margin uncertainty alone.
    beta, tau : float
        Strength of the coverage weight, and how fast it fades (in labels per cell).
    gamma : float
        How strongly typical rows (near their cell's centroid) are preferred.
    region : float
        Exponent of the cell's mean uncertainty.

    Returns
    -------
    scores : ndarray of shape (n,), float64, in [0, 1]
        Higher means "ask sooner"; labeled rows are not yet ``-inf`` (the caller sets that).
    """
    u = margin_uncertainty(proba)
    if index is None:
        return u
    mask = np.asarray(labeled_mask, dtype=bool)
    weight, _ = hybrid_weight(index, mask, beta=beta, tau=tau)
    spread = index.cell_spread[index.cell].astype(np.float64)
    ratio = np.divide(index.distance, spread, out=np.zeros_like(spread), where=spread > 0)
    typicality = np.exp(-gamma * ratio**2)
    unl = ~mask
    n_unl = np.bincount(index.cell, weights=unl, minlength=index.n_cells)
    u_sum = np.bincount(index.cell, weights=np.where(unl, u, 0.0), minlength=index.n_cells)
    cell_u = np.divide(u_sum, n_unl, out=np.zeros_like(u_sum), where=n_unl > 0)
    return u * typicality * weight * cell_u[index.cell] ** region
