"""Label events and the one state machine that applies them.

A store is an append-only log of events: ``label``, ``skip``, ``reject`` (the record is unusable:
out of training and out of the line), ``note`` (free text on a record) and ``undo``.
:class:`LabelState` turns that log into the current state (the label or rejection in force per
record, the skipped records in skip order, the note per record, and the undo history). The live session and a restart apply events through the
same :meth:`LabelState.apply`, so a restart can never disagree with what the user saw.

Events that share a ``batch`` (e.g. many weak labels promoted at once) form one undo step.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import threading
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from .errors import StoreError

__all__ = ["LabelEvent", "LabelState", "ACTIONS"]

ACTIONS = ("label", "skip", "undo", "reject", "note")


class LabelEvent(NamedTuple):
    """One row of the log (immutable)."""

    id: int
    at: str
    action: str
    key: str
    label: str | None = None
    annotator: str | None = None
    source: str | None = None
    confidence: float | None = None
    undoes: int | None = None
    batch: int | None = None
    content: int | None = None  # hash of the record's content when it was labeled (uint64)
    note: str | None = None  # the text of a "note" event


_SNAPSHOT_VERSION = 1
_TEXT_FIELDS = ("at", "action", "key", "label", "annotator", "source", "note")
_INT_FIELDS = ("id", "undoes", "batch", "content")


def _column(packed: dict, texts: dict, name: str, rows=None) -> list:
    """One field of the packed events (at ``rows``, or all) as a list, None where absent."""
    if name not in packed:  # a field newer than the snapshot: none of its events has it
        return [None] * (len(packed["id"]) if rows is None else len(rows))
    if name in texts:
        uniques = np.empty(len(texts[name]), dtype=object)
        uniques[:] = texts[name]
        codes = packed[name] if rows is None else packed[name][rows]
        return uniques[codes].tolist()
    values = packed[name] if rows is None else packed[name][rows]
    if name == "confidence":
        missing = np.isnan(values)
    else:
        missing = packed[name + "_none"] if rows is None else packed[name + "_none"][rows]
    if not missing.any():
        return values.tolist()
    values = values.astype(object)
    values[missing] = None
    return values.tolist()


@contextlib.contextmanager
def paused_gc():
    """Build many small objects without the cycle collector rescanning them all (5x faster at 1M)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


#: One undo step: ``[(event, previous label event in force or None), ...]`` in the order applied.
Step = list


def _is(current: LabelEvent | None, event: LabelEvent) -> bool:
    """Whether ``current`` (the event in force for a record) is ``event``."""
    return current is not None and current.id == event.id


