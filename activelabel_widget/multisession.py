"""``MultiLabelSession``: the labeling session for label sets (a record may carry several labels, or none).

Everything a :class:`~activelabel_widget.session.LabelingSession` does (the store, undo, restart,
the line, background rounds, corrections, skip, reject, notes, the recent answers) works the same;
only what an answer *is* changes. See :mod:`activelabel_widget.multilabel` for how sets are stored,
modelled (one-vs-rest) and ranked (by each record's least sure label).

What is single-label only, and refused with a clear error here: labeling heuristics and weak
labels, ``initial_labels=``, imports, review and label-issue detection, and changing the label list
mid-session (restarting with labels added to ``labels=`` works; sets with a dropped label are kept in
the store and reported, not applied).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import handoff
from .errors import LabelError
from .multilabel import (THRESHOLD, check_label_set, decode_set, encode_set, is_label_set, one_hot, one_vs_rest,
                         predicted_sets, record_confidence)
from .session import LabelingSession

__all__ = ["MultiLabelSession"]


class _KnownSets:
    """The stored label texts that apply in a session: label sets whose every name is one of its labels."""

    def __init__(self, labels):
        self._labels = set(labels)

    def __contains__(self, text) -> bool:
        return is_label_set(text) and all(name in self._labels for name in decode_set(text))


def _single_label_only(what: str) -> LabelError:
    return LabelError(f"{what} works on single labels only; this labeler is multi-label (multi_label=True).")


class MultiLabelSession(LabelingSession):
    """A :class:`~activelabel_widget.session.LabelingSession` whose answers are label sets.

    :meth:`label` takes a list of label names (``[]`` for none); :attr:`suggestion` is
    ``(stored set text, confidence)`` with the set of labels at probability 0.5 or more and the
    confidence of its least sure label, and :meth:`label_probabilities` gives each label's
    probability. :attr:`labeled` has a ``label`` column of lists; :meth:`one_hot` the same as one
    0/1 column per label.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"body": ["goal in extra time", "new phone launch", "tax on football tickets"]})
    >>> s = MultiLabelSession(df, text="body", labels=["sports", "tech", "money"], store=":memory:")
    >>> s.label(2, ["sports", "money"]); s.labeled["label"].tolist()
    [['sports', 'money']]
    >>> s.close()
    """

    multi_label = True

    def __init__(self, df: pd.DataFrame, *, labels, initial_labels=None, **options):
        if initial_labels is not None:
            raise _single_label_only("initial_labels=")
        super().__init__(df, labels=labels, **options)

    # -- how an answer is held -------------------------------------------------------------------
    def _init_answers(self, n: int) -> None:
        self._sets = np.zeros((n, len(self.labels)), dtype=bool)  # hand label set by position (rows with a code)

    def _wrap_estimators(self, estimators: list) -> list:
        return one_vs_rest(estimators)

    def _known_labels(self):
        return _KnownSets(self.labels)

    def _write_codes(self, positions: np.ndarray, labels: list) -> None:
        positions = np.asarray(positions, dtype=np.int64)
        given = np.fromiter((label is not None for label in labels), dtype=bool, count=len(labels))
        self._codes[positions] = np.where(given, 0, -1)  # 0: "has a hand answer" (the set is in _sets)
        self._hand_cache = None
        self._sets[positions] = one_hot([decode_set(label) if label is not None else () for label in labels],
                                        self.labels).astype(bool)

    def _training_targets(self, positions: np.ndarray) -> np.ndarray:
        return self._sets[positions].astype(np.int64)

    def _stored_label(self, label) -> str:
        if isinstance(label, str) and is_label_set(label):  # a suggestion's own text (accept)
            label = decode_set(label)
        return encode_set(check_label_set(label, self.labels), self.labels)

    def _stop_prediction(self, proba: np.ndarray) -> np.ndarray:
        return predicted_sets(proba).ravel().astype(np.int64)

    # -- reading ---------------------------------------------------------------------------------
    def label_counts(self) -> np.ndarray:
        """Hand label sets that include each label, (L,) ints."""
        with self._lock:
            return self._sets[self._hand_positions()].sum(axis=0).astype(np.int64)

    def hand_sets(self) -> np.ndarray:
        """(n, L) bool: each row's hand label set (all False where the row has none; see :meth:`hand_codes`)."""
        with self._lock:
            return self._sets.copy()

    def _suggestion_at(self, position: int):
        model = self._model
        p = None if model is None else self._proba_row(model, position)
        if p is None:
            return None
        names = [label for label, q in zip(self.labels, p) if q >= THRESHOLD]
        return encode_set(names, self.labels), float(record_confidence(p[None])[0])

    def label_probabilities(self, position: int) -> list[float] | None:
        """Each label's probability for the row at ``position`` under the latest fit (None before it)."""
        model = self._model
        p = None if model is None else self._proba_row(model, position)
        return None if p is None else [float(q) for q in p]

    def label_of(self, key) -> list[str] | None:
        """The label set in force on the row with index value ``key`` (``[]`` for an empty set), or None."""
        text = super().label_of(key)
        return None if text is None else decode_set(text)

    # -- hand-off --------------------------------------------------------------------------------
    @property
    def labeled(self) -> pd.DataFrame:
        """As for single labels, with ``label`` a list of names (``[]`` for a record given no label) and
        ``previous_label`` the list a correction replaced."""
        frame = self._labeled_frame(None)
        names = handoff.column_names(self.dataset.df.columns)
        for column in ("label", "previous_label"):
            frame[names[column]] = pd.Series([None if text is None else decode_set(text)
                                              for text in frame[names[column]].tolist()],
                                             index=frame.index, dtype="object")
        return frame

    def one_hot(self) -> pd.DataFrame:
        """The hand-labeled rows as one 0/1 column per label (rejected rows left out), indexed like the data."""
        with self._lock:
            positions = np.flatnonzero(self._codes >= 0)
            values = self._sets[positions].astype(np.int8)
        return pd.DataFrame(values, index=self.dataset.df.index[positions], columns=list(self.labels))

    def to_frame(self) -> pd.DataFrame:
        """Every row: the label set (missing where unlabeled), the model's predicted set and its confidence."""
        with self._lock:
            positions = np.flatnonzero(self._has_label)
            events = [self._state.labels[self.dataset.keys[p]] for p in positions]
            model = self._model
        names = handoff.column_names(self.dataset.df.columns)
        frame = handoff.full_frame(self.dataset.df, positions, events, None, None)
        column = np.full(len(frame), None, dtype=object)
        column[positions] = [decode_set(e.label) for e in events]
        frame[names["label"]] = pd.Series(column, index=frame.index, dtype="object")
        if model is not None:
            chosen = predicted_sets(model.proba)
            scored = np.isfinite(model.proba).all(axis=1)  # a fit on a sample leaves the other rows unscored
            labels = np.array(self.labels, dtype=object)
            frame[names["prediction"]] = pd.Series([labels[row].tolist() if ok else None
                                                    for row, ok in zip(chosen, scored)],
                                                   index=frame.index, dtype="object")
            frame[names["prediction_confidence"]] = np.where(scored, record_confidence(model.proba), np.nan)
        else:
            frame[names["prediction"]] = pd.Series([None] * len(frame), index=frame.index, dtype="object")
        return frame

    # -- single-label only -----------------------------------------------------------------------
    def label_many(self, positions, labels, *, source: str, confidence=None) -> int:
        raise _single_label_only("Saving many labels at once (weak labels, imports)")

    def import_labels(self, path, *, format: str | None = None) -> str:
        raise _single_label_only("import_labels()")

    def review(self, by: str = "issues", *, keys=None) -> int:
        raise _single_label_only("Review (al.review())")

    def label_issues(self) -> pd.DataFrame:
        frame = pd.DataFrame({"label": [], "suggested": [], "score": []})
        frame.attrs.update(rule="", reason="label issues are judged on single labels only (this labeler is multi-label)")
        return frame

    def add_label(self, name: str) -> None:
        raise _single_label_only("Adding a label mid-session")

    def remove_label(self, name: str) -> None:
        raise _single_label_only("Removing a label mid-session")

    def rename_label(self, old: str, new: str) -> int:
        raise _single_label_only("Renaming a label mid-session")
