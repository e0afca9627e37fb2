"""Background rounds run one at a time off the caller's thread; a burst of requests costs one extra round."""

import os
import sys
import threading

import pytest

from activelabel_widget.runner import JOB_NICENESS, BackgroundRunner, RoundTimeout, on_host

WAIT = 5.0  # upper bound for anything that should happen promptly; never reached when all is well


class Harness:
    """A job that can be held until the test lets it end, counting its runs and recording the callbacks."""

    def __init__(self, *, hold=False, time_limit=None, fail=None):
        self.hold = hold
        self.fail = fail
        self._permits = threading.Semaphore(0)  # one per held round the test lets end
        self.started = threading.Event()
        self.runs = 0
        self.active = 0
        self.most_active = 0
        self.threads = []
        self.done = []
        self.errors = []
        self.error_seen = threading.Event()
        self.after_error = None
        self.done_seen = threading.Event()
        self._lock = threading.Lock()
        self.runner = BackgroundRunner(self.job, on_done=self.on_done, on_error=self.on_error, time_limit=time_limit)

    def job(self):
        with self._lock:
            self.runs += 1
            run = self.runs
            self.active += 1
            self.most_active = max(self.most_active, self.active)
            self.threads.append(threading.current_thread())
        try:
            self.started.set()
            if self.hold:
                assert self._permits.acquire(timeout=WAIT), "the test never let the job end"
            if self.fail is not None:
                raise self.fail
            return f"result {run}"
        finally:
            with self._lock:
                self.active -= 1

    def on_done(self, result):
        self.done.append(result)
        self.done_seen.set()

    def on_error(self, error):
        self.errors.append(error)
        if self.after_error is not None:
            self.after_error()
        self.error_seen.set()

    def release(self, rounds=1):
        self._permits.release(rounds)

    def wait_started(self):
        assert self.started.wait(WAIT)
        self.started.clear()

    def finish(self):
        """Let any held job end and close the runner (no thread left blocked)."""
        self.release(100)
        self.runner.close()


@pytest.fixture
def harness():
    made = []

    def make(**options):
        h = Harness(**options)
        made.append(h)
        return h

    yield make
    for h in made:
        h.finish()


def test_a_request_runs_the_job_on_a_daemon_thread_and_delivers_the_result(harness):
    h = harness()
    future = h.runner.request()
    assert future.result(timeout=WAIT) is None
    assert h.done == ["result 1"]
    assert h.errors == []
    (thread,) = h.threads
    assert thread is not threading.current_thread()
    assert thread.daemon


def test_the_result_is_delivered_before_the_future_resolves(harness):
    h = harness(hold=True)
    future = h.runner.request()
    h.wait_started()
    assert not future.done()
    h.release()
    future.result(timeout=WAIT)
    assert h.done == ["result 1"]  # a caller waiting on the future sees the new state


def test_busy_while_a_round_runs(harness):
    h = harness(hold=True)
    assert not h.runner.busy
    future = h.runner.request()
    h.wait_started()
    assert h.runner.busy
    h.release()
    future.result(timeout=WAIT)
    assert not h.runner.busy


def test_requests_during_a_round_fold_into_one_more_round(harness):
    h = harness(hold=True)
    first = h.runner.request()
    h.wait_started()
    burst = [h.runner.request() for _ in range(5)]
    assert h.runs == 1  # no second round starts while one runs
    h.release(2)
    first.result(timeout=WAIT)
    for future in burst:
        future.result(timeout=WAIT)
    assert h.runs == 2
    assert h.done == ["result 1", "result 2"]


def test_a_request_during_a_round_resolves_only_after_the_round_started_after_it(harness):
    h = harness(hold=True)
    first = h.runner.request()
    h.wait_started()
    second = h.runner.request()
    h.release()  # the first round ends; the folded round starts and is held
    first.result(timeout=WAIT)
    h.wait_started()
    assert not second.done()
    h.release()
    second.result(timeout=WAIT)
    assert h.runs == 2


def test_rounds_never_overlap(harness):
    h = harness()
    futures = [h.runner.request() for _ in range(30)]
    for future in futures:
        future.result(timeout=WAIT)
    assert h.most_active == 1
    assert 1 <= h.runs <= 30
    assert h.done[-1] == f"result {h.runs}"


def test_a_failing_job_goes_to_on_error_and_the_runner_keeps_working(harness):
    h = harness(fail=ValueError("bad fit"))
    h.runner.request().result(timeout=WAIT)
    assert h.done == []
    assert len(h.errors) == 1 and isinstance(h.errors[0], ValueError)
    h.fail = None
    h.runner.request().result(timeout=WAIT)
    assert h.done == ["result 2"]
    assert not h.runner.busy


