"""The team store on a real PostgreSQL server: one log for many annotators, records leased one at a time."""

import multiprocessing
import os
import signal
import time

import pytest

from activelabel_widget.errors import AlreadyAnsweredError, LabelError, StoreError
from activelabel_widget.team_store import TeamStore, is_server_url

LABELS = ["bug", "feature", "question"]


@pytest.fixture
def open_store(pg_url):
    made = []

    def make(annotator="ana", url=None, **options):
        options.setdefault("labels", LABELS)
        store = TeamStore(url or pg_url, annotator=annotator, **options)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


def test_a_server_url_is_told_apart_from_a_file():
    assert is_server_url("postgresql://me@db.example/labels")
    assert is_server_url("postgres://me@db.example/labels")
    assert not is_server_url("labels.db") and not is_server_url(":memory:")


def test_labels_skips_and_undos_replay_for_every_annotator(open_store):
    ana, ben = open_store("ana"), open_store("ben")
    first = ana.append("label", "1", label="bug", source="hand", confidence=0.4, content=2**64 - 1)
    ben.append("label", "2", label="feature", source="hand")
    ana.append("undo", "1", undoes=first.id)  # ana's newest step, though ben's label came after it
    ana.append("skip", "3")
    events = ben.events()
    assert [(e.action, e.key, e.annotator) for e in events] == [
        ("label", "1", "ana"), ("label", "2", "ben"), ("undo", "1", "ana"), ("skip", "3", "ana")]
    assert events[0].content == 2**64 - 1  # the unsigned content hash survives the signed column
    state = ben.replay()
    assert state.labels["2"].label == "feature" and "1" not in state.labels
    assert [e.key for e in ana.events(after=first.id)] == ["2", "1", "3"]
    assert [e.action for e in ana.events(key="1")] == ["label", "undo"]


def test_many_labels_are_one_batch_saved_all_or_nothing(open_store):
    store = open_store()
    events = store.append_labels(["1", "2", "3"], ["bug", "bug", "question"], sources="bulk")
    assert len({e.batch for e in events}) == 1 and [e.key for e in store.events()] == ["1", "2", "3"]
    with pytest.raises(LabelError):
        store.append_labels(["4", "5"], ["bug", 7])
    assert len(store.events()) == 3


def test_projects_keep_their_labels_apart_and_merge_new_label_names(open_store, pg_url):
    reviews = open_store(url=pg_url + "?project=reviews")
    tickets = open_store(url=pg_url + "?project=tickets", labels=["bug", "crash"])
    reviews.append("label", "1", label="bug", source="hand")
    assert tickets.events() == [] and len(reviews.events()) == 1
    open_store(url=pg_url + "?project=tickets", labels=["crash", "spam"], annotator="ben")
    assert tickets.labels() == ["bug", "crash", "spam"]
    assert "(project reviews)" in reviews.path


def test_a_project_of_label_sets_is_not_opened_for_single_labels(open_store):
    open_store(multi_label=True)
    with pytest.raises(StoreError, match="multi_label=True"):
        open_store(annotator="ben")


def test_the_password_is_not_shown(pg_url):
    user_at = pg_url.replace("postgres@", "postgres:secret@")
    store = TeamStore(user_at, labels=LABELS, annotator="ana")
    try:
        assert "secret" not in store.path and "secret" not in repr(store)
    finally:
        store.close()


def test_a_record_is_leased_to_one_annotator_at_a_time(open_store):
    ana, ben = open_store("ana"), open_store("ben")
    keys = [str(i) for i in range(10)]
    assert ana.claim(keys, want=3) == ["0", "1", "2"]
    assert ben.claim(keys, want=3) == ["3", "4", "5"]
    assert ana.claim(keys, want=3) == ["0", "1", "2"]  # renewing its own leases
    ana.append("label", "0", label="bug", source="hand")
    assert ben.claim(["0"], want=1) == []  # answered: with overlap=1 nobody needs it again
    ana.release(["1"])
    assert ben.claim(["1"], want=1) == ["1"]


def test_a_lease_that_is_not_answered_in_time_goes_back_to_the_pool(open_store):
    ana, ben = open_store("ana", lease_seconds=0.5), open_store("ben")
    assert ana.claim(["7"], want=1) == ["7"]
    assert ben.claim(["7"], want=1) == []
    time.sleep(0.8)
    assert ben.claim(["7"], want=1) == ["7"]


