"""Run background rounds (fit, score, rank) one at a time, never on the caller's thread.

A request while a round runs is folded into one more round after it, so a burst of labels
costs at most one extra fit. After a round the next one may wait (``rest``): with fits back to
back the card's answers get only what the rounds leave of the interpreter lock, so the session
lets a round that fitted be followed by a pause as long as itself (at most ``MAX_REST_SECONDS``);
:meth:`BackgroundRunner.hurry` ends a pause (the user asked for a fit). A round that exceeds the time limit is abandoned: the error callback
says so at once, its waiters resolve, and its result is dropped when it finally arrives. A Python
thread cannot be killed, so the abandoned job keeps running; the next round waits until it has
ended, so at most one job ever runs (a model always slower than the limit must not pile up
threads, each holding CPU and memory).

A round's job runs on a thread of lower OS priority than the kernel's (Linux), so that under a
loaded CPU the card's answers, the notebook server and the browser come first and the rounds
take what is left. The round's own thread keeps its priority and, while the job runs, serves the
job's progress reports and snapshots (:func:`on_host`) and then delivers the result: anything that takes a lock
the card's answers wait for runs there, never on the low-priority thread (a thread cannot raise
its priority back without privileges, so the two parts need two threads).
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from functools import partial

__all__ = ["BackgroundRunner", "RoundTimeout", "MAX_REST_SECONDS", "JOB_NICENESS", "on_host"]

#: The longest pause between two rounds (a slow model still refits every few seconds).
MAX_REST_SECONDS = 5.0

#: How much nicer than the kernel a round's job runs (Linux niceness, 0-19). At 10 a job gets about
#: a tenth of a core that the card's answers, the server or the browser want.
JOB_NICENESS = 10

_job_context = threading.local()  # on a job's thread: the queue of reports its host thread serves
_DONE = object()


class RoundTimeout(TimeoutError):
    """A background round took longer than the time limit."""


class BackgroundRunner:
    """Run ``job()`` in a daemon thread on request; deliver its result or error to callbacks.

    Parameters
    ----------
    job : callable
        Does one round; its return value goes to ``on_done``.
    on_done, on_error : callable
        Called from a background thread, before the request's future resolves, so a caller that
        waits on the future sees the new state.
    time_limit : float, optional
        Seconds after which a round is abandoned (``on_error(RoundTimeout(...))``). The next
        round starts only once the abandoned job has returned.
    rest : callable, optional
        ``rest(result, seconds)``: how long the next round waits after one that returned
        ``result`` in ``seconds`` (capped at :data:`MAX_REST_SECONDS`). None: it starts at once.
    """

    def __init__(self, job: Callable[[], object], *, on_done: Callable[[object], None],
                 on_error: Callable[[BaseException], None], time_limit: float | None = None,
                 rest: Callable[[object, float], float] | None = None):
        self._job = job
        self._on_done = on_done
        self._on_error = on_error
        self.time_limit = time_limit
        self._lock = threading.Lock()
        # the round whose outcome counts: its generation while its job runs, minus it while its
        # outcome is delivered, None when there is none (idle, abandoned or closed)
        self._running_generation: int | None = None
        # a job is executing, counted or abandoned; no other job starts until it returns
        self._job_active = False
        self._generation = 0
        self._pending: list[Future] = []
        self._running_waiters: list[Future] = []
        self._closed = False
        self._timer: threading.Timer | None = None
        self.rest = rest
        self._resting = False
        self._woken = threading.Event()  # set by close(): a rest ends at once

    @property
    def busy(self) -> bool:
        """True while a round runs, or while requests wait for one (even behind an abandoned job)."""
        with self._lock:
            return self._running_generation is not None or bool(self._pending) or self._resting

    def request(self) -> Future:
        """Ask for a round; the future resolves (to None) when a round started after this call ends."""
        future: Future = Future()
        with self._lock:
            if self._closed:
                future.set_result(None)
                return future
            self._pending.append(future)
            self._start_if_free_locked()
        return future

    def close(self) -> None:
        """Stop starting rounds; a running one finishes and is ignored. Never waits for a job.

        Every request not yet resolved resolves now, including those waiting on the running round
        (its result will be dropped, so nothing else would resolve them) and those waiting for an
        abandoned job to end.
        """
        with self._lock:
            self._closed = True
            self._generation += 1
            running = self._running_generation
            self._running_generation = None
            pending, self._pending = self._pending, []
            if running is not None and running > 0:  # not yet delivering: its waiters are ours to resolve
                pending += self._running_waiters
            self._running_waiters = []
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        self._woken.set()
        _resolve(pending)

    def _start_if_free_locked(self) -> None:
        """Start the folded round if requests wait and no round or job (abandoned or not) is in the way."""
        if (self._pending and not self._closed and self._running_generation is None and not self._job_active
                and not self._resting):
            self._start_locked()

    def _start_locked(self) -> None:
        self._generation += 1
        generation = self._generation
        self._running_generation = generation
        self._job_active = True
        waiters, self._pending = self._pending, []
        self._running_waiters = waiters
        worker = threading.Thread(target=self._run, args=(generation, waiters), name="activelabel-round", daemon=True)
        self._timer = None
        if self.time_limit is not None:
            # cancelled when the round ends: a timer left waiting would hold a thread for the
            # whole time limit after every round
            self._timer = threading.Timer(self.time_limit, self._expire, args=(generation, waiters))
            self._timer.daemon = True
            self._timer.start()
        worker.start()

    def _run(self, generation: int, waiters: list[Future]) -> None:
        started = time.monotonic()
        try:
            result = _run_nicer(self._job)
        except BaseException as error:  # delivered to on_error, which shows it to the user
            outcome = partial(self._on_error, error)
        else:
            outcome = partial(self._on_done, result)
        with self._lock:
            self._job_active = False
            if self._running_generation != generation:
                # abandoned (timed out or closed): drop the result, and start the round that
                # waited for this job to end (unless a timeout is still being delivered; its
                # end starts it then)
                self._start_if_free_locked()
                return
            self._running_generation = -generation  # delivering: not abandonable, still busy
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        pause = 0.0
        if self.rest is not None and outcome.func is self._on_done:
            pause = min(MAX_REST_SECONDS, max(0.0, float(self.rest(result, time.monotonic() - started))))
        self._deliver(waiters, outcome, rest=pause)

    def _expire(self, generation: int, waiters: list[Future]) -> None:
        with self._lock:
            if self._running_generation != generation:
                return  # the round ended (or the runner closed) while this timer fired
            self._running_generation = -generation  # delivering the timeout; the job runs on, ignored
            self._timer = None
        error = RoundTimeout(
            f"the background round took longer than {self.time_limit:g} s and was abandoned; the previous "
            "model stays in place (raise fit_timeout= if your model needs longer)"
        )
        self._deliver(waiters, partial(self._on_error, error))

    def _deliver(self, waiters: list[Future], outcome: Callable[[], None], rest: float = 0.0) -> None:
        try:
            outcome()
        finally:
            with self._lock:
                self._running_generation = None
                self._resting = rest > 0 and bool(self._pending) and not self._closed
                self._start_if_free_locked()
            _resolve(waiters)
        if self._resting:  # on this (the round's) thread: the caller never waits for a rest
            self._woken.wait(rest)
            with self._lock:
                self._resting = False
                if not self._closed:
                    self._woken.clear()
                self._start_if_free_locked()

    def hurry(self) -> None:
        """End a pause between rounds now (a round the user asked for starts at once)."""
        self._woken.set()


def on_host(callback: Callable[[], object], *, wait: bool = False) -> object:
    """Call ``callback`` on a round's host thread (at the kernel's priority) when called inside a
    round's job; anywhere else, now. For what takes a lock the card's answers wait for: progress
    reports that sync the card, the snapshot of what a round needs. Calls keep their order.
    ``wait=False`` returns None at once; ``wait=True`` returns the callback's result (or raises its
    error) once the host has run it."""
    reports = getattr(_job_context, "reports", None)
    if reports is None:
        return callback()
    if not wait:
        reports.put(callback)
        return None
    answer: Future = Future()

    def call() -> None:
        try:
            answer.set_result(callback())
        except BaseException as error:  # raised again on the job's thread
            answer.set_exception(error)

    reports.put(call)
    return answer.result()


def _run_nicer(job: Callable[[], object]) -> object:
    """Run ``job`` on a thread of its own at a lower OS priority; serve its reports meanwhile; return
    its result or raise its error. Where a thread's priority cannot be set, run it here."""
    if not sys.platform.startswith("linux"):  # elsewhere a native thread id is not a process id setpriority takes
        return job()
    reports: queue.SimpleQueue = queue.SimpleQueue()
    outcome: dict = {}

    def work() -> None:
        _job_context.reports = reports
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _nicer_than_now(JOB_NICENESS))
        except OSError:  # not permitted here: run at the kernel's priority
            pass
        try:
            outcome["result"] = job()
        except BaseException as error:  # raised again on the host thread
            outcome["error"] = error
        finally:
            reports.put(_DONE)

    threading.Thread(target=work, name="activelabel-round-job", daemon=True).start()
    failed = None
    while (callback := reports.get()) is not _DONE:
        try:
            callback()
        except BaseException as error:  # a report that fails fails the round, as it did on the job's thread
            failed = failed or error
    if "error" in outcome:
        raise outcome["error"]
    if failed is not None:
        raise failed
    return outcome["result"]


def _nicer_than_now(step: int) -> int:
    return min(19, os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) + step)


def _resolve(futures: list[Future]) -> None:
    for future in futures:
        try:
            future.set_result(None)
        except InvalidStateError:  # cancelled by its caller, or resolved by close() meanwhile
            pass
