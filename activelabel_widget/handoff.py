"""Plain pandas out: the frames a downstream cell reads (``labeled``, ``to_frame()``).

Pure functions over the user's DataFrame, the label events in force and the model's
probabilities; the session only gathers those under its lock.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["labeled_frame", "full_frame", "add_label_columns"]


def labeled_frame(df: pd.DataFrame, positions: np.ndarray, events: list, labels: list[str]) -> pd.DataFrame:
    """The rows at ``positions`` with their label columns: label, labeled_at, annotator, source, confidence."""
    frame = df.iloc[positions].copy()
    add_label_columns(frame, events, labels)
    return frame


def full_frame(df: pd.DataFrame, events: list, labels: list[str], proba: np.ndarray | None) -> pd.DataFrame:
    """Every row: label columns (missing where ``events[i]`` is None) and the model's prediction."""
    from .strategies import confidence

    frame = df.copy()
    add_label_columns(frame, events, labels)
    if proba is not None:
        frame["prediction"] = pd.Categorical.from_codes(proba.argmax(axis=1), categories=labels)
        frame["prediction_confidence"] = confidence(proba)
    else:
        frame["prediction"] = pd.Categorical([None] * len(frame), categories=labels)
        frame["prediction_confidence"] = np.nan
    return frame


def add_label_columns(frame: pd.DataFrame, events: list, labels: list[str]) -> None:
    """Add label, labeled_at, annotator, source and confidence columns for ``events`` (None: unlabeled)."""
    frame["label"] = pd.Categorical([e.label if e else None for e in events], categories=labels)
    frame["labeled_at"] = pd.to_datetime([e.at if e else None for e in events], utc=True, format="ISO8601")
    frame["annotator"] = pd.Series([e.annotator if e else None for e in events], index=frame.index, dtype="object")
    frame["source"] = pd.Series([e.source if e else None for e in events], index=frame.index, dtype="object")
    frame["confidence"] = np.array([e.confidence if e and e.confidence is not None else np.nan for e in events], dtype=float)
