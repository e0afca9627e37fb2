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
    previous = previous if previous is not None else [None] * n
    frame[names["previous_label"]] = (pd.Series(previous, index=frame.index, dtype="object") if labels is None
                                      else pd.Categorical(previous, categories=labels))
    frame[names["rejected"]] = np.zeros(n, dtype=bool) if rejected is None else np.asarray(rejected, dtype=bool)
    frame[names["note"]] = pd.Series(notes if notes is not None else [None] * n, index=frame.index, dtype="object")
    return frame


def full_frame(df: pd.DataFrame, positions: np.ndarray, events: list, labels: list[str],
               proba: np.ndarray | None) -> pd.DataFrame:
    """Every row: label columns (``events[i]`` at ``positions[i]``, missing elsewhere) and the model's prediction."""
    from .strategies import confidence

    frame = df.copy()
    add_label_columns(frame, events, labels, column_names(df.columns), positions=positions)
    names = column_names(df.columns)
    if proba is not None:
        scored = np.isfinite(proba).all(axis=1)  # a fit on a sample leaves the other rows unscored (NaN)
        frame[names["prediction"]] = pd.Categorical.from_codes(np.where(scored, proba.argmax(axis=1), -1),
                                                               categories=labels)
        frame[names["prediction_confidence"]] = np.where(scored, confidence(proba), np.nan)
    else:
        frame[names["prediction"]] = pd.Categorical([None] * len(frame), categories=labels)
        frame[names["prediction_confidence"]] = np.nan
    return frame


def add_label_columns(frame: pd.DataFrame, events: list, labels: list[str], names: dict | None = None, *,
                      positions: np.ndarray | None = None) -> None:
    """Add label, labeled_at, annotator, source and confidence columns: ``events[i]`` (a label event, or
    None for no label) on row ``positions[i]`` (by default row ``i``), missing values on every other row.
    ``labels=None`` keeps the stored label texts as they are (label sets), not as a categorical.

    Only the labeled rows are visited, so a frame of a million rows with a few labels is quick.
    """
    names = names or {name: name for name in ADDED_COLUMNS}
    n = len(frame)
    rows = np.arange(len(events)) if positions is None else np.asarray(positions, dtype=np.int64)
    if labels is None:  # the stored texts as they are (label sets)
        texts = np.full(n, None, dtype=object)
        texts[rows] = [e.label if e else None for e in events]
        frame[names["label"]] = pd.Series(texts, index=frame.index, dtype="object")
    else:
        code_of = {label: code for code, label in enumerate(labels)}
        codes = np.full(n, -1, dtype=np.int64)
        codes[rows] = [code_of.get(e.label, -1) if e else -1 for e in events]
        frame[names["label"]] = pd.Categorical.from_codes(codes, categories=labels)
    at = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    given = [i for i, e in enumerate(events) if e]
    if given:
        stamps = pd.to_datetime([events[i].at for i in given], utc=True, format="ISO8601")
        at[rows[given]] = stamps.tz_convert(None).to_numpy(dtype="datetime64[ns]")
    frame[names["labeled_at"]] = pd.DatetimeIndex(at).tz_localize("UTC")
    for name in ("annotator", "source"):
        column = np.full(n, None, dtype=object)
        column[rows] = [getattr(e, name) if e else None for e in events]
        frame[names[name]] = pd.Series(column, index=frame.index, dtype="object")
    confidence = np.full(n, np.nan)
    confidence[rows] = [e.confidence if e and e.confidence is not None else np.nan for e in events]
    frame[names["confidence"]] = confidence
