"""The card payloads of the records the page holds or will hold next, prepared before they are needed.

Preparing an image record (decode, scale down, encode as PNG or JPEG) takes 10-50 ms. Done on the
answer's path, it delayed every top-up of the page's line by that much and, at 20 presses a second
on a loaded machine, let the page run out of records. The line is known ahead (the session's
ranking only changes with a fit), so a worker thread prepares the records after it while the
labeler looks at the card; the answer then finds them ready. The imaging library drops the
interpreter lock while it decodes, scales and encodes, so that work runs beside the answers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

__all__ = ["PayloadCache"]

#: A worker with nothing to prepare for this long ends (and lets go of the data); the next
#: :meth:`PayloadCache.prepare` starts another.
IDLE_SECONDS = 30.0


class PayloadCache:
    """Payloads by row position, the most recently used kept, with a worker that prepares ahead.

    Parameters
    ----------
    payload : callable
        ``payload(position)`` builds one record's payload (``Dataset.payload``); it may run on
        the caller's thread or on the worker's, so it must only read.
    capacity : int
        How many payloads to keep: the longest line the page holds plus what is prepared after it.
    """

    def __init__(self, payload: Callable[[int], object], capacity: int):
        self._payload = payload
        self._capacity = capacity
        self._lock = threading.Condition()
        self._kept: OrderedDict[int, object] = OrderedDict()
        self._wanted: list[int] = []
        self._preparing: int | None = None  # the position the worker is preparing now
        self._worker: threading.Thread | None = None
        self._closed = False

    def get(self, position: int):
        """The payload of the record at ``position``: kept, waited for while the worker prepares
        it, or built now on the caller's thread."""
        with self._lock:
            while self._preparing == position:
                self._lock.wait()
            payload = self._kept.pop(position, None)
            if payload is not None:
                self._kept[position] = payload  # used last: kept longest
                return payload
        payload = self._payload(position)  # outside the lock: the worker goes on meanwhile
        self._keep(position, payload)
        return payload

    def prepare(self, positions: Iterable[int]) -> None:
        """Prepare these in the background, in this order (instead of what was asked before)."""
        if self._closed:
            return
        with self._lock:
            self._wanted = [int(p) for p in positions if int(p) not in self._kept][: self._capacity]
            if not self._wanted:
                return
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="activelabel-payloads", daemon=True)
                self._worker.start()
            self._lock.notify_all()

    def close(self) -> None:
        """End the worker (it finishes the payload in hand) and forget every payload."""
        with self._lock:
            self._closed = True
            self._wanted = []
            self._kept.clear()
            self._lock.notify_all()

    def __len__(self) -> int:
        return len(self._kept)

    def _keep(self, position: int, payload) -> None:
        with self._lock:
            self._keep_locked(position, payload)

    def _keep_locked(self, position: int, payload) -> None:
        if self._closed:
            return
        self._kept[position] = payload
        self._kept.move_to_end(position)
        while len(self._kept) > self._capacity:
            self._kept.popitem(last=False)

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._wanted and not self._closed:
                    if not self._lock.wait(IDLE_SECONDS) and not self._wanted:
                        self._worker = None  # idle: end; prepare() starts a new worker
                        return
                if self._closed:
                    self._worker = None
                    return
                position = self._wanted.pop(0)
                if position in self._kept:
                    continue
                self._preparing = position
            payload = None
            try:
                payload = self._payload(position)
            except Exception:  # noqa: BLE001 - the card's own path builds it again and says what failed
                pass
            finally:  # whatever happened, an answer waiting for this record stops waiting
                with self._lock:
                    if payload is not None:
                        self._keep_locked(position, payload)
                    self._preparing = None
                    self._lock.notify_all()
