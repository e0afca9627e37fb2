"""Plain pandas out: the frames a downstream cell reads (``labeled``, ``to_frame()``).

Pure functions over the user's DataFrame, the label events in force and the model's
probabilities; the session only gathers those under its lock.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["labeled_frame", "full_frame", "add_label_columns", "column_names", "ADDED_COLUMNS"]

#: The columns the hand-off frames add to the user's, by their own names.
ADDED_COLUMNS = ("label", "labeled_at", "annotator", "source", "confidence", "previous_label", "rejected", "note",
                 "prediction", "prediction_confidence", "weak_label", "weak_confidence")


def column_names(user_columns) -> dict[str, str]:
    """Each added column's name in the frames: its own, or ``al_<name>`` when the data has that column already.

    The user's columns are never renamed or dropped.

    Examples
    --------
    >>> column_names(["text", "source"])["source"], column_names(["text"])["source"]
    ('al_source', 'source')
    """
    taken = {str(name) for name in user_columns}
    names = {}
    for name in ADDED_COLUMNS:
        final = name
        while final in taken:
            final = "al_" + final
        names[name] = final
    return names


def labeled_frame(df: pd.DataFrame, positions: np.ndarray, events: list, labels: list[str], *,
                  previous: list | None = None, rejected=None, notes: list | None = None) -> pd.DataFrame:
    """The rows at ``positions`` with their label columns: label, labeled_at, annotator, source, confidence,
    previous_label (``previous[i]``: the label the row's label replaced, None for a first label), rejected
    (``rejected[i]``: the row was rejected, its event a rejection with no label) and note (``notes[i]``)."""
    frame = df.iloc[positions].copy()
    names = column_names(df.columns)
    add_label_columns(frame, events, labels, names)
    n = len(frame)
    frame[names["previous_label"]] = pd.Categorical(previous if previous is not None else [None] * n,
                                                    categories=labels)
    frame[names["rejected"]] = np.zeros(n, dtype=bool) if rejected is None else np.asarray(rejected, dtype=bool)
    frame[names["note"]] = pd.Series(notes if notes is not None else [None] * n, index=frame.index, dtype="object")
    return frame


def full_frame(df: pd.DataFrame, events: list, labels: list[str], proba: np.ndarray | None) -> pd.DataFrame:
    """Every row: label columns (missing where ``events[i]`` is None) and the model's prediction."""
    from .strategies import confidence

    frame = df.copy()
    add_label_columns(frame, events, labels, column_names(df.columns))
    names = column_names(df.columns)
    if proba is not None:
        frame[names["prediction"]] = pd.Categorical.from_codes(proba.argmax(axis=1), categories=labels)
        frame[names["prediction_confidence"]] = confidence(proba)
    else:
        frame[names["prediction"]] = pd.Categorical([None] * len(frame), categories=labels)
        frame[names["prediction_confidence"]] = np.nan
    return frame


def add_label_columns(frame: pd.DataFrame, events: list, labels: list[str], names: dict | None = None) -> None:
    """Add label, labeled_at, annotator, source and confidence columns for ``events`` (None: unlabeled)."""
    names = names or {name: name for name in ADDED_COLUMNS}
    frame[names["label"]] = pd.Categorical([e.label if e else None for e in events], categories=labels)
    frame[names["labeled_at"]] = pd.to_datetime([e.at if e else None for e in events], utc=True, format="ISO8601")
    frame[names["annotator"]] = pd.Series([e.annotator if e else None for e in events], index=frame.index,
                                          dtype="object")
    frame[names["source"]] = pd.Series([e.source if e else None for e in events], index=frame.index, dtype="object")
    frame[names["confidence"]] = np.array([e.confidence if e and e.confidence is not None else np.nan
                                           for e in events], dtype=float)