def test_with_overlap_two_a_record_goes_to_two_annotators_never_twice_to_one(open_store):
    ana, ben, cy = (open_store(name, overlap=2) for name in ("ana", "ben", "cy"))
    assert ana.claim(["1"], want=1) == ["1"]
    assert ben.claim(["1"], want=1) == ["1"]
    assert cy.claim(["1"], want=1) == []
    ana.append("label", "1", label="bug", source="hand")
    ana.release()
    assert ana.claim(["1"], want=1) == []  # answered it already
    assert cy.claim(["1"], want=1) == []  # ana's answer and ben's lease: two
    undo = ana.events()[-1]
    ana.append("undo", "1", undoes=undo.id)  # an answer taken back no longer counts
    assert cy.claim(["1"], want=1) == ["1"]


def test_an_answer_that_arrives_after_its_lease_lapsed_and_another_answered_is_refused(open_store):
    ana, ben = open_store("ana", lease_seconds=0.3), open_store("ben")
    ana.claim(["5"], want=1)
    time.sleep(0.5)
    assert ben.claim(["5"], want=1) == ["5"]
    ben.append("label", "5", label="bug", source="hand")
    with pytest.raises(AlreadyAnsweredError, match="answered by ben"):
        ana.append("label", "5", label="feature", source="hand")
    assert [(e.annotator, e.label) for e in ana.events()] == [("ben", "bug")]
    ben.append("label", "5", label="question", source="hand")  # ben corrects their own answer: fine


def test_closing_gives_the_leases_back_and_remembers_the_card(open_store, pg_url):
    ana = open_store("ana")
    ana.claim(["1", "2"], want=2)
    ana.note_card("2")
    ana.close()
    ben = open_store("ben")
    assert ben.claim(["1", "2"], want=2) == ["1", "2"]
    assert open_store("ana").card_key == "2"
    with pytest.raises(StoreError, match="no longer writes"):
        ana.append("label", "3", label="bug", source="hand")


def test_a_server_that_is_down_is_a_clear_error_and_labeling_resumes_when_it_is_back(open_store, postgres_server):
    store = open_store()
    store.append("label", "1", label="bug", source="hand")
    postgres_server.stop("immediate")
    try:
        with pytest.raises(StoreError, match="not answering|Could not reach"):
            store.append("label", "2", label="bug", source="hand")
    finally:
        postgres_server.start()
    store.append("label", "2", label="feature", source="hand")
    assert [e.key for e in store.events()] == ["1", "2"]  # the failed write left nothing behind


def test_an_unreachable_server_says_so_when_opening():
    with pytest.raises(StoreError, match="Could not reach the label server"):
        TeamStore("postgresql://nobody@127.0.0.1:1/none", labels=LABELS)


def _annotate(url, name, keys, overlap, results, kill_after=None):
    """One annotator process: claim a few records in the given order, label them, until none is left."""
    store = TeamStore(url, labels=LABELS, annotator=name, lease_seconds=2.0, overlap=overlap)
    answered = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        held = store.claim(keys, want=4)
        if not held:
            counts = {}
            for event in store.events():
                counts[event.key] = counts.get(event.key, 0) + 1
            if all(counts.get(key, 0) >= overlap for key in keys):
                break  # every record has its answers
            time.sleep(0.2)  # records another annotator holds: theirs, or back to the pool when the lease lapses
            continue
        for key in held:
            if kill_after is not None and len(answered) >= kill_after:
                os.kill(os.getpid(), signal.SIGKILL)  # dies holding leases
            try:
                store.append("label", key, label=LABELS[int(key) % 3], source="hand")
            except AlreadyAnsweredError:  # slower than its lease on a loaded machine: someone else answered
                continue
            answered.append(key)
    store.close()
    results.put((name, answered))


def _run_team(url, names, keys, overlap, kill=None):
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=_annotate, args=(url, name, keys, overlap, results, kill if name == "a0" else None))
             for name in names]
    for proc in procs:
        proc.start()
    from test_team_session import collect

    survivors = [proc for proc, name in zip(procs, names) if not (kill is not None and name == "a0")]
    answered = dict(collect(results, survivors, 300))
    for proc in procs:
        proc.join(60)
    return answered, procs


@pytest.mark.slow
@pytest.mark.parametrize("overlap", [1, 2])
def test_four_annotator_processes_label_every_record_exactly_overlap_times(pg_url, overlap):
    keys = [str(i) for i in range(3000 if overlap == 1 else 1000)]
    _, procs = _run_team(pg_url, [f"a{i}" for i in range(4)], keys, overlap)
    assert all(proc.exitcode == 0 for proc in procs)
    reader = TeamStore(pg_url, labels=LABELS, annotator="reader")
    try:
        events = reader.events()
    finally:
        reader.close()
    per_key = {}
    for event in events:
        per_key.setdefault(event.key, []).append(event.annotator)
    assert set(per_key) == set(keys)  # none left unassigned
    assert all(len(names) == overlap for names in per_key.values())  # none answered more often than asked
    assert all(len(set(names)) == len(names) for names in per_key.values())  # never twice by one person
    assert len({name for names in per_key.values() for name in names}) == 4  # everyone got work


