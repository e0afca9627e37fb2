"""Labels belong to records, not to one snapshot of a DataFrame: nothing lost when the data, the file or pandas changes."""

import gc
import sqlite3
import weakref

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from activelabel_widget import ActiveLabeler, LabelingSession
from activelabel_widget.errors import DataError, LabelError, ModelError, StoreError, StoreMismatchError

from conftest import LABELS, ticket_frame, truth_of


def label_some(session, n):
    for _ in range(n):
        session.label(session.current, truth_of(session, session.current))


@pytest.fixture
def labeled_store(tmp_path):
    """A store with 20 hand labels on ticket_frame(60)."""
    path = tmp_path / "labels.db"
    session = LabelingSession(ticket_frame(), text="body", labels=LABELS, store=path, background=False)
    label_some(session, 20)
    labels = session.labeled["label"].copy()
    session.close()
    return path, labels


def reopen(df, path, **options):
    options.setdefault("text", "body")
    return LabelingSession(df, labels=LABELS, store=path, background=False, **options)


def test_grown_data_keeps_every_label_and_adds_the_new_rows_to_the_pool(labeled_store):
    path, labels = labeled_store
    grown = pd.concat([ticket_frame(), ticket_frame(30, start=500)])
    session = reopen(grown, path)
    assert session.labeled["label"].equals(labels)
    assert session.restore_report.summary() == "20 labels restored; 70 new rows"
    assert session.progress == {"labeled": 20, "total": 90, "session": 0, "skipped": 0, "rejected": 0}
    session.close()


def test_reordered_data_keeps_every_label_on_its_record(labeled_store):
    path, labels = labeled_store
    shuffled = ticket_frame().sample(frac=1.0, random_state=3)
    session = reopen(shuffled, path)
    assert session.labeled["label"].sort_index().equals(labels.sort_index())
    session.close()


def test_shrunk_data_keeps_the_labels_of_gone_rows_in_the_store_and_says_so(labeled_store):
    path, labels = labeled_store
    kept = ticket_frame().drop(index=labels.index[:5])
    session = reopen(kept, path)
    assert len(session.labeled) == 15
    assert "5 labeled rows no longer in the data" in session.restore_report.summary()
    missing = session.missing_labels()
    assert sorted(missing.index) == sorted(f"i:{k}" for k in labels.index[:5])
    assert (missing["why"] == "not in the data").all() and missing["label"].notna().all()
    session.close()
    # the gone rows come back with their labels when the data has them again
    session = reopen(ticket_frame(), path)
    assert len(session.labeled) == 20
    session.close()


def test_a_row_whose_content_changed_is_flagged_not_silently_relabeled(labeled_store):
    path, labels = labeled_store
    df = ticket_frame()
    changed_key = labels.index[0]
    df.loc[changed_key, "body"] = "completely different text"
    session = reopen(df, path)
    assert changed_key not in session.labeled.index and len(session.labeled) == 19
    assert "1 labeled row changed since" in session.restore_report.summary()
    assert session.missing_labels().loc[f"i:{changed_key}", "why"] == "changed"
    session.close()


def test_shown_columns_are_context_not_the_record_so_adding_dropping_or_editing_one_keeps_every_label(tmp_path):
    df = ticket_frame().assign(author=[f"user {i % 7}" for i in range(60)], team=["core", "web"] * 30)
    path = tmp_path / "labels.db"
    session = reopen(df, path, show=["author"])
    label_some(session, 10)
    labels = session.labeled["label"].copy()
    session.close()
    edited = df.assign(author="someone else")
    for show in (["author", "team"], [], ["team"]):
        again = reopen(edited, path, show=show)
        assert again.labeled["label"].equals(labels) and again.restore_report.changed == []
        again.close()


