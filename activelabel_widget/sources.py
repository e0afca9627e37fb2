"""Who or what made a label: the one vocabulary of label sources.

Every label event carries one of these; the store, the session, the plots and the hand-off
frame all use the names defined here.
"""

from __future__ import annotations

__all__ = ["HAND", "ACCEPTED", "CORRECTED", "RELABELED", "IMPORTED", "BULK", "WEAK", "ADJUDICATED", "SOURCES", "HUMAN_SOURCES", "check_source"]

#: Typed on the card (or by ``label()``) with no other suggestion shown.
HAND = "hand"
#: The model's suggestion, accepted with Enter (``accept()``).
ACCEPTED = "suggestion-accepted"
#: Typed by hand while the card suggested another label.
CORRECTED = "suggestion-corrected"
#: A hand label that replaces an earlier hand label of the same record (from the card's history,
#: review, or ``label()`` on a labeled row). The label it replaced stays in the log.
RELABELED = "corrected"
#: Brought in from earlier labels (``initial_labels=`` a column, or an exported file read back).
IMPORTED = "imported"
#: Given to a whole selection at once (a region lassoed on the embedding map, ``label_many()``), after a
#: confirmation: a person's label, one undo step for the lot.
BULK = "bulk"
#: A weak label promoted from the committee of heuristics (``promote_weak()``).
WEAK = "weak"
#: Settles a record annotators answered differently (``adjudicate()``): the label ``labeled`` uses.
ADJUDICATED = "adjudicated"

SOURCES = (HAND, ACCEPTED, CORRECTED, RELABELED, IMPORTED, BULK, WEAK, ADJUDICATED)
#: Sources a person stands behind: these labels train the model and are in ``labeled``.
HUMAN_SOURCES = frozenset({HAND, ACCEPTED, CORRECTED, RELABELED, IMPORTED, BULK, ADJUDICATED})


def check_source(source: str) -> str:
    """Return ``source`` if it is one of :data:`SOURCES`, else raise :class:`LabelError`.

    Examples
    --------
    >>> check_source("hand")
    'hand'
    """
    from .errors import LabelError

    if source not in SOURCES:
        raise LabelError(f"source={source!r} is not a label source; use one of {list(SOURCES)}.")
    return source