@pytest.mark.slow
def test_an_annotator_killed_holding_leases_keeps_its_answers_and_its_records_go_to_others(pg_url):
    keys = [str(i) for i in range(400)]
    answered, procs = _run_team(pg_url, ["a0", "a1", "a2"], keys, 1, kill=10)
    assert procs[0].exitcode == -signal.SIGKILL
    reader = TeamStore(pg_url, labels=LABELS, annotator="reader")
    try:
        events = reader.events()
    finally:
        reader.close()
    by_killed = [e.key for e in events if e.annotator == "a0"]
    assert len(by_killed) == 10  # its committed answers stay
    assert sorted(e.key for e in events) == sorted(keys)  # its leased records went to the others
    assert len(events) == len(keys)


def test_a_file_store_moves_to_the_server_and_back_in_one_call(tmp_path, pg_url):
    from activelabel_widget import copy_store
    from activelabel_widget.store import LabelStore

    file = tmp_path / "labels.db"
    store = LabelStore(file, labels=LABELS)
    first = store.append("label", "1", label="bug", annotator="ana", source="hand", confidence=0.7, content=2**63 + 5)
    store.append("undo", "1", annotator="ana", undoes=first.id)
    store.append_labels(["2", "3"], ["feature", "question"], annotators="ana", sources="bulk")
    store.append("note", "2", annotator="ana", note="check the wording")
    store.append("skip", "4", annotator="ana")
    before = store.events()
    store.close()

    assert copy_store(file, pg_url + "?project=moved") == len(before)
    with pytest.raises(StoreError, match="already holds labels"):
        copy_store(file, pg_url + "?project=moved")  # nothing is mixed
    back = tmp_path / "back.db"
    assert copy_store(pg_url + "?project=moved", back) == len(before)

    def same(events):
        return [(e.at, e.action, e.key, e.label, e.annotator, e.source, e.confidence, e.content, e.note) for e in events]

    server = TeamStore(pg_url + "?project=moved", labels=LABELS, annotator="reader")
    try:
        assert same(server.events()) == same(before)
        state = server.replay()
    finally:
        server.close()
    assert sorted(state.labels) == ["2", "3"] and state.notes["2"].note == "check the wording"
    assert len({state.labels["2"].batch, state.labels["3"].batch}) == 1  # still one undo step
    again = LabelStore(back, labels=LABELS)
    try:
        assert same(again.events()) == same(before) and again.label_names() == LABELS
    finally:
        again.close()


def test_an_undone_group_of_labels_is_free_again_on_the_server(open_store):
    ana, ben = open_store("ana"), open_store("ben")
    events = ana.append_labels(["1", "2", "3"], ["bug", "bug", "feature"], sources="bulk")
    assert ben.claim(["1", "2", "3"], want=3) == []
    ana.append("undo", "3", undoes=events[-1].id)  # one undo names the group's last event
    assert ben.claim(["1", "2", "3"], want=3) == ["1", "2", "3"]


def test_a_bulk_label_on_records_others_answered_is_refused_whole(open_store):
    ana, ben = open_store("ana"), open_store("ben")
    ben.append("label", "2", label="bug", source="hand")
    with pytest.raises(AlreadyAnsweredError, match="answered by ben"):
        ana.append_labels(["1", "2"], ["bug", "feature"], sources="bulk")
    assert [e.key for e in ana.events()] == ["2"]  # all or nothing


def test_a_rerun_cell_takes_the_annotators_project_over_and_another_kernel_with_the_same_name_is_refused(open_store, pg_url):
    first = open_store("ana")
    second = open_store("ana")  # the same annotator in this process: the newer takes over
    with pytest.raises(StoreError, match="took the project over"):
        first.append("label", "1", label="bug", source="hand")
    second.append("label", "1", label="bug", source="hand")
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    other = ctx.Process(target=_open_as, args=(pg_url, "ana", results))
    other.start()
    message = results.get(timeout=120)
    other.join(60)
    assert "already labels the project" in message


def _open_as(url, annotator, results):
    try:
        TeamStore(url, labels=LABELS, annotator=annotator).close()
        results.put("opened")
    except StoreError as error:
        results.put(str(error))
