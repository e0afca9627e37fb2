"""Every event is committed to SQLite as it is made; the log replays to the current labels."""

import json
import sqlite3

import pytest

from activelabel_widget.errors import LabelError, StoreError
from activelabel_widget.store import APPLICATION_ID, LabelStore


def open_store(path, labels=("a", "b")):
    return LabelStore(path, labels=list(labels))


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


def test_new_label_names_are_recorded(tmp_path):
    store = open_store(tmp_path / "s.db")
    store.append("label", "i:1", label="b", source="hand")
    store.close()
    open_store(tmp_path / "s.db", labels=("a", "b", "c")).close()
    stored = sqlite3.connect(tmp_path / "s.db").execute("SELECT value FROM meta WHERE name = 'labels'").fetchone()[0]
    assert json.loads(stored) == ["a", "b", "c"]


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


@pytest.mark.parametrize("name", ["a symlink to the file", "another spelling of the path"])
def test_another_name_of_an_open_store_is_the_same_store_not_a_second_writer(tmp_path, name):
    import subprocess
    import sys

    (tmp_path / "real").mkdir()
    path = tmp_path / "real" / "s.db"
    store = open_store(path)
    other = tmp_path / "other.db"
    if name == "a symlink to the file":
        other.symlink_to(path)
    else:
        other = tmp_path / "real" / ".." / "real" / "s.db"
    code = (
        "from activelabel_widget.store import LabelStore\n"
        "from activelabel_widget.errors import StoreError\n"
        "try:\n"
        f"    LabelStore({str(other)!r}, labels=['a', 'b'])\n"
        "except StoreError as error:\n"
        "    print('REFUSED', error)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.startswith("REFUSED") and "in use by another labeler" in out
    store.append("label", "i:0", label="a", source="hand")
    newer = open_store(other)  # in this process: the newer labeler takes the store over, as on a re-run
    assert newer.path == path and store._closed_because.startswith("a newer labeler")
    newer.append("label", "i:1", label="b", source="hand")
    newer.close()
    assert sorted(open_store(path).replay().labels) == ["i:0", "i:1"]


@pytest.mark.parametrize("then", ["deleted", "replaced"])
def test_labels_saved_after_the_log_beside_the_store_was_deleted_or_replaced_survive_a_kill(tmp_path, then):
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "s.db"
    script = textwrap.dedent(f"""
        import os, sqlite3
        from activelabel_widget.store import LabelStore
        store = LabelStore({str(path)!r}, labels=["a", "b"])
        store.append("label", "i:0", label="a", source="hand")  # only in the log when it goes
        for suffix in ("-wal", "-shm"):
            os.remove({str(path)!r} + suffix)
        if {then!r} == "replaced":  # another store's log put in its place
            other = sqlite3.connect({str(tmp_path / "other.db")!r})
            other.execute("PRAGMA journal_mode = WAL")
            other.execute("CREATE TABLE t (x)")
            other.execute("INSERT INTO t VALUES (1)")
            other.commit()
            with open({str(tmp_path / "other.db")!r} + "-wal", "rb") as log, open({str(path)!r} + "-wal", "wb") as out:
                out.write(log.read())
        store.append("label", "i:1", label="b", source="hand")
        store.append("label", "i:2", label="a", source="hand")
        os._exit(9)  # killed before any checkpoint or close
    """)
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert child.returncode == 9, child.stderr  # it got as far as the kill
    store = open_store(path)
    assert sorted(store.replay().labels) == ["i:0", "i:1", "i:2"]
    store.close()


def test_a_store_killed_mid_checkpoint_opens_from_its_log_though_the_db_is_shorter_than_its_header(tmp_path):
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "s.db"
    script = textwrap.dedent(f"""
        import os
        from activelabel_widget.store import LabelStore
        store = LabelStore({str(path)!r}, labels=["a", "b"])
        store._conn.execute("PRAGMA wal_autocheckpoint = 0")  # every page of these labels stays in the log
        for i in range(500):
            store.append("label", f"i:{{i}}", label="a", source="hand")
        os._exit(9)
    """)
    assert subprocess.run([sys.executable, "-c", script], capture_output=True).returncode == 9
    with open(path, "r+b") as db:  # a checkpoint killed after it wrote page 1, with the new size, and no page after it
        header = bytearray(db.read(100))
        header[28:32] = (int.from_bytes(header[28:32], "big") + 5).to_bytes(4, "big")
        header[92:96] = header[24:28]
        db.seek(0)
        db.write(bytes(header))
    store = open_store(path)
    assert len(store.replay().labels) == 500
    store.close()
    path.with_name("s.db-wal").unlink(missing_ok=True)
    with open(path, "r+b") as db:  # the same .db alone: a truncated copy, refused
        db.seek(28)
        db.write((10**6).to_bytes(4, "big"))
    with pytest.raises(StoreError, match="shorter than its own header says"):
        open_store(path)


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
        f"    LabelStore({str(path)!r}, labels=['a', 'b'])\n"
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


# -- a store is complete on its own, and sees the file under it ----------------------------------

def test_malformed_events_are_refused_before_they_are_written(tmp_path):
    store = open_store(tmp_path / "s.db")
    with pytest.raises(LabelError, match="confidence"):
        store.append("label", "i:1", label="a", source="hand", confidence="high")
    with pytest.raises(LabelError, match="source='robot'"):
        store.append("label", "i:1", label="a", source="robot")
    with pytest.raises(LabelError, match="confidence must be in"):
        store.append_labels(["i:1", "i:2"], ["a", "a"], sources="weak", confidences=[0.5, 7.0])
    assert store.events() == []
    store.close()


def test_the_db_alone_carries_every_label_once_the_labeler_is_idle_or_closed(tmp_path):
    import time

    from activelabel_widget import store as store_module

    store = open_store(tmp_path / "s.db")
    for i in range(50):
        store.append("label", f"i:{i}", label="a", source="hand")
    deadline = time.monotonic() + 10
    while (tmp_path / "s.db-wal").exists() and (tmp_path / "s.db-wal").stat().st_size and time.monotonic() < deadline:
        time.sleep(store_module.IDLE_CHECKPOINT_SECONDS / 4)
    copy = tmp_path / "copy" / "s.db"
    copy.parent.mkdir()
    copy.write_bytes((tmp_path / "s.db").read_bytes())  # the .db alone, while the labeler is still open
    again = open_store(copy)
    assert len(again.replay().labels) == 50
    again.close()
    store.close()


def test_a_db_copied_mid_write_without_its_wal_is_refused_not_opened_empty(tmp_path):
    store = open_store(tmp_path / "s.db")
    store.append("label", "i:1", label="a", source="hand")
    copy = tmp_path / "copy" / "s.db"
    copy.parent.mkdir()
    copy.write_bytes((tmp_path / "s.db").read_bytes())  # no -wal beside it: the label lives there
    with pytest.raises(StoreError, match="-wal"):
        open_store(copy)
    store.close()


def test_a_store_deleted_under_a_running_labeler_refuses_the_next_label(tmp_path):
    store = open_store(tmp_path / "s.db")
    store.append("label", "i:1", label="a", source="hand")
    (tmp_path / "s.db").unlink()
    with pytest.raises(StoreError, match="deleted or moved") as raised:
        store.append("label", "i:2", label="a", source="hand")
    recovered = store.recovered_to
    assert recovered is not None and str(recovered) in str(raised.value)
    from activelabel_widget.store import read_labels

    assert list(read_labels(recovered).labels) == ["i:1"]  # what was acknowledged can be brought back
    store.close()


def test_a_store_replaced_under_a_running_labeler_is_never_written(tmp_path):
    store = open_store(tmp_path / "s.db")
    store.append("label", "i:1", label="a", source="hand")
    colleague = open_store(tmp_path / "theirs.db")
    colleague.append("label", "i:9", label="b", source="hand")
    colleague.close()
    (tmp_path / "theirs.db").replace(tmp_path / "s.db")  # a git pull
    with pytest.raises(StoreError, match="replaced"):
        store.append("label", "i:2", label="a", source="hand")
    store.close()
    again = open_store(tmp_path / "s.db")
    assert list(again.replay().labels) == ["i:9"]  # the colleague's file, untouched
    again.close()


def test_a_symlinked_lock_file_is_refused_and_its_target_untouched(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("do not truncate me")
    (tmp_path / ".s.db.lock").symlink_to(target)
    with pytest.raises(StoreError, match="lock file"):
        open_store(tmp_path / "s.db")
    assert target.read_text() == "do not truncate me"


def test_a_lock_file_that_is_not_ours_is_left_alone(tmp_path):
    (tmp_path / ".s.db.lock").write_text("my notes")
    with pytest.raises(StoreError, match="not our lock"):
        open_store(tmp_path / "s.db")
    assert (tmp_path / ".s.db.lock").read_text() == "my notes"


def test_a_folder_as_store_gets_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        open_store(tmp_path)


def test_a_crafted_store_with_a_trigger_is_refused_and_the_trigger_never_runs(tmp_path):
    open_store(tmp_path / "s.db").close()
    conn = sqlite3.connect(tmp_path / "s.db")
    conn.execute("CREATE TABLE pwned (x)")
    conn.execute("CREATE TRIGGER evil AFTER INSERT ON events BEGIN INSERT INTO pwned VALUES (1); END")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="schema objects"):
        open_store(tmp_path / "s.db")
    assert sqlite3.connect(tmp_path / "s.db").execute("SELECT COUNT(*) FROM pwned").fetchone()[0] == 0


def test_a_malformed_event_row_is_a_store_error(tmp_path):
    store = open_store(tmp_path / "s.db")
    store.append("label", "i:1", label="a", source="hand")
    store.close()
    conn = sqlite3.connect(tmp_path / "s.db")
    conn.execute("UPDATE events SET key = X'0102'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="malformed event"):
        open_store(tmp_path / "s.db").replay()


def test_a_snapshot_makes_the_reopen_replay_only_what_follows_and_matches_the_full_replay(tmp_path):
    store = open_store(tmp_path / "s.db")
    store.append_labels([f"i:{i}" for i in range(100)], ["a"] * 100, sources="weak", annotators="me")
    skip = store.append("skip", "i:200")
    store.save_snapshot(store.replay())
    store.append("undo", "i:200", undoes=skip.id)
    store.append("label", "i:3", label="b", source="hand")
    full = store.replay()
    store.close()
    conn = sqlite3.connect(tmp_path / "s.db")
    assert conn.execute("SELECT upto FROM snapshot").fetchone()[0] == skip.id
    conn.close()
    again = open_store(tmp_path / "s.db")
    state = again.replay()
    assert state.labels == full.labels and state.skipped == full.skipped and state.history == full.history
    again.close()


def test_a_damaged_snapshot_costs_time_not_labels(tmp_path):
    store = open_store(tmp_path / "s.db")
    store.append("label", "i:1", label="a", source="hand")
    store.close(state=store.replay())
    conn = sqlite3.connect(tmp_path / "s.db")
    conn.execute("UPDATE snapshot SET state = X'00FF'")
    conn.commit()
    conn.close()
    again = open_store(tmp_path / "s.db")
    assert list(again.replay().labels) == ["i:1"]
    again.close()


def test_closing_after_the_file_was_replaced_keeps_the_labels_in_a_recovery_copy(tmp_path):
    from activelabel_widget.store import read_labels

    store = open_store(tmp_path / "s.db")
    store.append("label", "i:1", label="a", source="hand")
    open_store(tmp_path / "theirs.db").close()
    (tmp_path / "theirs.db").replace(tmp_path / "s.db")
    with pytest.warns(UserWarning, match="recovered"):
        store.close()
    assert list(read_labels(store.recovered_to).labels) == ["i:1"]
    assert list(read_labels(tmp_path / "s.db").labels) == []


def test_a_store_path_under_a_file_says_that_file_is_not_a_folder(tmp_path):
    (tmp_path / "afile").write_text("not a folder")
    with pytest.raises(StoreError, match=r"afile is a file, not a folder\. Pass store= a path in a folder"):
        open_store(tmp_path / "afile" / "deeper" / "s.db")
