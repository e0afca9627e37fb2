"""Query strategies: which unlabeled record to ask about next.

Each strategy is a pure scoring function over arrays (class probabilities, a committee's
probabilities, an embedding index, the labeled mask) that returns one score per pool row,
higher = ask sooner and ``-inf`` at labeled rows; one shared :func:`top_k` picks from it.
Every strategy is registered once, with a description for users (:func:`describe`) and the
text that explains its picks; :func:`check_strategy` is the one check of a strategy name.
:func:`rank_with_boost` ranks by a strategy's rank plus a boost such as heuristics' conflicts.

Examples
--------
>>> import numpy as np
>>> from activelabel_widget.strategies import rank_pool
>>> mask = np.array([True, False, False, False])
>>> proba = np.array([[1.0, 0.0], [0.6, 0.4], [0.9, 0.1], [0.5, 0.5]])
>>> positions, scores, reasons = rank_pool("confidence", k=2, labeled_mask=mask, proba=proba)
>>> positions.tolist(), reasons[0]
([3, 1], 'confidence 0.00 (confidence)')
"""

from activelabel_widget.strategies._diversity import EmbeddingIndex, build_embedding_index
from activelabel_widget.strategies._pool import rank_pool, rank_with_boost, score_pool
from activelabel_widget.strategies._registry import (
    STRATEGIES, check_strategy, describe, needs_model)
from activelabel_widget.strategies._topk import top_k
from activelabel_widget.strategies._uncertainty import at_label_mix, confidence

__all__ = [
    "STRATEGIES",
    "confidence",
    "at_label_mix",
    "EmbeddingIndex",
    "build_embedding_index",
    "score_pool",
    "top_k",
    "rank_pool",
    "rank_with_boost",
    "needs_model",
    "check_strategy",
    "describe",
]
