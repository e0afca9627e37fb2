"""Labeling as a team on one PostgreSQL server: each record to one annotator, everyone's labels everywhere."""

import multiprocessing
import os
import queue
import signal
import time

import pytest

from activelabel_widget import LabelingSession
from activelabel_widget.errors import AlreadyAnsweredError, OptionError

from tickets import LABELS, ticket_frame


@pytest.fixture
def team(pg_url):
    made = []

    def join(annotator, df=None, **options):
        options.setdefault("background", False)
        session = LabelingSession(ticket_frame() if df is None else df, text="body", labels=LABELS, store=pg_url,
                                  annotator=annotator, **options)
        made.append(session)
        return session

    yield join
    for session in made:
        session.close()


def truth(session, key):
    return session.dataset.df.loc[key, "truth"]


def test_two_annotators_get_different_records_and_see_each_others_labels(team):
    ana, ben = team("ana"), team("ben")
    assert ana.current != ben.current
    for _ in range(5):
        ana.label(ana.current, truth(ana, ana.current))
    assert ben.follow_team()
    assert ben.progress["labeled"] == 5 and ana.progress["labeled"] == 5
    ana_keys = set(ana.labeled.index)
    for _ in range(5):
        assert ben.current not in ana_keys
        ben.label(ben.current, truth(ben, ben.current))
    ana.follow_team()
    assert set(ana.labeled.index) == set(ben.labeled.index) and len(ana.labeled) == 10
    assert set(ana.labeled["annotator"]) == {"ana", "ben"}


def test_an_undo_takes_back_only_your_own_answer(team):
    ana, ben = team("ana"), team("ben")
    mine = ana.current
    ana.label(mine, "bug")
    theirs = ben.current
    ben.label(theirs, "feature")
    ana.follow_team()
    assert ana.undo() == mine  # ben's label came later, but it is not ana's to take back
    ben.follow_team()
    assert list(ben.labeled.index) == [theirs] and list(ana.labeled.index) == [theirs]


def test_a_restart_brings_back_everyones_labels(team, pg_url):
    ana, ben = team("ana"), team("ben")
    ana.label(ana.current, "bug")
    ben.label(ben.current, "question")
    ana.close()
    again = team("ana")
    assert len(again.labeled) == 2 and set(again.labeled["annotator"]) == {"ana", "ben"}


def test_a_late_answer_on_a_record_someone_else_answered_is_refused_and_the_card_moves_on(team):
    ana, ben = team("ana", lease_seconds=0.3), team("ben")
    contested = ana.current
    time.sleep(0.5)  # ana's lease lapses
    ben.follow_team()
    ben.show(contested)
    assert ben.current == contested
    ben.label(contested, "bug")
    with pytest.raises(AlreadyAnsweredError, match="answered by ben"):
        ana.label(contested, "feature")
    assert ana.current != contested
    assert ana.labeled.loc[contested, "label"] == "bug"


def test_lease_seconds_is_for_a_team_store(tmp_path):
    with pytest.raises(OptionError, match="team store"):
        LabelingSession(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "x.db", lease_seconds=5)


def collect(results, procs, timeout: float) -> list:
    """Each worker process's report; fails at once (with the exit codes) when a worker died without one."""
    done, deadline = [], time.monotonic() + timeout
    while len(done) < len(procs):
        try:
            done.append(results.get(timeout=1.0))
        except queue.Empty:
            if all(not proc.is_alive() for proc in procs) or time.monotonic() > deadline:
                pytest.fail(f"{len(procs) - len(done)} worker(s) ended without a report; exit codes "
                            f"{[proc.exitcode for proc in procs]} (their error is in the captured stderr)")
    for proc in procs:
        proc.join(60)
    return done


def _label_all(url, name, rows, overlap, results, lease_seconds=30, kill_after=None):
    """One annotator's kernel: label what the card shows until no record is left for anyone
    (or, with ``kill_after``, die by SIGKILL after that many answers, holding its leases)."""
    session = LabelingSession(ticket_frame(rows), text="body", labels=LABELS, store=url, annotator=name,
                              background=False, retrain_every=100, lease_seconds=lease_seconds, overlap=overlap)
    answered, refused = [], 0
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        key = session.current
        if key is None:
            session.follow_team()
            progress = session.progress
            if session.current is None and progress["labeled"] == rows and not progress["need_another"]:
                break
            time.sleep(0.1)
            continue
        if kill_after is not None and len(answered) >= kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
        try:
            session.label(key, session.dataset.df.loc[key, "truth"])
            answered.append(int(key))
        except AlreadyAnsweredError:
            refused += 1
    session.close()
    results.put((name, answered, refused))