class LabelState:
    """The state a sequence of events describes; see the module docstring.

    Attributes
    ----------
    labels : dict
        Record key -> the label event in force.
    rejected : dict
        Record key -> the reject event in force (a record has a label or a rejection, not both).
    skipped : dict
        Record key -> its skip event, oldest skip first (insertion order).
    notes : dict
        Record key -> its latest note event (an empty note clears it).
    history : list of Step
        The undo stack, newest step last.
    """

    def __init__(self) -> None:
        self.labels: dict[str, LabelEvent] = {}
        self.rejected: dict[str, LabelEvent] = {}
        self.skipped: dict[str, LabelEvent] = {}
        self.notes: dict[str, LabelEvent] = {}
        self.history: list[Step] = []
        #: Ids of the events undos took back since this state was built (not kept in a snapshot).
        self.undone_ids: set[int] = set()

    def apply(self, event: LabelEvent) -> tuple[str, ...]:
        """Apply one event; return the keys whose label or skip state it changed.

        Raises
        ------
        StoreError
            An undo that does not take back the newest step (a log edited by hand).
        """
        if event.action in ("label", "reject"):
            # the event in force before (a label or a rejection) comes back on undo
            pair = (event, self.labels.pop(event.key, None) or self.rejected.pop(event.key, None))
            (self.labels if event.action == "label" else self.rejected)[event.key] = event
            self.skipped.pop(event.key, None)
            if event.batch is not None and self.history and self.history[-1][-1][0].batch == event.batch:
                self.history[-1].append(pair)
            else:
                self.history.append([pair])
            return (event.key,)
        if event.action == "skip":
            self.skipped.pop(event.key, None)
            self.skipped[event.key] = event
            self.history.append([(event, None)])
            return (event.key,)
        if event.action == "note":
            pair = (event, self.notes.get(event.key))
            if event.note:
                self.notes[event.key] = event
            else:
                self.notes.pop(event.key, None)
            self.history.append([pair])
            return (event.key,)
        if event.action == "undo":
            step = self.history.pop(self._undoable(event))
            self.undone_ids.update(undone.id for undone, _ in step)
            for undone, previous in reversed(step):
                if undone.action in ("label", "reject"):
                    if not (_is(self.labels.get(undone.key), undone) or _is(self.rejected.get(undone.key), undone)):
                        self._bypass(undone, previous)  # another annotator answered the record since: theirs stays
                        continue
                    self.labels.pop(undone.key, None)
                    self.rejected.pop(undone.key, None)
                    if previous is not None:
                        (self.labels if previous.action == "label" else self.rejected)[undone.key] = previous
                elif undone.action == "note":
                    if not _is(self.notes.get(undone.key), undone) and undone.note:
                        self._bypass(undone, previous)
                        continue
                    if previous is None or not previous.note:
                        self.notes.pop(undone.key, None)
                    else:
                        self.notes[undone.key] = previous
                elif _is(self.skipped.get(undone.key), undone):
                    self.skipped.pop(undone.key, None)
            return tuple(dict.fromkeys(undone.key for undone, _ in step))
        raise StoreError(f"The store has an event with unknown action {event.action!r}; it was edited by another program.")

    def _undoable(self, undo: LabelEvent) -> int:
        """Where in the history the step ``undo`` takes back is: the newest step, or, in a log several
        annotators write (a team store), the newest step of the undo's annotator.

        Raises
        ------
        StoreError
            Neither: the log was edited by hand.
        """
        if self.history and self.history[-1][-1][0].id == undo.undoes:
            return len(self.history) - 1
        for index in range(len(self.history) - 1, -1, -1):
            last = self.history[index][-1][0]
            if last.annotator == undo.annotator and undo.annotator is not None:
                if last.id == undo.undoes:
                    return index
                break
        raise StoreError(
            f"The store's undo event {undo.id} does not match its history; the file was edited by hand "
            "or by another program. Restore it from a backup or start a new store."
        )

    def _bypass(self, undone: LabelEvent, previous: LabelEvent | None) -> None:
        """``undone`` was taken back after a later event replaced it: that event's own undo must bring
        back what came before ``undone``, not ``undone`` itself."""
        for step in reversed(self.history):
            for index, (later, replaced) in enumerate(step):
                if replaced is not None and replaced.id == undone.id:
                    step[index] = (later, previous)
                    return

    def apply_all(self, events: Iterable[LabelEvent]) -> None:
        """Apply events in log order."""
        with paused_gc():
            for event in events:
                self.apply(event)

    def last_step(self, annotator: str | None = None) -> Step | None:
        """The step :meth:`apply` would take back on the next undo, or None; with ``annotator``,
        that annotator's newest step (a team store: an undo takes back only your own)."""
        if annotator is None:
            return self.history[-1] if self.history else None
        return next((step for step in reversed(self.history) if step[-1][0].annotator == annotator), None)

    def to_bytes(self) -> bytes:
        """The state as bytes: numeric columns as arrays, texts as JSON (nothing in them can run code)."""
        referenced: dict[int, LabelEvent] = {}
        for event in self.labels.values():
            referenced[event.id] = event
        for table in (self.skipped, self.rejected, self.notes):
            for event in table.values():
                referenced[event.id] = event
        for step in self.history:
            for event, previous in step:
                referenced[event.id] = event
                if previous is not None:
                    referenced[previous.id] = previous
        events = sorted(referenced.values())
        self.unpack()
        arrays = {}
        texts = {}
        for name in _TEXT_FIELDS:
            values = [getattr(e, name) for e in events]
            uniques = {value: code for code, value in enumerate(dict.fromkeys(values))}
            texts[name] = list(uniques)
            arrays[name] = np.fromiter(map(uniques.__getitem__, values), dtype=np.int32, count=len(values))
        for name in _INT_FIELDS:
            values = [getattr(e, name) for e in events]
            arrays[name + "_none"] = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
            arrays[name] = np.array([0 if v is None else v for v in values], dtype=np.uint64 if name == "content" else np.int64)
        arrays["confidence"] = np.array([np.nan if e.confidence is None else e.confidence for e in events], dtype=float)
        arrays["labels"] = np.array([e.id for e in self.labels.values()], dtype=np.int64)
        arrays["skipped"] = np.array([e.id for e in self.skipped.values()], dtype=np.int64)
        arrays["rejected"] = np.array([e.id for e in self.rejected.values()], dtype=np.int64)
        arrays["notes"] = np.array([e.id for e in self.notes.values()], dtype=np.int64)
        arrays["step_sizes"] = np.array([len(step) for step in self.history], dtype=np.int64)
        arrays["step_events"] = np.array([e.id for step in self.history for e, _ in step], dtype=np.int64)
        arrays["step_previous"] = np.array([-1 if p is None else p.id for step in self.history for _, p in step],
                                           dtype=np.int64)
        arrays["texts"] = np.frombuffer(json.dumps(texts).encode(), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, version=np.array([_SNAPSHOT_VERSION]), **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "LabelState":
        """Read :meth:`to_bytes` back. Raises ValueError, KeyError or TypeError on anything malformed.

        Only the columns are read here; the event objects are built on first use of
        :attr:`labels`, :attr:`skipped` or :attr:`history` (or :meth:`unpack`), so opening a store
        with a million labels and matching them to the data (:meth:`in_force`) stays fast.
        """
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            if int(stored["version"][0]) != _SNAPSHOT_VERSION:
                raise ValueError("unknown snapshot version")
            packed = {name: stored[name] for name in stored.files}
        texts = json.loads(packed.pop("texts").tobytes())
        n = len(packed["id"])
        for name in _TEXT_FIELDS:
            if name not in packed and name not in texts:
                continue  # a field newer than the snapshot (read as None)
            if len(packed[name]) != n or (n and not 0 <= packed[name].min() <= packed[name].max() < len(texts[name])):
                raise ValueError(f"snapshot column {name} does not match its texts")
        state = cls.__new__(cls)
        state.undone_ids = set()
        state._packed = (packed, texts)
        state._unpack_lock = threading.Lock()
        return state

    def __getattr__(self, name):
        # only reached while labels / skipped / history are still packed (see from_bytes)
        if name in ("labels", "rejected", "skipped", "notes", "history") and "_packed" in self.__dict__:
            self.unpack()
            return self.__dict__[name]
        raise AttributeError(name)

    def unpack(self) -> None:
        """Build the event objects of a state read by :meth:`from_bytes` (once; thread-safe)."""
        lock = self.__dict__.get("_unpack_lock")
        if lock is None:
            return
        with lock:
            if "_packed" not in self.__dict__:
                return
            packed, texts = self._packed
            with paused_gc():
                events = list(map(LabelEvent._make, zip(*(_column(packed, texts, name) for name in LabelEvent._fields))))
                by_id = dict(zip(packed["id"].tolist(), events))
                self.labels = {event.key: event for event in map(by_id.__getitem__, packed["labels"].tolist())}
                self.skipped = {event.key: event for event in map(by_id.__getitem__, packed["skipped"].tolist())}
                empty = np.zeros(0, dtype=np.int64)  # snapshots from before rejections and notes have neither
                self.rejected = {event.key: event for event in map(by_id.__getitem__, packed.get("rejected", empty).tolist())}
                self.notes = {event.key: event for event in map(by_id.__getitem__, packed.get("notes", empty).tolist())}
                by_id[-1] = None
                pairs = list(zip(map(by_id.__getitem__, packed["step_events"].tolist()),
                                 map(by_id.__getitem__, packed["step_previous"].tolist())))
                ends = np.cumsum(packed["step_sizes"]).tolist()
                self.history = [pairs[start:end] for start, end in zip([0] + ends[:-1], ends)]
            del self.__dict__["_packed"]

    def recent_steps(self, n: int) -> list[tuple[int, LabelEvent, LabelEvent | None]]:
        """The newest ``n`` undo steps, newest first, as ``(events in the step, its last event, the
        label event in force before that event or None)``; fast when packed (no event objects built
        for the whole log, only for these steps' last events)."""
        packed = self.__dict__.get("_packed")
        if packed is None:
            return [(len(step), step[-1][0], step[-1][1]) for step in reversed(self.history[-n:])] if n > 0 else []
        columns, texts = packed
        sizes = columns["step_sizes"]
        if n <= 0 or not len(sizes):
            return []
        last_rows = np.cumsum(sizes)[-n:][::-1] - 1  # each step's last pair, newest step first
        ids = columns["step_events"][last_rows]
        previous_ids = columns["step_previous"][last_rows]

        def events_for(event_ids):
            rows = np.searchsorted(columns["id"], event_ids)
            fields = [_column(columns, texts, name, rows) for name in LabelEvent._fields]
            return [LabelEvent._make(values) for values in zip(*fields)]

        events = events_for(ids)
        has_previous = previous_ids >= 0
        previous = iter(events_for(previous_ids[has_previous]))
        return [(int(size), event, next(previous) if flag else None)
                for size, event, flag in zip(sizes[-n:][::-1].tolist(), events, has_previous.tolist())]

    def skipped_keys(self) -> list:
        """Keys of the skipped records, oldest skip first (fast when packed)."""
        packed = self.__dict__.get("_packed")
        if packed is None:
            return list(self.skipped)
        columns, texts = packed
        return _column(columns, texts, "key", np.searchsorted(columns["id"], columns["skipped"]))

    def rejected_in_force(self) -> tuple[list, list]:
        """``(keys, contents)`` of the rejections in force (fast when packed)."""
        packed = self.__dict__.get("_packed")
        if packed is None:
            return [e.key for e in self.rejected.values()], [e.content for e in self.rejected.values()]
        columns, texts = packed
        if "rejected" not in columns:
            return [], []
        rows = np.searchsorted(columns["id"], columns["rejected"])
        return _column(columns, texts, "key", rows), _column(columns, texts, "content", rows)

    def in_force(self) -> tuple[list, list, list, list]:
        """``(keys, labels, sources, contents)`` of the labels in force, as lists in one order (fast when packed)."""
        packed = self.__dict__.get("_packed")
        if packed is None:
            events = list(self.labels.values())
            return ([e.key for e in events], [e.label for e in events], [e.source for e in events],
                    [e.content for e in events])
        columns, texts = packed
        rows = np.searchsorted(columns["id"], columns["labels"])
        return tuple(_column(columns, texts, name, rows) for name in ("key", "label", "source", "content"))

    @classmethod
    def replay(cls, events: Iterable[LabelEvent]) -> "LabelState":
        """The state after applying ``events`` to an empty log."""
        state = cls()
        state.apply_all(events)
        return state