def test_a_round_over_the_time_limit_is_abandoned_with_round_timeout(harness):
    h = harness(hold=True, time_limit=0.05)
    future = h.runner.request()
    h.wait_started()
    assert h.error_seen.wait(WAIT)
    (error,) = h.errors
    assert isinstance(error, RoundTimeout) and isinstance(error, TimeoutError)
    assert "0.05 s" in str(error)
    future.result(timeout=WAIT)  # resolved by the timeout, while the job is still stuck
    assert not h.runner.busy


def test_the_late_result_of_an_abandoned_round_is_dropped(harness):
    h = harness(hold=True, time_limit=0.05)
    h.runner.request()
    h.wait_started()
    assert h.error_seen.wait(WAIT)
    stuck = h.threads[0]
    h.release()
    stuck.join(WAIT)
    assert not stuck.is_alive()
    assert h.done == []
    assert len(h.errors) == 1


def new_timers(before):
    return [t for t in threading.enumerate() if isinstance(t, threading.Timer) and t not in before]


def test_after_a_timeout_the_next_round_starts_on_a_fresh_thread_once_the_abandoned_job_ends(harness):
    h = harness(hold=True, time_limit=0.05)
    h.runner.request()
    h.wait_started()
    assert h.error_seen.wait(WAIT)
    h.runner.time_limit = None
    h.hold = False
    future = h.runner.request()
    assert h.runs == 1 and not future.done()  # waits behind the abandoned job, still stuck
    assert h.runner.busy
    h.release()
    future.result(timeout=WAIT)
    assert h.done == ["result 2"]
    assert h.threads[1] is not h.threads[0]


def test_a_request_during_an_abandoned_round_runs_once_the_abandoned_job_ends(harness):
    h = harness(hold=True, time_limit=0.05)

    def after_timeout():  # runs before the folded round could start: let that one run freely
        h.hold = False
        h.runner.time_limit = None

    h.after_error = after_timeout
    first = h.runner.request()
    h.wait_started()
    folded = h.runner.request()
    assert h.error_seen.wait(WAIT)
    first.result(timeout=WAIT)  # the timeout resolves the abandoned round's request at once
    assert h.runs == 1 and not folded.done()
    h.release()  # the abandoned job ends; its result is dropped and the folded round starts
    folded.result(timeout=WAIT)
    assert h.runs == 2
    assert h.done == ["result 2"]
    assert len(h.errors) == 1


def round_threads(before):
    return [t for t in threading.enumerate() if t.name == "activelabel-round" and t not in before]


def test_no_round_starts_while_an_abandoned_job_still_runs(harness):
    h = harness(hold=True, time_limit=0.05)
    reporters = []
    h.after_error = lambda: reporters.append(threading.current_thread())
    before = set(threading.enumerate())
    first = h.runner.request()
    h.wait_started()
    folded = [h.runner.request() for _ in range(3)]
    assert h.error_seen.wait(WAIT)
    # the thread that reports the timeout is the one that would start a next round: once it has
    # ended, a round started after the timeout would be a live thread (every round is held)
    (reporter,) = reporters
    reporter.join(WAIT)
    assert not reporter.is_alive()
    (error,) = h.errors
    assert isinstance(error, RoundTimeout)
    first.result(timeout=WAIT)  # reported at once, while the job is still stuck
    (host,) = round_threads(before)  # only the abandoned job's round: its host, waiting for its job
    assert h.threads[0].is_alive() and h.threads[0].name == "activelabel-round-job"
    assert h.runs == 1 and h.active == 1
    assert h.runner.busy  # the folded round waits, so a caller waiting for idle waits too
    assert not any(future.done() for future in folded)

    h.release()  # the abandoned job ends: now, and only now, the folded round starts
    h.wait_started()
    h.threads[0].join(WAIT)
    assert h.runs == 2 and h.most_active == 1
    assert h.runner.busy
    h.release()
    for future in folded:
        future.result(timeout=WAIT)
    assert h.done == ["result 2"]  # the abandoned round's late result was dropped
    assert len(h.errors) == 1
    assert not h.runner.busy


