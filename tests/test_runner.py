"""Background rounds run one at a time off the caller's thread; a burst of requests costs one extra round."""

import threading

import pytest

from activelabel_widget.runner import BackgroundRunner, RoundTimeout

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


def test_after_a_timeout_the_next_round_starts_on_a_fresh_thread(harness):
    h = harness(hold=True, time_limit=0.05)
    h.runner.request()
    h.wait_started()
    assert h.error_seen.wait(WAIT)
    h.runner.time_limit = None
    h.hold = False
    future = h.runner.request()
    future.result(timeout=WAIT)
    assert h.done == ["result 2"]
    assert h.threads[1] is not h.threads[0]
    assert h.threads[0].is_alive()  # the abandoned round is still stuck, and ignored


def test_a_request_during_an_abandoned_round_runs_after_the_timeout(harness):
    h = harness(hold=True, time_limit=0.05)

    def after_timeout():  # runs before the folded round starts: let that one run freely
        h.hold = False
        h.runner.time_limit = None

    h.after_error = after_timeout
    h.runner.request()
    h.wait_started()
    folded = h.runner.request()
    assert h.error_seen.wait(WAIT)
    h.wait_started()  # the folded round started although the first is still stuck
    folded.result(timeout=WAIT)
    assert h.runs == 2
    assert h.done == ["result 2"]
    assert h.threads[0].is_alive()


def new_timers(before):
    return [t for t in threading.enumerate() if isinstance(t, threading.Timer) and t not in before]


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
