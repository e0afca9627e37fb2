"""Every event is committed to SQLite as it is made; the log replays to the current labels."""

import json
import sqlite3

import pytest

from activelabel_widget.errors import StoreError, StoreMismatchError
from activelabel_widget.store import APPLICATION_ID, LabelStore

FP = ("keys-hash", "content-hash")


def open_store(path, fingerprint=FP, labels=("a", "b")):
    return LabelStore(path, fingerprint=fingerprint, labels=list(labels))


def test_events_are_committed_and_visible_to_another_connection(tmp_path):
    store = open_store(tmp_path / "s.db")
    store.append("label", "i:1", label="a", annotator="ann", source="hand")
    rows = sqlite3.connect(tmp_path / "s.db").execute("SELECT action, key, label, annotator FROM events").fetchall()
    assert rows == [("label", "i:1", "a", "ann")]
    store.close()


def test_replay_applies_labels_skips_and_undos_in_order(tmp_path):
    store = open_store(tmp_path / "s.db")
    first = store.append("label", "i:1", label="a", source="hand")
    relabel = store.append("label", "i:1", label="b", source="hand")
    skip = store.append("skip", "i:2")
    store.append("undo", "i:2", undoes=skip.id)
    store.append("undo", "i:1", undoes=relabel.id)
    state = store.replay()
    assert {k: e.label for k, e in state.labels.items()} == {"i:1": "a"}
    assert list(state.skipped) == []
    assert [step[-1][0].id for step in state.history] == [first.id]


def test_a_store_reopens_with_its_labels(tmp_path):
    store = open_store(tmp_path / "s.db")
    store.append("label", "i:1", label="a", source="hand")
    store.close()
    again = open_store(tmp_path / "s.db")
    assert list(again.replay().labels) == ["i:1"]
    again.close()


def test_a_store_made_for_other_data_is_refused(tmp_path):
    open_store(tmp_path / "s.db").close()
    with pytest.raises(StoreMismatchError, match="other rows"):
        open_store(tmp_path / "s.db", fingerprint=("other", "content-hash"))
    with pytest.raises(StoreMismatchError, match="different content"):
        open_store(tmp_path / "s.db", fingerprint=("keys-hash", "other"))


def test_labels_may_be_added_but_used_labels_not_dropped(tmp_path):
    store = open_store(tmp_path / "s.db")
    store.append("label", "i:1", label="b", source="hand")
    store.close()
    open_store(tmp_path / "s.db", labels=("a", "b", "c")).close()
    stored = sqlite3.connect(tmp_path / "s.db").execute("SELECT value FROM meta WHERE name = 'labels'").fetchone()[0]
    assert json.loads(stored) == ["a", "b", "c"]
    with pytest.raises(StoreMismatchError, match=r"\['b'\]"):
        open_store(tmp_path / "s.db", labels=("a", "c"))


def test_files_that_are_not_ours_are_refused_untouched(tmp_path):
    text_file = tmp_path / "notes.db"
    text_file.write_text("these are my notes, not a database" * 50)
    before = text_file.read_bytes()
    with pytest.raises(StoreError, match="not a readable label store"):
        open_store(text_file)
    assert text_file.read_bytes() == before

    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="another program"):
        open_store(other)


def test_a_truncated_store_is_refused_with_a_clear_error(tmp_path):
    path = tmp_path / "s.db"
    store = open_store(path)
    for i in range(500):
        store.append("label", f"i:{i}", label="a", source="hand")
    store.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError):
        open_store(path)


def test_a_read_only_store_is_refused_before_any_label(tmp_path):
    path = tmp_path / "s.db"
    open_store(path).close()
    path.chmod(0o444)
    try:
        with pytest.raises(StoreError, match="read-only"):
            open_store(path)
    finally:
        path.chmod(0o644)


def test_our_files_carry_the_application_id(tmp_path):
    open_store(tmp_path / "s.db").close()
    conn = sqlite3.connect(tmp_path / "s.db")
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_heuristic_names_survive_a_reopen_and_a_same_name_replaces(tmp_path):
    store = open_store(tmp_path / "s.db")
    store.add_heuristic("mentions_crash")
    store.add_heuristic("mentions_crash")
    store.close()
    assert open_store(tmp_path / "s.db").heuristics() == ["mentions_crash"]


def test_a_second_labeler_in_another_process_is_refused(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "s.db"
    store = open_store(path)
    code = (
        "import sys\n"
        "from activelabel_widget.store import LabelStore\n"
        "from activelabel_widget.errors import StoreError\n"
        "try:\n"
        f"    LabelStore({str(path)!r}, fingerprint={FP!r}, labels=['a', 'b'])\n"
        "except StoreError as error:\n"
        "    print('REFUSED', error)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.startswith("REFUSED") and "in use by another labeler" in out and "pid" in out
    store.close()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert "REFUSED" not in out  # the lock goes with the labeler that held it


def test_a_newer_labeler_in_the_same_process_takes_the_store_over(tmp_path):
    old = open_store(tmp_path / "s.db")
    old.append("label", "i:1", label="a", source="hand")
    new = open_store(tmp_path / "s.db")
    with pytest.raises(StoreError, match="took it over"):
        old.append("label", "i:2", label="a", source="hand")
    new.append("label", "i:2", label="b", source="hand")
    assert [e.key for e in new.events()] == ["i:1", "i:2"]
    new.close()