@pytest.mark.slow
@pytest.mark.parametrize("overlap", [1, 2])
def test_four_annotator_kernels_answer_every_record_exactly_overlap_times(pg_url, overlap):
    rows = 3000
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=_label_all, args=(pg_url, f"a{i}", rows, overlap, results)) for i in range(4)]
    for proc in procs:
        proc.start()
    done = collect(results, procs, 600)
    answered = [key for _, keys, _ in done for key in keys]
    assert sorted(answered) == sorted(list(ticket_frame(rows).index) * overlap)  # every record, overlap times
    assert all(len(keys) == len(set(keys)) for _, keys, _ in done)  # never twice by one annotator
    assert all(len(keys) > 0 for _, keys, _ in done)  # everyone got work
    reader = LabelingSession(ticket_frame(rows), text="body", labels=LABELS, store=pg_url, annotator="reader",
                             background=False, overlap=overlap)
    try:
        assert reader.progress["labeled"] == rows
        per_record = reader.answers().groupby(level=0)["annotator"].nunique()
        assert len(per_record) == rows and (per_record == overlap).all()
    finally:
        reader.close()


@pytest.mark.slow
def test_an_annotator_kernel_killed_holding_leases_keeps_its_answers_and_the_others_finish_its_records(pg_url):
    rows = 600
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    killed = ctx.Process(target=_label_all, args=(pg_url, "killed", rows, 1, results, 2.0, 25))
    killed.start()
    killed.join(120)
    assert killed.exitcode == -signal.SIGKILL
    others = [ctx.Process(target=_label_all, args=(pg_url, f"a{i}", rows, 1, results, 2.0)) for i in range(2)]
    for proc in others:
        proc.start()
    done = collect(results, others, 300)
    reader = LabelingSession(ticket_frame(rows), text="body", labels=LABELS, store=pg_url, annotator="reader",
                             background=False)
    try:
        answers = reader.answers()
    finally:
        reader.close()
    assert (answers["annotator"] == "killed").sum() == 25  # every answer it committed stays
    assert sorted(answers.index) == sorted(ticket_frame(rows).index)  # its leased records went to the others
    assert sum(len(keys) for _, keys, _ in done) == rows - 25


def test_a_project_holding_another_data_sets_labels_is_refused(team, pg_url):
    from activelabel_widget.errors import StoreMismatchError

    ana = team("ana")
    for _ in range(3):
        ana.label(ana.current, "bug")
    other = ticket_frame(start=5000)  # other rows: no label of the project matches one of them
    other["body"] = other["body"] + " (another data set)"
    with pytest.raises(StoreMismatchError):
        LabelingSession(other, text="body", labels=LABELS, store=pg_url, annotator="ben", background=False)


def test_the_card_says_how_many_people_label_and_how_many_records_others_hold(team):
    from activelabel_widget.widget import LabelingWidget

    ana, ben = team("ana"), team("ben")
    card = LabelingWidget(ana, preload=4)
    assert ana.team_window == 4
    ben.label(ben.current, "bug")
    ana.follow_team()  # the card refreshes when others label (a thread does this every second)
    assert card.progress["annotators"] == 1 and card.progress["labeled"] == 1
    assert card.progress["with_others"] == ben.team_window  # ben holds his card and his page's line
    ana.label(ana.current, "feature")
    assert card.progress["annotators"] == 2 and card.progress["session"] == 1
    card.close()


def test_with_overlap_two_every_record_gets_two_answers_and_agreement_is_measured(team):
    ana, ben = team("ana", overlap=2), team("ben", overlap=2)
    assert ana.current == ben.current  # both may answer the first record
    first = ana.current
    ana.label(first, "bug")
    ben.follow_team()
    assert ben.current == first  # ana's answer does not close it for ben
    assert ben.progress["need_another"] == 1  # ana's answer waits for a second one
    ben.label(first, "feature")
    ana.follow_team()
    assert ana.current != first and ben.current != first
    assert ana.progress["need_another"] == 0
    answers = ana.answers()
    assert sorted(answers.loc[[first], "annotator"]) == ["ana", "ben"]
    assert list(ana.disagreements().index) == [first]
    ana.adjudicate(first, "feature")
    assert ana.labeled.loc[first, ["label", "source"]].tolist() == ["feature", "adjudicated"]
    assert ana.disagreements().empty
    assert len(ana.answers().loc[[first]]) == 2  # the adjudication settles the answers; it is not one
    cy = team("cy", overlap=2)
    assert cy.current != first  # two answers: closed to a third annotator