def test_labels_saved_while_shown_columns_counted_as_the_record_still_apply(tmp_path):
    from activelabel_widget.dataset import Dataset
    from activelabel_widget.store import LabelStore

    df = ticket_frame().assign(author=[f"user {i % 7}" for i in range(60)])
    then = Dataset(df, text="body", show=["author"]).shown_hashes()  # the hash labels were saved with before
    store = LabelStore(tmp_path / "labels.db", labels=LABELS)
    for position in range(5):
        store.append("label", f"i:{df.index[position]}", label="bug", source="hand", content=int(then[position]))
    store.close()
    session = reopen(df, tmp_path / "labels.db", show=["author"])
    assert len(session.labeled) == 5
    session.undo()  # the record is on screen as it was: its label can be taken back
    assert len(session.labeled) == 4
    session.close()


@pytest.mark.parametrize("change", ["dropped", "edited"])
def test_undo_never_takes_back_a_label_whose_row_is_gone_or_changed(labeled_store, change):
    path, labels = labeled_store
    last = labels.index[-1]  # the newest answer: the one undo would take back
    df = ticket_frame()
    df = df.drop(index=[last]) if change == "dropped" else df.assign(
        body=df["body"].where(df.index != last, "another text"))
    session = reopen(df, path)
    with pytest.raises(LabelError, match=rf"Undo stops here: the last answer is on row {last}\b.*missing_labels"):
        session.undo()
    assert len(session.missing_labels()) == 1 and len(session.labeled) == 19
    session.close()
    # the label is still there when the row is back as it was, and undo takes it back then
    session = reopen(ticket_frame(), path)
    assert session.labeled["label"].equals(labels)
    assert session.undo() == last and last not in session.labeled.index
    session.close()


def test_undo_takes_back_a_skip_on_a_gone_row_but_stops_at_its_note(tmp_path):
    df = ticket_frame()
    session = reopen(df, tmp_path / "labels.db")
    session.label(df.index[0], "bug")
    session.skip(df.index[1])
    session.close()
    session = reopen(df.drop(index=[df.index[1]]), tmp_path / "labels.db")
    session.undo()  # a skip loses nothing: it goes, and the label before it is next
    assert session.undo() == df.index[0] and session.label_of(df.index[0]) is None
    session.note(df.index[2], "keep an eye on it")
    session.close()
    session = reopen(df.drop(index=[df.index[2]]), tmp_path / "labels.db")
    with pytest.raises(LabelError, match=rf"row {df.index[2]}, which is not in this data any more\. Its note stays"):
        session.undo()
    session.close()


def test_a_rename_stays_undoable_when_some_renamed_rows_are_gone(labeled_store):
    path, labels = labeled_store
    gone = labels.index[labels == labels.iloc[0]][:1]
    session = reopen(ticket_frame().drop(index=gone), path)
    renamed = session.rename_label(labels.iloc[0], "renamed")
    assert renamed == (labels == labels.iloc[0]).sum()  # the gone row's label is renamed too
    session.undo()
    assert session.missing_labels()["label"].tolist() == [labels.iloc[0]]
    session.close()
    session = reopen(ticket_frame(), path)
    assert session.labeled["label"].equals(labels)
    session.close()


@pytest.mark.parametrize("convert", [
    lambda df: df.astype({"body": "string"}),
    lambda df: df.astype({"body": "object"}),
], ids=["string dtype", "object dtype"])
def test_the_same_text_read_with_another_dtype_keeps_every_label(labeled_store, convert):
    path, labels = labeled_store
    session = reopen(convert(ticket_frame()), path)
    assert session.labeled["label"].equals(labels)
    session.close()


