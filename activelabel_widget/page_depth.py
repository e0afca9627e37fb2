"""How many records the kernel sends for the page's line: ``preload`` at least, more while it lags.

The page shows the next record the moment a key goes down and sends the answer; the kernel
tops the page's line up once it has handled that answer. Counted from the kernel's card, a line
of ``preload`` records leaves the page only ``preload`` minus the answers still on their way: a
kernel that lags (a fit holding the interpreter, a busy core) empties the page and the next
press finds nothing to show.

So every answer says how many earlier answers of the page were still on their way when it was
pressed (``behind``). Those are about as many as the page will have run ahead of the kernel's card
by the time the kernel's top-up reaches it, so the kernel sends ``preload + 2 × behind`` records
(:data:`LAG_FACTOR`: the lag may grow while the top-up is on its way). It keeps the most
``behind`` it saw over the last :data:`WINDOW_SECONDS`: a kernel that fell behind once (the next fit
will come) keeps that slack ready instead of growing only after the page ran dry again. At most
:data:`MOST_TIMES` × ``preload`` records (the page's memory stays a short line, never the pool).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

__all__ = ["PageDepth", "WINDOW_SECONDS", "LAG_FACTOR", "MOST_TIMES"]

#: How long a lag is remembered (seconds).
WINDOW_SECONDS = 60.0

#: Records sent per answer the page was behind: the lag may grow while the top-up is on its way (a
#: fit starting), and a kernel that lags once lags again, so the page gets twice its lead.
LAG_FACTOR = 2

#: The deepest line, as a multiple of ``preload``.
MOST_TIMES = 8


class PageDepth:
    """The number of records to send for the page's line (the card and the ones after it)."""

    def __init__(self, preload: int, clock: Callable[[], float] | None = None):
        self.preload = preload
        self._clock = clock or (lambda: time.monotonic())
        self._seen: deque[tuple[float, int]] = deque()  # (when, behind), behind falling from old to new

    @property
    def records(self) -> int:
        """``preload`` plus twice the most answers seen on their way in the last minute, capped."""
        self._forget(self._clock())
        behind = self._seen[0][1] if self._seen else 0
        return min(self.preload + LAG_FACTOR * behind, MOST_TIMES * self.preload)

    def note(self, behind) -> None:
        """An answer came that was pressed while ``behind`` earlier answers were on their way."""
        if isinstance(behind, bool) or not isinstance(behind, int) or behind <= 0:
            return  # a caller with no page line, or a page that does not say
        now = self._clock()
        self._forget(now)
        # a monotonic queue: an older, smaller lag can never be the window's most again
        while self._seen and self._seen[-1][1] <= behind:
            self._seen.pop()
        self._seen.append((now, behind))

    def _forget(self, now: float) -> None:
        while self._seen and now - self._seen[0][0] > WINDOW_SECONDS:
            self._seen.popleft()
