"""A durable, append-only log of label events in SQLite.

Every label, skip and undo is one row in ``events``, committed (WAL, ``synchronous=FULL``)
before the call returns, so an acknowledged label survives a killed kernel.

One labeler writes to a store at a time: it holds an exclusive lock on ``<store>.lock`` for as
long as it is open (the operating system drops the lock when the process dies, so a killed
kernel never leaves a stale lock). A second labeler in another process is refused with a message
that names the holder; in the same process (a re-run notebook cell) the newer labeler takes the
store over and the older one refuses further writes. Replaying the log
gives the current labels, the skipped records and the undo history; nothing is ever updated in
place. The file carries our ``application_id``, the data's fingerprint and the label names, so a
store made for other data, or a file that is not ours, is refused before anything is written.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import shutil
import socket
import sqlite3
import tempfile
import threading
import weakref
import math
from pathlib import Path

from .errors import LabelError, StoreError, StoreMismatchError
from .events import ACTIONS, LabelEvent, LabelState
from .sources import check_source

__all__ = ["LabelStore", "default_store_path"]

#: ``PRAGMA application_id`` of our files: "ALWB" in ASCII.
APPLICATION_ID = 0x414C5742
#: 2 added ``events.batch`` (events saved together form one undo step).
SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('label', 'skip', 'undo')),
    key TEXT NOT NULL,
    label TEXT,
    annotator TEXT,
    source TEXT,
    confidence REAL,
    undoes INTEGER REFERENCES events(id),
    batch INTEGER
);
CREATE TABLE IF NOT EXISTS heuristics (name TEXT PRIMARY KEY, added_at TEXT NOT NULL, description TEXT);
"""


#: Stores open in this process, by path: a newer labeler on the same file takes it over.
_OPEN: dict[str, "weakref.ref[LabelStore]"] = {}
_OPEN_LOCK = threading.RLock()