def test_a_model_always_slower_than_the_time_limit_runs_one_job_at_a_time(harness):
    h = harness(hold=True, time_limit=0.02)
    rounds = 6
    futures = [h.runner.request()]
    for done_rounds in range(1, rounds):
        h.wait_started()
        futures.append(h.runner.request())  # folded into the next round, whenever the timeout fires
        assert h.error_seen.wait(WAIT)
        h.error_seen.clear()
        assert len(h.errors) == done_rounds
        futures[-2].result(timeout=WAIT)  # resolved by the timeout, the job still stuck
        assert h.runs == done_rounds and h.active == 1
        assert h.runner.busy and not futures[-1].done()
        h.release()  # only now may the next round start
    h.wait_started()
    assert h.error_seen.wait(WAIT)
    futures[-1].result(timeout=WAIT)
    h.release()
    for thread in h.threads:
        thread.join(WAIT)
        assert not thread.is_alive()
    assert h.runs == rounds
    assert h.most_active == 1  # never two fits at once, however slow the model
    assert len(h.errors) == rounds and all(isinstance(e, RoundTimeout) for e in h.errors)
    assert h.done == []
    assert not h.runner.busy


def test_an_abandoned_job_that_ends_while_its_timeout_is_reported_lets_the_next_round_start(harness):
    h = harness(hold=True, time_limit=0.05)

    folded = []

    def end_the_job_during_the_report():
        h.hold = False
        h.runner.time_limit = None
        folded.append(h.runner.request())  # waits: the timeout is still being reported
        h.release()
        h.threads[0].join(WAIT)  # the job ended and its result was dropped, the report still going
        assert not h.threads[0].is_alive()
        assert h.runs == 1

    h.after_error = end_the_job_during_the_report
    h.runner.request()
    h.wait_started()
    assert h.error_seen.wait(WAIT)
    folded[0].result(timeout=WAIT)  # started when the report ended, since the job was gone by then
    assert h.runs == 2 and h.most_active == 1
    assert h.done == ["result 2"]
    assert len(h.errors) == 1 and isinstance(h.errors[0], RoundTimeout)


def test_an_abandoned_job_that_fails_late_is_dropped_and_the_next_round_runs(harness):
    h = harness(hold=True, time_limit=0.05, fail=ValueError("late failure"))
    h.runner.request()
    h.wait_started()
    assert h.error_seen.wait(WAIT)
    h.hold = False
    h.runner.time_limit = None
    folded = h.runner.request()
    h.release()  # the abandoned job raises: dropped; the folded round starts and raises too
    folded.result(timeout=WAIT)
    assert h.runs == 2 and h.done == []
    timeout, failure = h.errors  # one report per round: the abandoned job's late failure went nowhere
    assert isinstance(timeout, RoundTimeout)
    assert isinstance(failure, ValueError)


def test_a_round_within_the_time_limit_stops_its_timer(harness):
    h = harness(hold=True, time_limit=60.0)
    before = set(threading.enumerate())
    future = h.runner.request()
    h.wait_started()
    (timer,) = new_timers(before)
    h.release()
    future.result(timeout=WAIT)
    timer.join(WAIT)
    assert not timer.is_alive()  # no thread left waiting out the time limit after the round
    assert h.done == ["result 1"] and h.errors == []


def test_close_resolves_the_pending_requests(harness):
    h = harness(hold=True)
    h.runner.request()
    h.wait_started()
    pending = h.runner.request()
    h.runner.close()
    assert pending.result(timeout=WAIT) is None
    assert not h.runner.busy


def test_close_resolves_the_request_whose_round_is_running(harness):
    h = harness(hold=True)
    running = h.runner.request()
    h.wait_started()
    h.runner.close()
    # a caller blocked on the running round must not wait for a result that will be ignored
    assert running.result(timeout=WAIT) is None


def test_a_round_running_at_close_finishes_and_is_ignored(harness):
    h = harness(hold=True)
    h.runner.request()
    h.wait_started()
    h.runner.close()
    h.release()
    h.threads[0].join(WAIT)
    assert h.done == [] and h.errors == []


def test_close_stops_the_timer_of_the_running_round(harness):
    h = harness(hold=True, time_limit=60.0)
    before = set(threading.enumerate())
    h.runner.request()
    h.wait_started()
    (timer,) = new_timers(before)
    h.runner.close()
    timer.join(WAIT)
    assert not timer.is_alive()
    assert h.errors == []


def test_after_close_requests_resolve_at_once_without_running(harness):
    h = harness()
    h.runner.close()
    future = h.runner.request()
    assert future.done() and future.result() is None
    assert h.runs == 0


def test_close_tolerates_a_cancelled_request(harness):
    h = harness(hold=True)
    h.runner.request()
    h.wait_started()
    pending = h.runner.request()
    assert pending.cancel()
    h.runner.close()
    assert pending.cancelled()


