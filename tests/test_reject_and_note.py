"""Answers besides a label: reject a record (unusable: out of training and out of the line) and a note on it."""

import sqlite3

import pandas as pd
import pytest

from activelabel_widget import ActiveLabeler, LabelingSession
from activelabel_widget.errors import LabelError

from conftest import LABELS, ticket_frame, truth_of


def test_a_rejected_record_leaves_the_line_and_training_and_is_in_labeled_as_rejected(tmp_path):
    session = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    key = session.current
    session.reject()
    assert session.current != key and session.progress["rejected"] == 1 and session.progress["labeled"] == 0
    assert session.dataset.position(key) not in session.queued(30).tolist()
    assert session.hand_codes()[session.dataset.position(key)] == -1  # never trained on
    row = session.labeled.loc[key]
    assert bool(row["rejected"]) and pd.isna(row["label"])
    session.note(key, "  garbled export, ask the team  ")
    assert session.note_of(key) == "garbled export, ask the team"
    assert session.labeled.loc[key, "note"] == "garbled export, ask the team"
    assert [a.action for a in session.recent_answers()][:2] == ["note", "reject"]
    session.close()

    again = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    assert again.progress["rejected"] == 1 and again.note_of(key) == "garbled export, ask the team"
    assert again.dataset.position(key) not in again.queued(30).tolist()
    history = again.label_history(key)
    assert history["action"].tolist() == ["reject", "note"]
    again.close()


def test_undo_takes_back_a_note_then_a_rejection_and_the_record_comes_back(tmp_path):
    session = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=":memory:", background=False)
    key = session.current
    session.note(key, "first thought")
    session.note(key, "second thought")
    session.reject()
    assert session.undo() == key and session.current == key and session.progress["rejected"] == 0
    assert session.undo() == key and session.note_of(key) == "first thought"
    assert session.undo() == key and session.note_of(key) == ""
    session.close()


def test_rejecting_a_labeled_record_takes_its_label_off_and_undo_puts_it_back():
    session = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=":memory:", background=False)
    key = session.current
    session.label(key, "bug")
    session.reject(key)
    assert session.label_of(key) is None and session.progress == {**session.progress, "labeled": 0, "rejected": 1}
    session.undo()
    assert session.label_of(key) == "bug" and session.progress["rejected"] == 0
    session.label(session.current, "feature")
    session.reject(key)
    session.label(key, "question")  # a label after a rejection: the record is usable again
    assert session.label_of(key) == "question" and session.progress["rejected"] == 0
    session.undo()
    assert session.label_of(key) is None and session.progress["rejected"] == 1  # the rejection is back
    session.close()


def test_a_rejected_record_survives_a_snapshot_and_a_changed_record_comes_back(tmp_path):
    session = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    key = session.current
    session.reject()
    session.note(key, "spam")
    session.close()  # writes the snapshot the next open reads packed
    df = ticket_frame(30)
    reopened = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    assert "_packed" in reopened._state.__dict__ and reopened.progress["rejected"] == 1
    reopened.close()
    df.loc[key, "body"] = "rewritten since"
    changed = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    assert changed.progress["rejected"] == 0  # a rejection is of the record as it was
    changed.close()


def test_a_note_that_is_not_text_or_too_long_is_refused_and_nothing_is_saved():
    session = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=":memory:", background=False)
    with pytest.raises(LabelError, match="at most 10,000 characters"):
        session.note(session.current, "x" * 10_001)
    assert session.store.events() == []
    session.close()


