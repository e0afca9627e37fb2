"""Label events and the one state machine that applies them.

A store is an append-only log of events: ``label``, ``skip`` and ``undo``. :class:`LabelState`
turns that log into the current state (the label in force per record, the skipped records in
skip order, and the undo history). The live session and a restart apply events through the
same :meth:`LabelState.apply`, so a restart can never disagree with what the user saw.

Events that share a ``batch`` (e.g. many weak labels promoted at once) form one undo step.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from .errors import StoreError

__all__ = ["LabelEvent", "LabelState", "ACTIONS"]

ACTIONS = ("label", "skip", "undo")


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


#: One undo step: ``((event, previous label event in force or None), ...)`` in the order applied.
Step = tuple


class LabelState:
    """The state a sequence of events describes; see the module docstring.

    Attributes
    ----------
    labels : dict
        Record key -> the label event in force.
    skipped : dict
        Record key -> its skip event, oldest skip first (insertion order).
    history : list of Step
        The undo stack, newest step last.
    """

    def __init__(self) -> None:
        self.labels: dict[str, LabelEvent] = {}
        self.skipped: dict[str, LabelEvent] = {}
        self.history: list[Step] = []

    def apply(self, event: LabelEvent) -> tuple[str, ...]:
        """Apply one event; return the keys whose label or skip state it changed.

        Raises
        ------
        StoreError
            An undo that does not take back the newest step (a log edited by hand).
        """
        if event.action == "label":
            pair = (event, self.labels.get(event.key))
            self.labels[event.key] = event
            self.skipped.pop(event.key, None)
            if event.batch is not None and self.history and self.history[-1][-1][0].batch == event.batch:
                self.history[-1] = self.history[-1] + (pair,)
            else:
                self.history.append((pair,))
            return (event.key,)
        if event.action == "skip":
            self.skipped.pop(event.key, None)
            self.skipped[event.key] = event
            self.history.append(((event, None),))
            return (event.key,)
        if event.action == "undo":
            if not self.history or self.history[-1][-1][0].id != event.undoes:
                raise StoreError(
                    f"The store's undo event {event.id} does not match its history; the file was edited by hand "
                    "or by another program. Restore it from a backup or start a new store."
                )
            step = self.history.pop()
            for undone, previous in reversed(step):
                if undone.action == "label":
                    if previous is None:
                        self.labels.pop(undone.key, None)
                    else:
                        self.labels[undone.key] = previous
                else:
                    self.skipped.pop(undone.key, None)
            return tuple(dict.fromkeys(undone.key for undone, _ in step))
        raise StoreError(f"The store has an event with unknown action {event.action!r}; it was edited by another program.")

    def apply_all(self, events: Iterable[LabelEvent]) -> None:
        """Apply events in log order."""
        for event in events:
            self.apply(event)

    def last_step(self) -> Step | None:
        """The step :meth:`apply` would take back on the next undo, or None."""
        return self.history[-1] if self.history else None

    @classmethod
    def replay(cls, events: Iterable[LabelEvent]) -> "LabelState":
        """The state after applying ``events`` to an empty log."""
        state = cls()
        state.apply_all(events)
        return state