_INSERT = ("INSERT INTO events (at, action, key, label, annotator, source, confidence, undoes, batch) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


def _checked_row(action, key, label, annotator, source, confidence, undoes, batch) -> tuple:
    """An event's fields, checked before anything is written (a bad row must never reach the log)."""
    if action not in ACTIONS:
        raise LabelError(f"Unknown event action {action!r}; use one of {list(ACTIONS)}.")
    if action == "label":
        check_source(source)
        if not isinstance(label, str):
            raise LabelError(f"A label must be a label name (text), got {label!r}.")
    if confidence is not None:
        try:
            confidence = float(confidence)
        except (TypeError, ValueError):
            raise LabelError(f"confidence must be a number in [0, 1] or None, got {confidence!r}.") from None
        if not (math.isfinite(confidence) and 0.0 <= confidence <= 1.0):
            raise LabelError(f"confidence must be in [0, 1], got {confidence!r}.")
    return (action, str(key), label, annotator, source, confidence, undoes, batch)


def default_store_path(dataset) -> Path:
    """Where labels go without ``store=``: next to the notebook, named after the data's fingerprint."""
    keys_hash, content_hash = dataset.fingerprint()
    return Path.cwd() / f"activelabel-{keys_hash[:8]}{content_hash[:4]}.labels.db"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


class LabelStore:
    """Open (or create) the label store at ``path`` for data with the given fingerprint.

    Parameters
    ----------
    path : str or Path or None
        The SQLite file. Created with its folder if missing. None: a private temporary store
        that leaves nothing behind after :meth:`close` (``store=":memory:"``).
    fingerprint : tuple of str
        ``(keys_hash, content_hash)`` of the data, from :meth:`Dataset.fingerprint`.
    labels : list of str
        The label names. New names may be added to an existing store; names the store has
        used may not be dropped.

    Raises
    ------
    StoreError
        The file is not ours, is damaged, locked or read-only.
    StoreMismatchError
        The file was made for other data or uses labels not in ``labels``.
    """

    def __init__(self, path, *, fingerprint: tuple[str, str], labels: list[str], n_rows: int | None = None):
        self._temporary_dir = None
        if path is None:
            # SQLite's write-ahead log needs a file: a private folder (0700) that close() deletes
            self._temporary_dir = tempfile.mkdtemp(prefix="activelabel-")
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._temporary_dir, True)
            path = Path(self._temporary_dir) / "labels.db"
        self.path = Path(path).expanduser().resolve()
        self._lock = threading.Lock()
        self._closed_because = ""
        with _OPEN_LOCK:
            previous = _OPEN.get(str(self.path))
            previous = previous() if previous is not None else None
            # In this process, an older labeler on the same file keeps it until the newer one has
            # passed every check; from another process, the lock refuses us before anything else.
            self._lock_file = self._take_lock() if previous is None else None
            try:
                self._conn = self._connect()
                try:
                    self._check_and_init(fingerprint, list(labels), n_rows)
                    if previous is not None:
                        previous.close(because="a newer labeler on the same store took it over (was the cell run again?)")
                        self._lock_file = self._take_lock()
                except BaseException:
                    self._conn.close()
                    raise
            except BaseException:
                if self._lock_file is not None:
                    self._lock_file.close()
                raise
            _OPEN[str(self.path)] = weakref.ref(self)

    def _take_lock(self):
        """Hold ``<store>.lock`` exclusively so that no other process writes the same store."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(lock_path, "a+")
        except OSError as error:
            raise StoreError(f"Cannot create the lock file {lock_path}: {error}. Pass store= a writable path.") from error
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StoreError(
                f"The label store {self.path} is in use by another labeler ({holder}). Two labelers writing one "
                "store could undo each other's work, so this one is refused. Close the other one (al.close() "
                "or stop its kernel), or pass store= another path and merge later."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {_now()}")
        handle.flush()
        return handle

    # -- opening -------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"Cannot create the folder for the label store {self.path}: {error}. Pass store= a writable path.") from error
        # a file marked read-only is refused even for a user (root) who could write it anyway
        if self.path.exists() and 0 < self.path.stat().st_size:
            with open(self.path, "rb") as handle:
                header = handle.read(16)
            if header != b"SQLite format 3\x00":
                # SQLite would take a file shorter than its header for an empty database and
                # overwrite it; refuse anything that does not start like one of ours
                raise StoreError(
                    f"{self.path} is not a readable label store (it does not start with an SQLite header). It may "
                    "be another kind of file or a damaged copy: pass store= a new path, or restore it from a backup."
                )
        if self.path.exists() and (not os.access(self.path, os.W_OK) or not self.path.stat().st_mode & 0o222):
            raise StoreError(f"The label store {self.path} is read-only. Make it writable or pass store= another path.")
        conn = None
        try:
            conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 5000")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as error:
            if conn is not None:
                conn.close()  # leave no handle (nor -wal / -shm files) open on a damaged store
            raise self._open_error(error) from error
        if str(mode).lower() != "wal":
            conn.close()
            raise StoreError(f"The label store {self.path} could not switch to write-ahead logging ({mode}); put it on a local disk.")
        return conn

    def _open_error(self, error: sqlite3.DatabaseError) -> StoreError:
        text = str(error)
        if "not a database" in text or "malformed" in text or "file is encrypted" in text:
            return StoreError(
                f"{self.path} is not a readable label store ({text}). It may be another kind of file or a "
                "damaged copy: pass store= a new path, or restore the file from a backup."
            )
        if "locked" in text or "busy" in text:
            return StoreError(f"The label store {self.path} is locked by another program ({text}); close it and try again.")
        if "readonly" in text or "read-only" in text:
            return StoreError(f"The label store {self.path} is read-only ({text}); make it writable or pass store= another path.")
        return StoreError(f"Cannot open the label store {self.path}: {text}")

    def _check_and_init(self, fingerprint, labels, n_rows) -> None:
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                app_id = conn.execute("PRAGMA application_id").fetchone()[0]
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                # a quick structural check catches truncated or damaged files before any write
                check = conn.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise StoreError(
                        f"The label store {self.path} is damaged ({check}). Restore it from a backup or pass store= a new path."
                    )
                if app_id == 0 and not tables:
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    meta = {
                        "app": "activelabel_widget",
                        "keys_hash": fingerprint[0],
                        "content_hash": fingerprint[1],
                        "labels": json.dumps(labels),
                        "created_at": _now(),
                        "n_rows": str(n_rows if n_rows is not None else ""),
                    }
                    conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
                elif app_id != APPLICATION_ID:
                    raise StoreError(
                        f"{self.path} is an SQLite file made by another program, not a label store; refusing to "
                        "write into it. Pass store= a new path."
                    )
                else:
                    self._check_existing(fingerprint, labels)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as error:
            raise self._open_error(error) from error

    def _check_existing(self, fingerprint, labels) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"The label store {self.path} was written by a newer activelabel_widget (schema {version}); upgrade the package.")
        if version < 2:
            self._conn.execute("ALTER TABLE events ADD COLUMN batch INTEGER")
            self._conn.execute("PRAGMA user_version = 2")
        meta = dict(self._conn.execute("SELECT name, value FROM meta"))
        if meta.get("keys_hash") != fingerprint[0] or meta.get("content_hash") != fingerprint[1]:
            what = "other rows (different index keys)" if meta.get("keys_hash") != fingerprint[0] else "the same row keys but different content"
            raise StoreMismatchError(
                f"The label store {self.path} was made for other data: {what}. Its labels cannot be matched "
                "to this DataFrame safely. Pass the DataFrame the store was made from, or pass store= a new "
                "path to start a separate set of labels."
            )
        stored_labels = json.loads(meta.get("labels", "[]"))
        used = {r[0] for r in self._conn.execute("SELECT DISTINCT label FROM events WHERE label IS NOT NULL")}
        dropped = sorted(used - set(labels))
        if dropped:
            raise StoreMismatchError(
                f"The label store {self.path} has labels {dropped} that are not in labels={labels}. Add them "
                "to labels= (you can relabel those rows later), or pass store= a new path."
            )
        merged = stored_labels + [name for name in labels if name not in stored_labels]
        if merged != stored_labels:
            self._conn.execute("UPDATE meta SET value = ? WHERE name = 'labels'", (json.dumps(merged),))

    # -- writing ---------------------------------------------------------------------------
    def append(self, action: str, key: str, *, label=None, annotator=None, source=None, confidence=None,
               undoes=None) -> LabelEvent:
        """Validate one event, append it and commit it before returning.

        Raises
        ------
        LabelError
            The event is malformed (unknown action or source, a confidence outside [0, 1]);
            nothing is written.
        StoreError
            When the write fails; nothing is half-written (the transaction rolls back).
        """
        row = _checked_row(action, key, label, annotator, source, confidence, undoes, None)
        with self._lock:
            self._check_open()
            at = _now()
            try:
                cursor = self._conn.execute(_INSERT, (at, *row))
            except sqlite3.DatabaseError as error:
                raise StoreError(
                    f"Could not save the {action} of row {key} to {self.path}: {error}. Nothing was saved for "
                    "this action; fix the problem (disk full? file locked or moved?) and try again."
                ) from error
        return LabelEvent(cursor.lastrowid, at, *row)

    def append_labels(self, keys, labels, *, annotator=None, source=None, confidences=None) -> list[LabelEvent]:
        """Append many label events in one transaction (all or nothing) as one undo step."""
        confidences = [None] * len(keys) if confidences is None else list(confidences)
        if not len(keys):
            return []
        rows = [_checked_row("label", key, label, annotator, source, confidence, None, None)
                for key, label, confidence in zip(keys, labels, confidences)]
        with self._lock:
            self._check_open()
            at = _now()
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                batch = (self._conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]) + 1
                rows = [row[:-1] + (batch,) for row in rows]
                self._conn.executemany(_INSERT, [(at, *row) for row in rows])
                # one writer inside one transaction: AUTOINCREMENT ids of these rows are consecutive
                last = self._conn.execute("SELECT MAX(id) FROM events").fetchone()[0]
                self._conn.execute("COMMIT")
            except sqlite3.DatabaseError as error:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise StoreError(f"Could not save {len(keys)} labels to {self.path}: {error}. None of them was saved.") from error
        first = last - len(rows) + 1
        return [LabelEvent(first + number, at, *row) for number, row in enumerate(rows)]

    def add_heuristic(self, name: str) -> None:
        """Record a heuristic's name so it is known again after a restart (same name replaces)."""
        with self._lock:
            self._check_open()
            self._conn.execute(
                "INSERT INTO heuristics (name, added_at) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET added_at = excluded.added_at",
                (name, _now()),
            )

    # -- reading -----------------------------------------------------------------------------
    def events(self) -> list[LabelEvent]:
        """Every event, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, at, action, key, label, annotator, source, confidence, undoes, batch FROM events ORDER BY id"
            ).fetchall()
        return [LabelEvent._make(row) for row in rows]

    def replay(self) -> LabelState:
        """The current labels, skips and undo history, by the same transitions as the live session."""
        return LabelState.replay(self.events())

    def heuristics(self) -> list[str]:
        """Names of the heuristics recorded with :meth:`add_heuristic`."""
        with self._lock:
            return [r[0] for r in self._conn.execute("SELECT name FROM heuristics ORDER BY added_at")]

    def _check_open(self) -> None:
        if self._closed_because:
            raise StoreError(f"This labeler no longer writes to {self.path}: {self._closed_because}. Nothing was "
                             "saved; use the newest labeler on this store.")

    def close(self, *, because: str = "it was closed") -> None:
        """Close the connection and release the lock (idempotent)."""
        with self._lock:
            if self._closed_because:
                return
            self._closed_because = because
            self._conn.close()
            self._lock_file.close()
        if self._temporary_dir is not None:
            self._cleanup()
        with _OPEN_LOCK:
            if _OPEN.get(str(self.path)) is not None and _OPEN[str(self.path)]() is self:
                del _OPEN[str(self.path)]

    def __repr__(self) -> str:
        return f"LabelStore({str(self.path)!r})"