def test_close_resolves_requests_waiting_behind_an_abandoned_job_without_waiting_for_it(harness):
    h = harness(hold=True, time_limit=0.05)
    first = h.runner.request()
    h.wait_started()
    assert h.error_seen.wait(WAIT)
    first.result(timeout=WAIT)
    waiting = [h.runner.request() for _ in range(3)]
    assert h.runner.busy
    h.runner.close()  # returns although the abandoned job is still stuck
    assert h.threads[0].is_alive()
    assert all(future.done() and future.result() is None for future in waiting)
    assert not h.runner.busy
    h.release()  # the abandoned job ends after close: no round starts
    h.threads[0].join(WAIT)
    assert not h.threads[0].is_alive()
    assert h.runs == 1
    assert h.done == [] and len(h.errors) == 1
    assert not h.runner.busy


def test_a_round_asked_for_during_a_round_waits_as_long_as_that_round_took():
    """rest=1: back-to-back rounds take at most about half the time (the card's answers get the rest)."""
    import time as _time

    starts = []

    def job():
        starts.append(_time.monotonic())
        _time.sleep(0.3)

    runner = BackgroundRunner(job, on_done=lambda _: None, on_error=lambda e: None, rest=lambda result, seconds: seconds)
    runner.request()
    _time.sleep(0.05)
    second = runner.request()  # folded into one round after the first
    second.result(timeout=5)
    assert len(starts) == 2 and starts[1] - starts[0] >= 0.55  # 0.3 s round + about 0.3 s rest
    runner.close()


def test_close_ends_a_rest_at_once():
    import time as _time

    runner = BackgroundRunner(lambda: _time.sleep(0.2), on_done=lambda _: None, on_error=lambda e: None,
                              rest=lambda result, seconds: 20.0)
    runner.request()
    _time.sleep(0.05)
    pending = runner.request()
    _time.sleep(0.3)  # the first round is over; the second waits out a rest
    assert runner.busy
    began = _time.monotonic()
    runner.close()
    pending.result(timeout=1)
    assert _time.monotonic() - began < 0.5


def test_hurry_ends_a_rest_and_the_waiting_round_starts():
    import time as _time

    starts = []
    runner = BackgroundRunner(lambda: (starts.append(_time.monotonic()), _time.sleep(0.2)), on_done=lambda _: None,
                              on_error=lambda e: None, rest=lambda result, seconds: 20.0)
    runner.request()
    _time.sleep(0.05)
    pending = runner.request()
    _time.sleep(0.3)
    assert len(starts) == 1  # resting
    runner.hurry()
    pending.result(timeout=5)
    assert len(starts) == 2
    runner.close()


def own_niceness():
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority is set on Linux only")
def test_a_job_runs_nicer_than_the_kernel_and_its_result_is_delivered_at_the_kernels_priority():
    seen = {}
    delivered = threading.Event()

    def job():
        seen["job"] = own_niceness()
        seen["report"] = on_host(own_niceness, wait=True)
        return "fitted"

    def on_done(result):
        seen["delivery"] = own_niceness()
        delivered.set()

    runner = BackgroundRunner(job, on_done=on_done, on_error=lambda error: None)
    try:
        runner.request().result(timeout=WAIT)
        assert delivered.wait(WAIT)
    finally:
        runner.close()
    kernel = own_niceness()
    assert seen["job"] == min(19, kernel + JOB_NICENESS)
    # what takes the locks the card's answers wait for runs at the kernel's priority
    assert seen["report"] == kernel and seen["delivery"] == kernel


def test_reports_from_a_job_run_on_its_host_thread_in_order():
    calls = []

    def job():
        for step in range(5):
            on_host(lambda step=step: calls.append((step, threading.current_thread().name)))
        answer = on_host(lambda: 42, wait=True)  # waits: every report before it has run
        assert len(calls) == 5
        return answer

    done = []
    runner = BackgroundRunner(job, on_done=done.append, on_error=lambda error: done.append(error))
    try:
        runner.request().result(timeout=WAIT)
    finally:
        runner.close()
    assert done == [42]
    assert [step for step, _ in calls] == [0, 1, 2, 3, 4]
    assert {name for _, name in calls} == {"activelabel-round"}


def test_a_report_that_fails_fails_its_round():
    def broken_report():
        raise RuntimeError("the card could not be synced")

    def job():
        on_host(broken_report)
        with pytest.raises(ValueError, match="no snapshot"):
            on_host(lambda: (_ for _ in ()).throw(ValueError("no snapshot")), wait=True)
        return "fitted"

    outcome = []
    runner = BackgroundRunner(job, on_done=outcome.append, on_error=outcome.append)
    try:
        runner.request().result(timeout=WAIT)
    finally:
        runner.close()
    (error,) = outcome
    assert isinstance(error, RuntimeError) and "could not be synced" in str(error)


def test_outside_a_round_on_host_calls_at_once():
    assert on_host(lambda: "now", wait=True) == "now"
    calls = []
    assert on_host(lambda: calls.append(threading.current_thread())) is None
    assert calls == [threading.current_thread()]