def test_the_same_numbers_as_float32_keep_every_label(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    session = LabelingSession(df, features=["a", "b", "c"], labels=["x", "y"], store=tmp_path / "s.db", background=False)
    for label in ["x", "y"] * 4:
        session.label(session.current, label)
    session.close()
    again = LabelingSession(df.astype("float32"), features=["a", "b", "c"], labels=["x", "y"],
                            store=tmp_path / "s.db", background=False)
    assert len(again.labeled) == 8
    again.close()


def test_other_data_is_refused_with_what_differs_and_how_to_continue(labeled_store):
    path, _ = labeled_store
    other = pd.DataFrame({"body": [f"unrelated {i}" for i in range(60)]}, index=pd.RangeIndex(100, 160))
    with pytest.raises(StoreMismatchError, match="none of them matches") as raised:
        reopen(other, path)
    assert "store= a new path" in str(raised.value) and "60 rows have other content" not in str(raised.value)


def test_the_labels_of_another_store_can_be_imported_as_one_undo_step(labeled_store, tmp_path):
    path, labels = labeled_store
    mine = reopen(ticket_frame(), tmp_path / "mine.db")
    message = mine.import_labels(path)
    assert message.startswith("20 labels imported")
    assert mine.labeled["label"].sort_index().equals(labels.sort_index())
    again = mine.import_labels(path)
    assert again.startswith("0 labels imported") and "20 already here" in again
    mine.undo()
    assert len(mine.labeled) == 0
    mine.close()


def test_the_default_store_has_a_stable_name_the_card_shows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    al = ActiveLabeler(ticket_frame(), text="body", labels=LABELS, background=False)
    assert al.store_path == str(tmp_path / "activelabel.db") and al.widget.store_path == "activelabel.db"
    al.close()


def test_a_store_deleted_under_the_card_shows_an_error_and_acknowledges_nothing(tmp_path):
    al = ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    widget = al.widget
    card = widget.card
    widget._on_intent(widget, {"action": "label", "key": card["key"], "token": card["token"], "label": "bug"})
    (tmp_path / "s.db").unlink()
    card = widget.card
    widget._on_intent(widget, {"action": "label", "key": card["key"], "token": card["token"], "label": "bug"})
    assert "deleted or moved" in widget.error and "import_labels" in widget.error
    assert widget.card["key"] == card["key"]  # not acknowledged: the same record is still on the card
    assert len(al.labeled) == 1
    al.close()


def test_a_record_that_cannot_be_shown_is_still_its_own_card_and_trains(tmp_path):
    class Hostile:
        def __str__(self):
            raise ValueError("no text for you")

    df = ticket_frame(30)
    df["body"] = df["body"].astype(object)
    df.loc[df.index[:3], "body"] = [Hostile(), Hostile(), Hostile()]
    session = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False,
                              strategy="random")
    seen_problem = False
    for _ in range(30):
        payload = session.current_payload()
        position = session.current_position
        if payload.problem:
            seen_problem = True
            assert position < 3 and "cannot be shown" in payload.problem
        session.label(session.current, LABELS[position % 3])
    assert seen_problem and session.model_status.state == "ready"
    session.close()


def test_random_state_none_draws_one_seed_and_the_model_trains(make_session):
    session = make_session(random_state=None)
    assert isinstance(session.random_state, int)
    label_some(session, 8)
    assert session.model_status.state == "ready"


def test_promoting_weak_labels_is_one_undo_step_by_the_user_and_idempotent(tmp_path):
    from activelabel_widget import keywords

    al = ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "s.db", background=False,
                       annotator="ada")
    al.add_heuristic(keywords(label="bug", column="body", words=["crash"]),
                     keywords(label="feature", column="body", words=["please add"]))
    promoted = al.promote_weak(min_confidence=0.5)
    assert promoted > 5 and al.promote_weak(min_confidence=0.5) == 0
    frame = al.to_frame()
    assert set(frame.loc[frame["source"] == "weak", "annotator"]) == {"ada"}
    al.session.undo()
    assert al.to_frame()["source"].isna().all()
    al.close()


def test_a_label_pressed_and_undone_can_be_dropped_from_labels(tmp_path):
    session = LabelingSession(ticket_frame(), text="body", labels=LABELS + ["oops"], store=tmp_path / "s.db",
                              background=False)
    session.label(session.current, "oops")
    session.undo()
    session.close()
    LabelingSession(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "s.db", background=False).close()


