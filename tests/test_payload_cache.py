"""The payloads of the records the page will show next are prepared ahead, off the answer's path."""

import threading
import time

import numpy as np
import pandas as pd
import pytest

from activelabel_widget import ActiveLabeler
from activelabel_widget import payload_cache
from activelabel_widget.payload_cache import PayloadCache


class Builder:
    """A stand-in for ``Dataset.payload`` that says on which thread it built what."""

    def __init__(self, fail=(), hold=()):
        self.built: list[tuple[int, str]] = []
        self.fail, self.hold = set(fail), set(hold)
        self.release = threading.Event()
        self.started = threading.Event()

    def __call__(self, position: int):
        self.built.append((position, threading.current_thread().name))
        if position in self.hold:
            self.started.set()
            self.release.wait(10)
        if position in self.fail:
            raise ValueError(f"row {position} cannot be shown")
        return f"payload {position}"


def wait_until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_payload_is_built_once_and_kept():
    build = Builder()
    cache = PayloadCache(build, capacity=4)
    assert cache.get(3) == cache.get(3) == "payload 3"
    assert build.built == [(3, threading.current_thread().name)]


def test_the_worker_prepares_what_comes_next_in_order_and_the_answer_only_looks_it_up():
    build = Builder()
    cache = PayloadCache(build, capacity=8)
    cache.prepare([5, 1, 7])
    wait_until(lambda: len(cache) == 3)
    assert build.built == [(5, "activelabel-payloads"), (1, "activelabel-payloads"), (7, "activelabel-payloads")]
    assert [cache.get(p) for p in (5, 1, 7)] == ["payload 5", "payload 1", "payload 7"]
    assert len(build.built) == 3  # nothing built again on the caller's thread
    cache.close()


def test_an_answer_that_needs_the_record_the_worker_is_preparing_waits_for_it_instead_of_building_it_twice():
    build = Builder(hold={2})
    cache = PayloadCache(build, capacity=8)
    cache.prepare([2])
    assert build.started.wait(10)
    got = []
    answer = threading.Thread(target=lambda: got.append(cache.get(2)))
    answer.start()
    time.sleep(0.05)
    assert not got  # waiting for the worker
    build.release.set()
    answer.join(10)
    assert got == ["payload 2"] and [p for p, _ in build.built] == [2]
    cache.close()


def test_a_new_request_replaces_the_old_one_and_what_is_kept_stays_bounded():
    build = Builder()
    cache = PayloadCache(build, capacity=3)
    for position in range(10):
        cache.get(position)
    assert len(cache) == 3
    cache.prepare([20, 21])
    cache.prepare([30])  # a fit reranked: what was asked before is no longer wanted
    wait_until(lambda: any(p == 30 for p, _ in build.built))
    time.sleep(0.05)
    assert len(cache) <= 3 and 30 in {p for p, _ in build.built}
    cache.close()


def test_a_record_the_worker_cannot_prepare_fails_on_the_cards_own_path_where_it_is_reported():
    build = Builder(fail={4})
    cache = PayloadCache(build, capacity=4)
    cache.prepare([4, 6])
    wait_until(lambda: len(cache) == 1)  # 6 is ready; 4 failed quietly on the worker
    with pytest.raises(ValueError, match="row 4 cannot be shown"):
        cache.get(4)
    assert cache.get(6) == "payload 6"
    cache.close()


def test_an_idle_worker_ends_and_lets_go_and_a_closed_cache_prepares_nothing(monkeypatch):
    monkeypatch.setattr(payload_cache, "IDLE_SECONDS", 0.05)
    build = Builder()
    cache = PayloadCache(build, capacity=4)
    cache.prepare([1])
    wait_until(lambda: cache._worker is None)  # idle: the thread ended
    cache.prepare([2])  # and a new one starts on demand
    wait_until(lambda: len(cache) == 2)
    cache.close()
    cache.prepare([3])
    time.sleep(0.1)
    assert 3 not in {p for p, _ in build.built} and len(cache) == 0


def image_frame(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"img": [rng.integers(0, 255, size=(24, 24, 3), dtype=np.uint8) for _ in range(n)],
                         "group": [i % 2 for i in range(n)]})


def threads_that_built(al) -> dict:
    """Wrap the labeler's payload builder: position -> name of the thread that built it."""
    built = {}
    widget = al.widget
    build = widget._payloads._payload

    def recording(position):
        built.setdefault(position, threading.current_thread().name)
        return build(position)

    widget._payloads._payload = recording
    return built