def test_with_overlap_an_agreeing_answer_is_saved_and_a_second_answer_by_the_same_person_is_a_correction(team):
    ana, ben = team("ana", overlap=2), team("ben", overlap=2)
    key = ana.current
    ana.label(key, "bug")
    ben.follow_team()
    ben.label(key, "bug")  # the same label as ana's: ben's own answer, saved
    assert sorted(ben.answers().loc[[key], "annotator"]) == ["ana", "ben"]
    ben.label(key, "question")  # ben changes his answer
    answers = ben.answers().loc[[key]].set_index("annotator")
    assert answers.loc["ben", "label"] == "question" and answers.loc["ana", "label"] == "bug"
    assert answers.loc["ben", "source"] == "corrected"


def test_a_server_that_goes_away_is_a_clear_error_the_card_keeps_its_record_and_labeling_resumes(team, postgres_server):
    from activelabel_widget.errors import StoreError
    from activelabel_widget.widget import LabelingWidget

    ana = team("ana")
    card = LabelingWidget(ana)
    ana.label(ana.current, "bug")
    key = ana.current
    postgres_server.stop("immediate")
    try:
        card.handle_intent({"action": "label", "key": str(card.card["key"]), "label": "feature",
                            "token": card.card["token"]})
        assert "not answering" in card.error and "Nothing was saved" in card.error
        assert ana.current == key  # the record waits on the card for the answer that was not saved
        with pytest.raises(StoreError):
            ana.follow_team()
    finally:
        postgres_server.start()
    ana.label(key, "feature")
    ana.follow_team()  # the server answers again: no error
    assert ana.labeled.loc[key, "label"] == "feature" and len(ana.answers()) == 2
    card.close()


def test_an_annotator_alone_on_the_server_labels_every_record_without_the_card_running_dry(team):
    ana = team("ana")
    for _ in range(60):
        key = ana.current
        assert key is not None, f"the card ran dry after {ana.progress['labeled']} labels"
        ana.label(key, truth(ana, key))
    assert ana.current is None and ana.progress["labeled"] == 60


def test_the_labeler_takes_the_team_options_and_its_card_leases_what_its_page_holds(pg_url):
    from activelabel_widget import ActiveLabeler

    al = ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store=pg_url + "?project=tickets",
                       annotator="ana", overlap=2, lease_seconds=60, preload=3, background=False)
    try:
        assert al.widget.progress["annotators"] == 0 and al.session.team_window == 3
        assert "(project tickets)" in al.widget.store_path and al.session.overlap == 2
        al.session.label(al.session.current, "bug")
        assert len(al.answers()) == 1 and al.disagreements().empty
        assert al.agreement()["overall"]["records_with_several_answers"] == 0
    finally:
        al.close()


def test_an_undone_adjudication_and_an_undone_import_leave_the_answers_readable(team):
    ana, ben = team("ana", overlap=2), team("ben", overlap=2)
    key = ana.current
    ana.label(key, "bug")
    ben.follow_team()
    ben.label(key, "feature")
    ana.follow_team()
    ana.adjudicate(key, "bug")  # the same label as ana's own answer: still saved as the settlement
    assert ana.labeled.loc[key, "source"] == "adjudicated"
    assert ana.undo() == key
    answers = ana.answers().loc[[key]].set_index("annotator")["label"].to_dict()
    assert answers == {"ana": "bug", "ben": "feature"} and list(ana.disagreements().index) == [key]


def test_following_twice_applies_each_event_once(team):
    ana, ben = team("ana"), team("ben")
    ben.label(ben.current, "bug")
    events = ana.store.events()
    ana.store.events = lambda after=0, key=None: events  # a second follow sees the same events again
    ana.follow_team()
    ana.follow_team()
    assert len(ana._state.history) == 1 and ana.progress["labeled"] == 1


def test_with_overlap_a_record_others_filled_while_it_sat_on_your_card_moves_on(team):
    ana = team("ana", overlap=2, lease_seconds=0.3)
    ben, cy = team("ben", overlap=2), team("cy", overlap=2)
    key = ana.current
    time.sleep(0.5)  # ana's lease lapses while the record sits on her card
    for other in (ben, cy):
        other.follow_team()
        other.show(key)
        other.label(key, "bug")
    ana.follow_team()
    assert ana.current != key  # two answers already: the card moved on