def test_a_store_from_before_rejections_is_upgraded_in_place_with_every_event_kept(tmp_path):
    path = tmp_path / "old.db"
    session = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=path, background=False)
    for label in ("bug", "feature"):
        session.label(session.current, label)
    session.skip()
    session.undo()
    before = session.store.events()
    session.close()
    # make it a version 3 store, as the previous release wrote it: the old CHECK and no note column
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE old_events (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('label', 'skip', 'undo')), key TEXT NOT NULL, label TEXT,
            annotator TEXT, source TEXT, confidence REAL, undoes INTEGER REFERENCES events(id), batch INTEGER,
            content INTEGER);
        INSERT INTO old_events SELECT id, at, action, key, label, annotator, source, confidence, undoes, batch, content
            FROM events;
        DROP TABLE events; ALTER TABLE old_events RENAME TO events; DELETE FROM snapshot; PRAGMA user_version = 3;
    """)
    conn.close()
    upgraded = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=path, background=False)
    assert upgraded.store.events() == before
    assert sorted(upgraded.labeled["label"].astype(str)) == ["bug", "feature"]
    upgraded.reject()  # the new action is accepted by the upgraded table
    assert upgraded.progress["rejected"] == 1
    upgraded.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 4 and conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_the_card_rejects_from_the_page_and_saves_a_note(tmp_path):
    al = ActiveLabeler(ticket_frame(30), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    widget, session = al.widget, al.session
    record = dict(widget.card)
    widget.handle_intent({"action": "note", "key": record["key"], "token": None, "text": "duplicate of 12"})
    assert widget.card["note"] == "duplicate of 12"
    widget.handle_intent({"action": "reject", "key": record["key"], "token": None, "view": "v1", "seq": 1,
                          "next": widget.upcoming[0]["key"]})
    assert widget.answered["v1"] == {"through": 1, "refused": []} and widget.progress["rejected"] == 1
    assert widget.card["key"] != record["key"] and widget.card["note"] == ""
    assert widget.recent[0]["action"] == "reject"
    widget.handle_intent({"action": "undo", "key": record["key"], "token": None, "view": "v1", "seq": 2})
    assert widget.card["key"] == record["key"] and widget.progress["rejected"] == 0
    for _ in range(6):
        session.label(session.current, truth_of(session, session.current))
    al.close()


def test_a_rejected_record_comes_back_from_the_recent_answers_to_be_labeled(tmp_path):
    al = ActiveLabeler(ticket_frame(30), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    widget, session = al.widget, al.session
    key = session.current
    session.reject()
    labeling = session.current
    entry = widget.recent[0]
    assert entry["action"] == "reject" and entry["open"] is True
    widget.handle_intent({"action": "revisit", "key": entry["key"], "token": None})
    assert session.current == key and widget.card["reason"] == "brought back from the recent answers"
    session.label(key, "bug")
    assert session.progress["rejected"] == 0 and session.current == labeling
    al.close()


def test_a_rejection_stands_against_weak_labels_and_another_stores_labels(tmp_path):
    from activelabel_widget import keywords

    df = ticket_frame(30)
    crash = [key for key in df.index if "crash" in df.loc[key, "body"]][0]
    theirs = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "theirs.db", background=False)
    theirs.label(crash, "bug")
    theirs.close()
    al = ActiveLabeler(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    al.session.reject(crash)
    al.add_heuristic(keywords(label="bug", column="body", words=["crash"]))
    assert al.promote_weak(min_confidence=0.0) > 0
    report = al.import_labels(tmp_path / "theirs.db")
    assert report.startswith("0 labels imported") and "1 rows rejected here stayed rejected" in report
    assert al.session.label_of(crash) is None and al.session.progress["rejected"] == 1
    assert al.labeled.loc[crash, "rejected"]  # the hand-off frame still reads
    al.close()
    again = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    assert again.progress["rejected"] == 1 and again.label_of(crash) is None
    again.close()


def test_a_bulk_label_by_a_person_replaces_a_rejection_and_counts_each_row_once(tmp_path):
    session = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    key = session.current
    session.reject()
    other = session.current
    assert session.label_many([session.dataset.position(k) for k in (key, other, other)],
                              ["bug", "bug", "feature"], source="bulk") == 2
    assert session.progress["rejected"] == 0 and session.progress["labeled"] == 2
    assert session.label_of(key) == "bug" and session.label_of(other) == "feature"  # the last given for a row
    assert not session.labeled["rejected"].any()
    session.undo()
    assert session.progress["rejected"] == 1 and session.progress["labeled"] == 0
    session.close()


def test_skipping_a_rejected_record_brought_back_keeps_it_rejected_and_the_card_says_all_is_answered(tmp_path):
    df = ticket_frame(3)
    al = ActiveLabeler(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    session, widget = al.session, al.widget
    rejected = session.current
    session.reject()
    session.label(session.current, "bug")
    session.label(session.current, "feature")
    assert widget.card["kind"] == "done" and "2 labeled, 1 rejected" in widget.card["text"]
    widget.handle_intent({"action": "revisit", "key": widget.recent[-1]["key"], "token": None})
    assert session.current == rejected
    session.skip()
    assert session.current is None and session.progress["skipped"] == 0 and session.progress["rejected"] == 1
    assert widget.card["kind"] == "done"
    with pytest.raises(LabelError, match="no record on the card"):
        session.accept()
    al.close()


def test_undoing_a_bulk_label_of_the_last_records_puts_one_back_on_the_card_and_counts_only_your_labels(tmp_path):
    df = ticket_frame(4)
    al = ActiveLabeler(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    session = al.session
    session.label(session.current, "bug")
    session.label(session.current, "feature")
    rest = [key for key in df.index if session.label_of(key) is None]
    assert al.label_many(rest, "question") == 2 and session.current is None
    session.undo()
    assert session.current in rest and al.widget.card["kind"] == "text"
    assert session.progress["session"] == 2  # the bulk label was never counted as yours, nor is its undo
    session.undo()  # the next undo takes back the last label you gave
    assert session.progress["session"] == 1
    al.close()
