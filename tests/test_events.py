"""One state machine for label events: the live session and a restart always agree."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activelabel_widget import LabelingSession
from activelabel_widget.errors import StoreError
from activelabel_widget.events import LabelEvent, LabelState

LABELS = ["a", "b", "c"]


def event(id, action, key, label=None, *, undoes=None, batch=None, source="hand"):
    return LabelEvent(id, "2026-01-01T00:00:00+00:00", action, key, label, "me",
                      source if action == "label" else None, None, undoes, batch)


def test_a_label_replaces_the_one_in_force_and_undo_restores_it():
    state = LabelState()
    state.apply(event(1, "label", "k", "a"))
    state.apply(event(2, "label", "k", "b"))
    assert state.labels["k"].label == "b"
    assert state.apply(event(3, "undo", "k", undoes=2)) == ("k",)
    assert state.labels["k"].label == "a"


def by(annotator, id, action, key, label=None, *, undoes=None):
    return event(id, action, key, label, undoes=undoes)._replace(annotator=annotator)


def test_in_a_team_log_an_undo_takes_back_its_annotators_newest_step_and_no_one_elses_answer():
    state = LabelState()
    state.apply(by("ana", 1, "label", "k", "a"))
    state.apply(by("ben", 2, "label", "m", "b"))
    state.apply(by("ben", 3, "label", "k", "c"))  # ben answers the same record after ana
    assert state.apply(by("ana", 4, "undo", "k", undoes=1)) == ("k",)
    assert state.labels["k"].label == "c" and state.labels["m"].label == "b"  # ben's answers stay
    state.apply(by("ana", 5, "label", "n", "a"))
    with pytest.raises(StoreError, match="does not match"):  # not ben's newest step
        state.apply(by("ben", 6, "undo", "m", undoes=2))
    state.apply(by("ben", 7, "undo", "k", undoes=3))
    assert "k" not in state.labels  # ana's answer was taken back before: nothing comes back


def test_a_skip_goes_to_the_back_and_a_label_takes_it_out():
    state = LabelState()
    for id, key in enumerate(["x", "y", "x"], start=1):
        state.apply(event(id, "skip", key))
    assert list(state.skipped) == ["y", "x"]
    state.apply(event(4, "label", "y", "a"))
    assert list(state.skipped) == ["x"]


def test_labels_saved_together_are_one_undo_step():
    state = LabelState()
    state.apply(event(1, "label", "k0", "a"))
    for id, key in enumerate(["k1", "k2", "k3"], start=2):
        state.apply(event(id, "label", key, "b", batch=2, source="weak"))
    assert len(state.history) == 2
    assert set(state.apply(event(5, "undo", "k3", undoes=4))) == {"k1", "k2", "k3"}
    assert list(state.labels) == ["k0"]


def test_an_undo_that_does_not_match_the_history_is_refused():
    state = LabelState()
    state.apply(event(1, "label", "k", "a"))
    with pytest.raises(StoreError, match="does not match its history"):
        state.apply(event(2, "undo", "k", undoes=99))


def frame(n=10):
    return pd.DataFrame({"body": [f"record number {i} about {'abc'[i % 3]}" for i in range(n)]},
                        index=pd.Index([f"r{i}" for i in range(n)], name="id"))


operations = st.lists(
    st.one_of(
        st.tuples(st.just("label"), st.integers(0, 9), st.sampled_from(LABELS)),
        st.tuples(st.just("label_card"), st.sampled_from(LABELS)),
        st.tuples(st.just("skip")),
        st.tuples(st.just("undo")),
        st.tuples(st.just("promote"), st.lists(st.integers(0, 9), min_size=1, max_size=4, unique=True)),
    ),
    max_size=25,
)


def observe(session: LabelingSession) -> dict:
    full = session.to_frame()
    return {
        "codes": session.hand_codes().tolist(),
        "labels": full["label"].astype(object).where(full["label"].notna(), None).tolist(),
        "sources": full["source"].tolist(),
        "skipped": session.skipped(),
        "progress": {k: v for k, v in session.progress.items() if k != "session"},
    }


def run(session: LabelingSession, ops) -> None:
    for op in ops:
        if op[0] == "label":
            session.label(f"r{op[1]}", op[2])
        elif op[0] == "label_card" and session.current is not None:
            session.label(session.current, op[1])
        elif op[0] == "skip":
            session.skip()
        elif op[0] == "undo":
            session.undo()
        elif op[0] == "promote":
            session.label_many(op[1], ["a"] * len(op[1]), source="weak")


def undo_all(session: LabelingSession) -> list:
    """Walk the whole history back: the key each undo returns and the state after it."""
    walked = []
    while (key := session.undo()) is not None:
        walked.append((key, observe(session)))
    return walked


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_any_sequence_of_labels_skips_and_undos_gives_the_same_state_live_and_after_replay(ops, tmp_path_factory):
    """Live state == state replayed from the store, and undoing all of it walks the same steps."""
    folder = tmp_path_factory.mktemp("events")
    options = dict(text="body", labels=LABELS, background=False, retrain_every=1000)

    live = LabelingSession(frame(), store=folder / "live.db", **options)
    run(live, ops)
    live_state, live_walk = observe(live), undo_all(live)
    live.close()

    first = LabelingSession(frame(), store=folder / "replayed.db", **options)
    run(first, ops)
    first.close()
    replayed = LabelingSession(frame(), store=folder / "replayed.db", **options)
    replayed_state, replayed_walk = observe(replayed), undo_all(replayed)
    replayed.close()

    assert replayed_state == live_state
    assert replayed_walk == live_walk
