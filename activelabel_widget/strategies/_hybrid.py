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
sure of most of the pool asks where it is unsure (share near 0: margin sampling). The rule
replaced a fixed fade by label count, which kept exploring on easy data and stopped too early on
hard data (``benchmarks/label_efficiency.py``, seeds other than the reported ones were used to
choose the constants).

**A label with no example yet** can only be found by exploring, so the share is then 1, and one
more factor joins the product (:func:`density_weight`): populous, compact cells that the labels
do not cover yet first. A class nobody has labeled tends to sit in such a region of its own (the
premise of rare-category detection: the plot synopses among the movie reviews, 3% of the rows,
fill one of the densest cells), and the model, which has never seen it, cannot point there: its
margin over the other labels is no smaller there than anywhere. On the movie reviews this found
the rare label after 16.5 labels on average instead of at least 19.4 (seeds 10-69, never
reported; ``benchmarks/class_search.py``), with AULC level within its spread on digits, the
movie reviews and the debates (``benchmarks/README.md``). The factor leaves as soon as every
label has an example.
"""

import functools

import numpy as np

from activelabel_widget.strategies._diversity import cell_coverage, check_index
from activelabel_widget.strategies._uncertainty import margin_uncertainty

__all__ = ["hybrid_scores", "coverage_weight", "density_weight", "exploration_share", "has_unseen_label"]

HYBRID_BETA = 1.0
HYBRID_GAMMA = 0.1
HYBRID_REGION = 0.5
HYBRID_DENSITY = 0.5


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


def density_weight(index, labeled_mask, *, power=HYBRID_DENSITY):
    """The unseen-label factor in (0, 1] per row: 1 in the densest cell that still has rows to ask.

    A cell's density is its size over its squared spread: many rows, packed tightly. The spread is
    floored at half the median spread of the cells (of those above 0), so a cell of one row or of
    copies of one record (spread near 0) does not read as infinitely dense: copies of one record
    count as a cell as tight as the floor, and a big one is still searched early (a message repeated
    a hundred times is a classic rare label). Labels lower a cell through the coverage factor
    it is multiplied with, not here.

    Parameters
    ----------
    index : EmbeddingIndex
    labeled_mask : ndarray of shape (n,), bool
    power : float
        Strength: 1 follows density alone, which on digits (ten labels of a tenth each) kept asking
        in the densest cells of labels already seen; 0.5 found the movie reviews' rare label almost
        as soon (16.0 labels against 14.8 on seeds 30-69) and left digits as they were
        (``benchmarks/README.md``).

    Returns
    -------
    weight : ndarray of shape (n,), float64
        ``(density / max_density) ** power`` of the row's cell, the maximum over cells with
        unlabeled rows.
    """
    check_index(index, labeled_mask.shape[0])
    labels, _ = cell_coverage(index, labeled_mask)
    spread = index.cell_spread.astype(np.float64)
    # the median of the spreads above 0: where most cells are copies of one record each, the median
    # of all would be 0 and every cell of copies would get no density at all
    spread_of_some = spread[(index.cell_size > 0) & (spread > 0)]
    floor = 0.5 * float(np.median(spread_of_some)) if spread_of_some.size else 1.0
    density = index.cell_size / np.maximum(spread, floor) ** 2
    open_cells = index.cell_size > labels
    top = float(density[open_cells].max()) if open_cells.any() else 0.0
    if top <= 0.0:
        return np.ones(labeled_mask.shape[0], dtype=np.float64)
    return (density[index.cell] / top) ** power


def has_unseen_label(proba):
    """Whether some label has no example yet: its probability column is 0 on every row (a model
    fitted without that class gives it nothing; so does one that never predicts a class it has
    seen, which the hybrid then looks for in the same way)."""
    p = np.asarray(proba)
    return p.shape[1] >= 2 and any(p[:, j].max() <= 0.0 for j in range(p.shape[1]))


def exploration_share(proba, labeled_mask, *, unseen=None):
    """How much the hybrid still explores, in [0, 1]: the model's expected error on the pool.

    The expected error is ``1 - mean(top probability)`` over the unlabeled rows, scaled so that
    a model that knows nothing (uniform probabilities) gives 1 and a sure one 0. While a label
    has no example at all (its probability column is 0 everywhere) the share is 1: the only way
    to find that class is to explore. ``unseen``: :func:`has_unseen_label` of ``proba`` when the
    caller has it already.
    """
    p = np.asarray(proba, dtype=np.float64)
    k = p.shape[1]
    if k < 2 or (has_unseen_label(p) if unseen is None else unseen):
        return 1.0
    # column by column: on a million rows of a few classes, a reduction along each row is several
    # times slower than K passes over the columns
    top = functools.reduce(np.maximum, [p[:, j] for j in range(k)])
    unl = ~np.asarray(labeled_mask, dtype=bool)
    mean_top = top[unl].mean() if unl.any() else top.mean()
    return float(np.clip((1.0 - mean_top) / (1.0 - 1.0 / k), 0.0, 1.0))


def hybrid_scores(proba, labeled_mask, index=None, *, beta=HYBRID_BETA, gamma=HYBRID_GAMMA,
                  region=HYBRID_REGION, share=None, unseen=None):
    """Margin uncertainty times typicality, region uncertainty and coverage (and, while a label has
    no example, density), raised to the share of exploration the model still needs.

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
    unseen : bool, optional
        :func:`has_unseen_label` of ``proba`` when the caller has it already.

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
    if (has_unseen_label(proba) if unseen is None else unseen):
        steer *= density_weight(index, mask)
    return u * steer**share
