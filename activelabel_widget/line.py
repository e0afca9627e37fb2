"""The line of records to show next.

Three parts, taken in this order:

1. ``front``: records given back by undo (a stack: the last undone comes first);
2. the ranked line: positions in priority order, built from strategy scores in the background
   after each fit; taking from it moves a cursor (O(1) amortised, labeled records are passed over
   lazily);
3. ``back``: skipped records, oldest skip first ("put it back in the line").

Nothing here looks at the whole pool: building a ranked line is the caller's job, off the
click path.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Line", "RankedLine"]


@dataclass(frozen=True)
class RankedLine:
    """Positions in priority order with a short reason each ("confidence 0.12 (hybrid)")."""

    positions: np.ndarray
    reasons: list
    strategy: str

    @classmethod
    def empty(cls, strategy: str = "") -> "RankedLine":
        return cls(np.empty(0, dtype=np.int64), [], strategy)


class Line:
    """Order of records to label; see the module docstring."""

    def __init__(self) -> None:
        self._front: list[tuple[int, str]] = []
        self._ranked = RankedLine.empty()
        self._cursor = 0
        self._back: OrderedDict[int, str] = OrderedDict()

    # -- feeding ---------------------------------------------------------------------------------
    def replace_ranked(self, ranked: RankedLine) -> None:
        """Swap in a freshly built ranking (after a fit or a refill)."""
        self._ranked = ranked
        self._cursor = 0

    def push_front(self, position: int, reason: str = "shown again after undo") -> None:
        """Put a record at the head of the line (undo)."""
        self._back.pop(position, None)
        self._front.append((position, reason))

    def push_back(self, position: int, reason: str = "skipped earlier") -> None:
        """Put a record at the back of the line (skip)."""
        self._back.pop(position, None)
        self._back[position] = reason

    def remove_back(self, position: int) -> None:
        """Take a record out of the skipped part (its skip was undone or it was labeled)."""
        self._back.pop(position, None)

    # -- taking ----------------------------------------------------------------------------------
    def pop(self, is_open: Callable[[int], bool]) -> tuple[int, str] | None:
        """The next record that ``is_open`` (unlabeled, not on the card), and why it was picked."""
        while self._front:
            position, reason = self._front.pop()
            if is_open(position):
                return position, reason
        positions = self._ranked.positions
        while self._cursor < len(positions):
            index = self._cursor
            self._cursor += 1
            position = int(positions[index])
            if position not in self._back and is_open(position):
                return position, self._ranked.reasons[index]
        while self._back:
            position, reason = self._back.popitem(last=False)
            if is_open(position):
                return position, reason
        return None

    def peek(self, k: int, is_open: Callable[[int], bool]) -> list[int]:
        """The next ``k`` open records in the order :meth:`pop` would give them, without taking them."""
        return [position for position, _ in self.peek_with_reasons(k, is_open)]

    def peek_with_reasons(self, k: int, is_open: Callable[[int], bool]) -> list[tuple[int, str]]:
        """:meth:`peek` with the reason each record was picked, as :meth:`pop` would give it."""
        found: list[tuple[int, str]] = []
        if k <= 0:
            return found
        seen: set[int] = set()

        def consider(position: int, reason: str) -> bool:
            if position not in seen and is_open(position):
                seen.add(position)
                found.append((position, reason))
            return len(found) >= k

        for position, reason in reversed(self._front):
            if consider(position, reason):
                return found
        ranked = self._ranked
        for index in range(self._cursor, len(ranked.positions)):
            position = int(ranked.positions[index])
            if position not in self._back and consider(position, ranked.reasons[index]):
                return found
        for position, reason in self._back.items():
            if consider(position, reason):
                return found
        return found

    def remaining_ranked(self) -> int:
        """How many ranked positions are left before the line needs a refill."""
        return len(self._ranked.positions) - self._cursor

    def skipped_count(self) -> int:
        """How many records wait in the skipped part (O(1), for the progress line)."""
        return len(self._back)

    def skipped(self) -> list[int]:
        """Skipped records, oldest skip first."""
        return list(self._back)
