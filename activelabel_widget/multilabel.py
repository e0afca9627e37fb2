"""Multi-label records: a record carries a set of labels (possibly empty) instead of one.

Pure functions over numpy arrays; :class:`~activelabel_widget.multisession.MultiLabelSession`
wires them to the store and the card.

**Stored as one label event.** A set is saved as the ``label`` of one event, as a JSON list of the
names in the order of ``labels=`` (``'["sports", "tech"]'``, ``'[]'`` for the empty set), so undo,
restart, content matching and the append-only log work exactly as for single labels.

**The model** is one-vs-rest: the user's estimator (default: balanced logistic regression) fitted
once per label on "has it / has it not", giving each record a probability per label (the
*marginals*, which need not sum to one). A label is suggested when its probability is 0.5 or more.

**Confidence and uncertainty, per label and per record.** A label's confidence is
``1 - H2(p)``, the binary entropy of its probability in bits: 0 at p = 0.5, 1 at p = 0 or 1, the
same definition as the single-label card's with K = 2. A record's confidence is that of its
*least sure* label (the minimum over labels): a set suggestion is only as good as its weakest
member. Every query strategy ranks a record by that least-sure label's two-way distribution
``[1 - p, p]`` (:func:`least_sure_label`), so "margin", "confidence", "least_confident" and the
hybrid all ask first about records with a label near 0.5; "committee" compares its members on
the same label. The mean per-label margin was measured as the alternative ranking
(``benchmarks/multilabel_efficiency.py``, 5 seeds): it lifted the hybrid on the synthetic set
(area under the learning curve 0.588 against 0.576) but lowered it on the digit attributes (0.856
against 0.865) and lowered margin sampling on both, so the line keeps the card's definition.
"""

from __future__ import annotations

import json

import numpy as np

from .errors import LabelError

__all__ = ["encode_set", "decode_set", "check_label_set", "is_label_set", "label_confidence", "record_confidence",
           "least_sure_label", "predicted_sets", "one_hot", "display_set", "micro_f1", "THRESHOLD"]

#: A label is suggested (and counted as predicted) at this probability or more.
THRESHOLD = 0.5


def encode_set(names, labels: list[str]) -> str:
    """The stored text of a label set: a JSON list of its names in the order of ``labels``."""
    chosen = set(names)
    return json.dumps([name for name in labels if name in chosen], ensure_ascii=False)


def decode_set(text: str) -> list[str]:
    """The names of a stored label set; raises ValueError for text that is not one."""
    value = json.loads(text)
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ValueError(f"{text!r:.80} is not a label set")
    return value


def is_label_set(text) -> bool:
    """Whether a stored label is a label set's text (a JSON list), i.e. was saved by a multi-label labeler."""
    if not isinstance(text, str) or not text.startswith("["):
        return False
    try:
        decode_set(text)
    except ValueError:
        return False
    return True


def check_label_set(value, labels: list[str]) -> list[str]:
    """``value`` (a list, tuple or set of label names; empty allowed) as names in label order.

    Raises
    ------
    LabelError
        A single string (ambiguous: pass ``["sports"]``), a name that is not a label, or a
        value that is not a collection.
    """
    if isinstance(value, str):
        raise LabelError(f"This labeler is multi-label: pass a list of labels, e.g. [{value!r}], or [] for none.")
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise LabelError(f"A multi-label answer is a list of labels (e.g. [{labels[0]!r}], or [] for none); "
                         f"got {type(value).__name__}.")
    names = [str(name) for name in value]
    unknown = [name for name in names if name not in labels]
    if unknown:
        raise LabelError(f"{unknown[0]!r} is not one of the labels {labels}; pass names from that list "
                         "(labels are case-sensitive).")
    chosen = set(names)
    return [name for name in labels if name in chosen]


def display_set(text) -> str | None:
    """How the card names a stored label set: ``"sports + tech"``, ``"no label"`` for the empty set."""
    if text is None:
        return None
    names = decode_set(text) if isinstance(text, str) else list(text)
    return " + ".join(names) if names else "no label"


def _as_marginals(marginals) -> np.ndarray:
    p = np.asarray(marginals, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"marginals must have shape (n_rows, n_labels), got {p.shape}.")
    return np.clip(np.nan_to_num(p, nan=0.5), 0.0, 1.0)


def label_confidence(marginals) -> np.ndarray:
    """(n, L): each label's confidence ``1 - H2(p)`` (binary entropy in bits), 0 at p = 0.5, 1 at 0 or 1.

    >>> label_confidence([[0.5, 1.0, 0.0]]).round(3).tolist()
    [[0.0, 1.0, 1.0]]
    """
    p = _as_marginals(marginals)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -(np.where(p > 0, p * np.log2(p), 0.0) + np.where(p < 1, (1 - p) * np.log2(1 - p), 0.0))
    return np.clip(1.0 - entropy, 0.0, 1.0)


def record_confidence(marginals) -> np.ndarray:
    """(n,): each record's confidence, that of its least sure label (1.0 for a record with no labels to judge)."""
    conf = label_confidence(marginals)
    return conf.min(axis=1) if conf.shape[1] else np.ones(conf.shape[0])


def least_sure_label(marginals) -> tuple[np.ndarray, np.ndarray]:
    """Each record's least sure label (probability nearest 0.5) as a two-way distribution.

    Returns
    -------
    binary : ndarray (n, 2)
        ``[1 - p, p]`` of that label: what every query strategy reads in multi-label mode.
    which : ndarray (n,) int
        The label's index.
    """
    p = _as_marginals(marginals)
    which = np.abs(p - 0.5).argmin(axis=1)
    chosen = p[np.arange(len(p)), which]
    return np.stack([1.0 - chosen, chosen], axis=1), which


def predicted_sets(marginals, threshold: float = THRESHOLD) -> np.ndarray:
    """(n, L) bool: the labels each record is predicted to have (probability at or above ``threshold``)."""
    return _as_marginals(marginals) >= threshold


def one_hot(sets: list, labels: list[str]) -> np.ndarray:
    """(n, L) int8 indicator matrix of label sets (lists of names; None rows are all zero)."""
    column = {name: j for j, name in enumerate(labels)}
    out = np.zeros((len(sets), len(labels)), dtype=np.int8)
    for i, names in enumerate(sets):
        for name in names or ():
            j = column.get(name)
            if j is not None:
                out[i, j] = 1
    return out


def micro_f1(truth: np.ndarray, predicted: np.ndarray) -> float | None:
    """Micro-averaged F1 of indicator matrices (None when neither has a positive: nothing to score)."""
    truth, predicted = np.asarray(truth, dtype=bool), np.asarray(predicted, dtype=bool)
    tp = int((truth & predicted).sum())
    denominator = int(truth.sum() + predicted.sum())
    return None if denominator == 0 else 2 * tp / denominator


def one_vs_rest(estimators: list) -> list:
    """Each estimator wrapped for label sets (one binary model per label, fitted on an indicator matrix)."""
    from sklearn.multiclass import OneVsRestClassifier

    return [estimator if isinstance(estimator, OneVsRestClassifier) else OneVsRestClassifier(estimator)
            for estimator in estimators]