def test_a_label_dropped_from_labels_is_kept_in_the_store_reported_and_back_when_the_name_is(tmp_path):
    session = LabelingSession(ticket_frame(), text="body", labels=LABELS + ["oops"], store=tmp_path / "s.db",
                              background=False)
    key = session.current
    session.label(key, "oops")
    session.label(session.current, "bug")
    session.close()
    without = LabelingSession(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    summary = without.restore_report.summary()
    assert summary.startswith("1 label restored") and "1 label 'oops' not in labels=" in summary
    assert without.label_of(key) is None and key not in without.labeled.index  # shown again to label
    assert without.missing_labels().loc[f"i:{key}", "why"] == "label not in labels="
    without.close()
    back = LabelingSession(ticket_frame(), text="body", labels=LABELS + ["oops"], store=tmp_path / "s.db",
                           background=False)
    assert back.label_of(key) == "oops" and back.restore_report.summary().startswith("2 labels restored;")
    assert "oops" not in back.restore_report.summary()
    back.close()


def test_malformed_label_fields_are_refused_before_the_commit(make_session):
    session = make_session()
    with pytest.raises(LabelError, match="confidence"):
        session.label(session.current, "bug", confidence="high")
    with pytest.raises(LabelError, match="source="):
        session.label(session.current, "bug", source="robot")
    assert len(session.labeled) == 0 and session.store.events() == []


def test_absurd_label_counts_model_classes_and_sparse_embeddings_get_clear_errors(tmp_path):
    import scipy.sparse as sp

    df = ticket_frame(10)
    with pytest.raises(LabelError, match="at most"):
        LabelingSession(df, text="body", labels=[f"l{i}" for i in range(40_000)], store=":memory:")
    with pytest.raises(ModelError, match="not an estimator"):
        LabelingSession(df, text="body", labels=LABELS, model=LogisticRegression, store=":memory:")
    with pytest.raises(DataError, match="sparse"):
        LabelingSession(df, text="body", labels=LABELS, embeddings=sp.eye(10, format="csr"), store=":memory:")
    with pytest.raises(StoreError, match="is a folder"):
        LabelingSession(df, text="body", labels=LABELS, store=tmp_path)


def test_running_the_cell_again_closes_the_old_labeler_and_frees_it(tmp_path):
    path = tmp_path / "s.db"
    first = ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store=path, background=False)
    first.widget  # noqa: B018 - the card exists, as in a notebook
    first.session.label(first.session.current, "bug")
    gone = weakref.ref(first.session)
    second = ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store=path, background=False)
    assert first.session.closed_because.startswith("a newer labeler")
    assert "run again" in first.widget.error and first.widget.card["kind"] == "empty"
    del first
    gc.collect()
    assert gone() is None  # nothing (a widget registry, a thread) keeps the old session alive
    assert len(second.labeled) == 1
    second.close()


def test_a_copied_db_after_a_kill_is_refused_or_complete_never_empty(tmp_path):
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "s.db"
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(tmp_path.parent)!r})
        from activelabel_widget.store import LabelStore
        store = LabelStore({str(path)!r}, labels=["a", "b"])
        for i in range(50):
            store.append("label", f"i:{{i}}", label="a", source="hand")
        os._exit(9)  # killed: no close, no idle checkpoint
    """)
    subprocess.run([sys.executable, "-c", script], check=False)
    copy = tmp_path / "copy" / "s.db"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    from activelabel_widget.store import LabelStore

    with pytest.raises(StoreError, match="-wal"):
        LabelStore(copy, labels=["a", "b"])
    # an import of that copy is refused too, and leaves no -wal beside it that would pass it for complete
    mine = LabelingSession(pd.DataFrame({"body": ["x", "y"]}), text="body", labels=["a", "b"],
                           store=tmp_path / "mine.db", background=False)
    for _ in range(2):
        with pytest.raises(StoreError, match="copied while labels were being written"):
            mine.import_labels(copy)
    mine.close()
    assert not [p.name for p in copy.parent.iterdir() if p.name.endswith(("-wal", "-shm"))]
    with pytest.raises(StoreError, match="-wal"):
        LabelStore(copy, labels=["a", "b"])
    original = LabelStore(path, labels=["a", "b"])  # beside its -wal, every label is there
    assert len(original.replay().labels) == 50
    original.close()
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM events").fetchone()[0] == 50