def test_image_records_that_come_into_the_page_line_were_prepared_before_the_answer(tmp_path):
    al = ActiveLabeler(image_frame(), image="img", labels=["a", "b"], store=tmp_path / "s.db", retrain_every=1000,
                       strategy="random")
    widget, session = al.widget, al.session
    session.wait_idle(60)
    session._runner.close()  # no round from here on: what comes into the line is the worker's alone
    # the worker may still be preparing what the first sync asked for, with the builder it looked up
    # before the recording one below: what it keeps then would be in no thread's name
    cache = widget._payloads
    wait_until(lambda: cache._preparing is None and not cache._wanted)
    built = threads_that_built(al)
    cache._kept.clear()  # from here on, every payload built is recorded
    widget._sync()
    for seq in range(1, 6):
        coming = session.queued(8 + 8)[8:]  # the records after the page's line: prepared in the background
        wait_until(lambda: all(int(p) in widget._payloads._kept for p in coming))
        card, ahead = widget.card, widget.upcoming
        widget.handle_intent({"action": "label", "key": card["key"], "view": "v", "seq": seq, "label": "a",
                              "next": ahead[0]["key"]})
    came_in = [session.dataset.position_of[record["key"]] for record in widget.upcoming[-5:]]
    assert all(built.get(p) == "activelabel-payloads" for p in came_in), (came_in, built)  # not on the answer's thread
    assert len(al.labeled) == 5
    al.close()
    assert widget._payloads._worker is None or not widget._payloads._worker.is_alive() or len(widget._payloads) == 0


def test_after_a_fit_the_images_of_the_new_line_are_prepared_on_the_rounds_thread_before_it_replaces_the_old(
        tmp_path):
    al = ActiveLabeler(image_frame(), image="img", labels=["a", "b"], store=tmp_path / "s.db", retrain_every=1000)
    widget, session = al.widget, al.session
    session.wait_idle(60)
    for i in range(6):
        session.label(session.current, "ab"[i % 2])
    session.wait_idle(60)
    built = threads_that_built(al)
    ready_when_replaced = []
    deliver = session._runner._on_done

    def forgetting(result):  # as if the fit brought only records never prepared
        widget._payloads._kept.clear()
        deliver(result)

    session._runner._on_done = forgetting
    replace = session._line.replace_ranked

    def replacing(ranked):
        coming = session.first_open(ranked.positions, 8)
        ready_when_replaced.append(all(p in widget._payloads._kept for p in coming))
        replace(ranked)

    session._line.replace_ranked = replacing
    session.retrain()
    session.wait_idle(60)
    line = [session.dataset.position_of[r["key"]] for r in widget.upcoming]
    assert ready_when_replaced and all(ready_when_replaced)
    assert line and all(built.get(p) == "activelabel-round" for p in line), built
    al.close()


def test_a_card_that_fails_to_prepare_the_new_line_does_not_cost_the_fit(tmp_path):
    al = ActiveLabeler(image_frame(), image="img", labels=["a", "b"], store=tmp_path / "s.db", retrain_every=1000)
    session = al.session
    session.wait_idle(60)
    for i in range(6):
        session.label(session.current, "ab"[i % 2])
    session.wait_idle(60)
    fits = session.model_status.fits

    def broken(positions):
        raise MemoryError("no room for the images")

    session.subscribe_ranking(broken)
    session.retrain()
    session.wait_idle(60)
    assert session.model_status.fits == fits + 1 and session.model_status.state != "error"
    assert len(al.widget.upcoming) == 7
    al.close()


def test_while_the_kernel_lags_the_worker_prepares_as_far_ahead_as_the_longer_line_reaches(tmp_path):
    al = ActiveLabeler(image_frame(120), image="img", labels=["a", "b"], store=tmp_path / "s.db",
                       retrain_every=1000, strategy="random")
    widget, session = al.widget, al.session
    session.wait_idle(60)
    session._runner.close()  # no round from here on: what is prepared ahead is the worker's alone
    card, ahead = widget.card, widget.upcoming
    # pressed while 10 earlier answers were on their way: the line grows to 8 + 2 x 10 records
    widget.handle_intent({"action": "label", "key": card["key"], "view": "v", "seq": 1, "label": "a",
                          "next": ahead[0]["key"], "behind": 10})
    assert len(widget.upcoming) == 27
    # a burst as long as the line may come next: the worker prepares as many records after it
    coming = [int(p) for p in session.queued(56)[28:]]
    wait_until(lambda: all(p in widget._payloads._kept for p in coming))
    assert len(coming) == 28
    al.close()
