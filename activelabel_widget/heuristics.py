"""A session's committee of heuristics: the user's labeling functions plus the weak classifiers.

Labeling functions are applied once when added (their votes are cached as a label matrix); the
weak classifiers vote from the session's latest probabilities, one column per committee member,
where they are confident (:func:`~activelabel_widget.weak.model_votes`). Names are saved in the
store so that, after a restart, the summary lists heuristics that have not been added again.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd

from . import weak
from .errors import LabelError
from .session import LabelingSession

__all__ = ["Heuristics"]


class _ConsoleProgress:
    """A progress line for row-wise heuristics, shown only when they take more than a second."""

    def __init__(self, *, after: float = 1.0, every: float = 0.25):
        self.started = time.monotonic()
        self.after, self.every, self.last = after, every, 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.started < self.after or (now - self.last < self.every and done < total):
            return
        self.last = now
        sys.stderr.write(f"\rapplying row-wise heuristics: {done:,}/{total:,} rows ({done / max(total, 1):.0%})")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


class Heuristics:
    """Heuristics of one session; see the module docstring."""

    def __init__(self, session: LabelingSession, *, vote_threshold: float = weak.DEFAULT_VOTE_THRESHOLD):
        self.session = session
        self.vote_threshold = vote_threshold
        self._functions: dict[str, weak.LabelingFunction] = {}
        self._columns: dict[str, np.ndarray] = {}  # votes as label codes of the label list they were made with
        self._made_with: dict[str, tuple] = {}  # name -> that label list
        self.errors: dict[str, str] = {}

    def add(self, *functions, progress=None) -> None:
        """Apply labeling functions to every row and keep their votes; a same name replaces.

        A function that raises is reported (a warning and the summary's ``error`` column) with
        its error and row count; the others still apply.
        """
        self._single_label_only()
        for function in functions:
            if not isinstance(function, weak.LabelingFunction):
                raise TypeError(f"add_heuristic takes functions made with @labeling_function, keywords() or regex(); "
                                f"got {type(function).__name__}. Decorate it with @labeling_function(label=...).")
        result = weak.apply_heuristics(list(functions), self.session.dataset.df, self.session.labels,
                                       progress=progress or _ConsoleProgress())
        for position, name in enumerate(result.names):
            self._functions[name] = functions[position]
            self._columns[name] = result.matrix[:, position]
            self._made_with[name] = tuple(self.session.labels)
            self.errors.pop(name, None)
            self.session.remember_heuristic(name)
        for name, message in result.errors.items():
            self.errors[name] = message
            warnings.warn(f"heuristic {name!r} failed: {message}", stacklevel=3)

    def _votes(self) -> dict[str, np.ndarray]:
        """Each function's votes as codes of the label list now: a label added or removed since they were
        made moves them by name, and a vote for a label that is gone becomes an abstention."""
        labels = tuple(self.session.labels)
        votes = {}
        for name, column in self._columns.items():
            made_with = self._made_with.get(name, labels)
            if made_with == labels:
                votes[name] = column
                continue
            code_now = np.array([labels.index(label) if label in labels else -1 for label in made_with] + [-1],
                                dtype=np.int16)
            votes[name] = code_now[np.where(column >= 0, column, len(made_with))]
        return votes

    def _single_label_only(self) -> None:
        if self.session.multi_label:
            raise LabelError("Labeling heuristics and weak labels work on single labels only; this labeler is "
                             "multi-label (multi_label=True).")

    def matrix(self) -> tuple[np.ndarray, list[str]]:
        """The label matrix (n, h): labeling functions, then one column per weak classifier."""
        self._single_label_only()
        session = self.session
        current = self._votes()
        names = list(current)
        columns = [current[name] for name in names]
        # on the rows it was trained on, a model votes with its out-of-fold probabilities:
        # graded on its own training labels it would look perfect and be trusted too much
        proba, each = session.model_proba(held_out=True)
        if proba is not None:
            members = [proba] if each is None else list(each)
            for number, member in enumerate(members):
                names.append("model" if len(members) == 1 else f"model[{number}]")
                scored = np.isfinite(member).all(axis=1)
                votes = np.full(len(member), -1, dtype=np.int16)
                votes[scored] = weak.model_votes(member[scored], threshold=self.vote_threshold)
                columns.append(votes)
        n = len(session.dataset)
        matrix = np.stack(columns, axis=1).astype(np.int16) if columns else np.empty((n, 0), dtype=np.int16)
        return matrix, names

    def hand_codes(self) -> np.ndarray:
        return self.session.hand_codes()

    def summary(self) -> pd.DataFrame:
        """One row per heuristic: labels voted, coverage, overlaps, conflicts, checked votes, accuracy, error."""
        matrix, names = self.matrix()
        labels = self.session.labels
        table = weak.summarize(matrix, names, hand_codes=self.hand_codes(), n_classes=len(labels), labels=labels)
        table["error"] = [self.errors.get(name, "") for name in table.index]
        forgotten = [name for name in self.session.known_heuristics() if name not in table.index]
        if forgotten:
            missing = pd.DataFrame(index=pd.Index(forgotten, name=table.index.name))
            missing["error"] = "known from an earlier session: add it again with add_heuristic to use it"
            table = pd.concat([table, missing])
        return table

    def weak_labels(self, *, method: str = "weighted") -> pd.DataFrame:
        """Every row: weak_label, weak_confidence and votes (the number of heuristics that voted)."""
        matrix, _ = self.matrix()
        labels = self.session.labels
        index = self.session.dataset.df.index
        if matrix.shape[1] == 0:
            return pd.DataFrame({"weak_label": pd.Categorical([None] * len(index), categories=labels),
                                 "weak_confidence": np.nan, "votes": 0}, index=index)
        result = weak.aggregate(matrix, n_classes=len(labels), hand_codes=self.hand_codes(), method=method)
        return pd.DataFrame({
            "weak_label": pd.Categorical.from_codes(result.codes, categories=labels),
            "weak_confidence": result.confidence,
            "votes": result.votes,
        }, index=index)

    def promote(self, *, min_confidence: float = 0.9, method: str = "weighted") -> int:
        """Save weak labels at or above ``min_confidence`` as labels with source "weak".

        Rows with a hand label or a rejection are never touched. Returns how many rows were promoted.
        """
        if not 0.0 <= min_confidence <= 1.0:
            raise LabelError(f"min_confidence must be in [0, 1], got {min_confidence}.")
        matrix, _ = self.matrix()
        if matrix.shape[1] == 0:
            return 0
        labels = self.session.labels
        hand = self.hand_codes()
        result = weak.aggregate(matrix, n_classes=len(labels), hand_codes=hand, method=method)
        chosen = np.flatnonzero(weak.promote(result, hand_codes=hand, min_confidence=min_confidence))
        return self.session.label_many(chosen, [labels[c] for c in result.codes[chosen]],
                                       source="weak", confidence=result.confidence[chosen])

    def votes_on(self, position: int) -> list:
        """``[[name, label or None], ...]`` for one row, for the card."""
        labels = self.session.labels
        out = []
        for name, column in self._columns.items():
            made_with = self._made_with.get(name, labels)
            label = None if column[position] < 0 else made_with[int(column[position])]
            out.append([name, label if label in labels else None])  # a vote for a removed label abstains
        return out

    def missing_label_votes(self) -> tuple[np.ndarray, list[str]] | None:
        """Where the labeling functions point to labels that have no hand label yet.

        A class nobody has labeled is invisible to the model (it cannot predict what it has never
        seen), so the line looks for it through the heuristics' votes.

        Returns
        -------
        (share, labels) or None
            ``share`` (n,) in [0, 1]: the share of labeling functions that vote, on each row, for a
            label without a hand label; ``labels``: those labels' names. None when every label has
            an example or no function votes for a missing one.
        """
        if self.session.multi_label or not self._columns:
            return None
        counts = self.session.label_counts()
        missing = np.flatnonzero(counts == 0)
        if missing.size == 0:
            return None
        matrix = np.stack(list(self._votes().values()), axis=1)
        hits = np.isin(matrix, missing)
        if not hits.any():
            return None
        voted = np.unique(matrix[hits])
        return hits.sum(axis=1) / matrix.shape[1], [self.session.labels[int(code)] for code in voted]

    def conflicts(self) -> np.ndarray | None:
        """(n,) in [0, 1]: how much the heuristics disagree on each row, or None without heuristics."""
        matrix, _ = self.matrix()
        return weak.conflict_scores(matrix) if matrix.shape[1] >= 2 else None
