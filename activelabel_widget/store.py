"""A durable, append-only log of label events in SQLite, complete in one file.

Every label, skip and undo is one row in ``events``, committed (WAL, ``synchronous=FULL``) before
the call returns, so an acknowledged label survives a killed kernel. Each label carries the
content hash of the record it was made on, so labels follow records, not row numbers.

**One file carries everything.** SQLite keeps fresh commits in ``<store>-wal`` until a
checkpoint. So that the ``.db`` alone is never silently short of labels, the file says whether a
write-ahead log belongs to it: the first write after a quiet spell marks the ``.db`` as "being
written" (and checkpoints that mark into it); a short idle timer, and :meth:`LabelStore.close`,
checkpoint every commit into the ``.db`` and mark it complete. A ``.db`` copied while marked
"being written", without its ``-wal``, is refused with a message instead of opened as empty.

**The file under us.** The store remembers the file's identity (device and inode). Before each
write it checks that the path still names that file: a store deleted, moved or replaced under a
running labeler (a ``git pull``) is detected before anything more is acknowledged; what this
labeler saved is copied to a recovery file the error names, and nothing is written into the
replacement.

**Files.** ``activelabel.db`` is the store. While a labeler has it open, SQLite keeps
``activelabel.db-wal`` and ``-shm`` beside it (they go away on close); ``.activelabel.db.lock``
(hidden) is the lock. Only the ``.db`` is needed once the labeler is closed or idle.

**One writer.** A labeler holds an exclusive lock on ``.<store>.lock`` while open (the operating
system drops it when the process dies, so a killed kernel never leaves a stale lock). A second
labeler in another process is refused; in the same process (a re-run notebook cell) the newer
labeler takes the store over and the older one is closed.

**Fast reopen.** A snapshot of the replayed state is kept in the file (on close, and after large
batches); opening reads the snapshot and replays only the events after it.

The file carries our ``application_id``; files that are not ours, damaged files and files with
schema objects we did not create (triggers, views) are refused before anything is written.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import math
import os
import shutil
import socket
import sqlite3
import stat
import tempfile
import time
import threading
import warnings
import weakref
import zipfile
from pathlib import Path

import numpy as np

from ._keys import key_text
from .errors import LabelError, StoreError
from .events import ACTIONS, LabelEvent, LabelState, paused_gc
from .sources import check_source

__all__ = ["LabelStore", "read_labels", "default_store_path", "DEFAULT_STORE_NAME"]

#: ``PRAGMA application_id`` of our files: "ALWB" in ASCII.
APPLICATION_ID = 0x414C5742
#: 2 added ``events.batch`` (events saved together form one undo step); 3 added
#: ``events.content`` (the record's content hash) and the ``snapshot`` table; 4 added the
#: ``reject`` and ``note`` actions and ``events.note``.
SCHEMA_VERSION = 4
#: The store's name in the notebook's folder when ``store=`` is not given.
DEFAULT_STORE_NAME = "activelabel.db"
#: Seconds without a write after which every commit is checkpointed into the ``.db``.
IDLE_CHECKPOINT_SECONDS = 1.0
#: Events after the last snapshot beyond which an idle checkpoint also writes a new snapshot.
SNAPSHOT_AFTER_EVENTS = 20_000

_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('label', 'skip', 'undo', 'reject', 'note')),
    key TEXT NOT NULL,
    label TEXT,
    annotator TEXT,
    source TEXT,
    confidence REAL,
    undoes INTEGER REFERENCES events(id),
    batch INTEGER,
    content INTEGER,
    note TEXT
);
CREATE TABLE heuristics (name TEXT PRIMARY KEY, added_at TEXT NOT NULL, description TEXT);
CREATE TABLE snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), upto INTEGER NOT NULL, state BLOB NOT NULL);
"""
#: Every schema object a store of ours may hold; anything else (a trigger, a view) is refused.
_KNOWN_OBJECTS = {("table", "meta"), ("table", "events"), ("table", "heuristics"), ("table", "snapshot"),
                  ("table", "sqlite_sequence"), ("index", "sqlite_autoindex_meta_1"),
                  ("index", "sqlite_autoindex_heuristics_1")}
_COLUMNS = "id, at, action, key, label, annotator, source, confidence, undoes, batch, content, note"
_INSERT = ("INSERT INTO events (at, action, key, label, annotator, source, confidence, undoes, batch, content, note) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
#: Longest note on a record, in characters.
MAX_NOTE_CHARS = 10_000

#: Stores open in this process, by path: a newer labeler on the same file takes it over.
_OPEN: dict[str, "weakref.ref[LabelStore]"] = {}
_OPEN_LOCK = threading.RLock()


def default_store_path() -> Path:
    """Where labels go without ``store=``: ``activelabel.db`` in the notebook's folder (a name to find and back up)."""
    return Path.cwd() / DEFAULT_STORE_NAME


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


def _checked_row(action, key, label, annotator, source, confidence, undoes, batch, content, note=None) -> tuple:
    """An event's fields, checked before anything is written (a bad row must never reach the log)."""
    if action not in ACTIONS:
        raise LabelError(f"Unknown event action {action!r}; use one of {list(ACTIONS)}.")
    if action == "label":
        check_source(source)
        if not isinstance(label, str):
            raise LabelError(f"A label must be a label name (text), got {label!r}.")
    if action == "note" and (not isinstance(note, str) or len(note) > MAX_NOTE_CHARS):
        raise LabelError(f"A note is text of at most {MAX_NOTE_CHARS:,} characters (empty clears it); got "
                         f"{type(note).__name__} of length {len(note) if isinstance(note, str) else '?'}.")
    if confidence is not None:
        try:
            confidence = float(confidence)
        except (TypeError, ValueError):
            raise LabelError(f"confidence must be a number in [0, 1] or None, got {confidence!r}.") from None
        if not (math.isfinite(confidence) and 0.0 <= confidence <= 1.0):
            raise LabelError(f"confidence must be in [0, 1], got {confidence!r}.")
    content = None if content is None else int(np.uint64(content))
    return (action, str(key), label, annotator, source, confidence, undoes, batch, content,
            note if action == "note" else None)


def label_rows(keys, labels, annotators, sources, confidences, contents, actions, *, default_annotator=None) -> list:
    """The checked rows of a group of labels (see :meth:`LabelStore.append_labels`): ``annotators``,
    ``sources``, ``confidences``, ``contents`` and ``actions`` are one per key (or a single string
    for annotators and sources, or None)."""
    n = len(keys)
    per_row = lambda value: [value] * n if value is None or isinstance(value, str) else list(value)  # noqa: E731
    actions = ["label"] * n if actions is None else list(actions)
    if not set(actions) <= {"label", "reject"}:
        raise LabelError(f"append_labels saves labels and rejections only, got actions {sorted(set(actions))}.")
    return [_checked_row(action, key, label, annotator or default_annotator, source, confidence, None, None, content)
            for action, key, label, annotator, source, confidence, content in
            zip(actions, keys, labels, per_row(annotators), per_row(sources), per_row(confidences), per_row(contents))]


def _sql(at: str, row: tuple) -> tuple:
    """An event row as stored: SQLite integers are signed, so the uint64 content hash is stored as int64."""
    content = row[-2]
    return (at, *row[:-2], None if content is None else int(np.uint64(content).view(np.int64)), row[-1])


class LabelStore:
    """Open (or create) the label store at ``path``.

    Parameters
    ----------
    path : str or Path or None
        The SQLite file. Created with its folder if missing. None: a private temporary store
        that leaves nothing behind after :meth:`close` (``store=":memory:"``).
    labels : list of str
        The label names, recorded in the file (names may be added over time).
    multi_label : bool
        Whether the labels are label sets (:mod:`activelabel_widget.multilabel`), recorded in the
        file: a store of sets is never opened as one of single labels, nor the other way round.
    on_taken_over : callable, optional
        Called (with no arguments) when a newer labeler in this process takes the store over.
    check : callable, optional
        ``check(store)`` runs once the file is open and may raise to refuse it; an older
        labeler on the same file keeps it until the check has passed.

    Raises
    ------
    StoreError
        The file is not ours, is damaged, locked, read-only, a folder, or a copy missing its
        write-ahead log.
    """

    def __init__(self, path, *, labels: list[str], on_taken_over=None, check=None, multi_label: bool = False):
        self.multi_label = bool(multi_label)
        self._temporary_dir = None
        if path is None:
            # SQLite's write-ahead log needs a file: a private folder (0700) that close() deletes
            self._temporary_dir = tempfile.mkdtemp(prefix="activelabel-")
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._temporary_dir, True)
            path = Path(self._temporary_dir) / "labels.db"
        # the file itself, not the name it was given: its lock and its one labeler per process go with
        # the file, so a symlink to it or another spelling of its path is the same store, not a second writer
        self.path = Path(path).expanduser().resolve()
        if self.path.is_dir():
            raise StoreError(f"store={str(path)!r} is a folder; pass a file path such as {str(self.path / DEFAULT_STORE_NAME)!r}.")
        self._lock = threading.RLock()
        self._closed_because = ""
        self._on_taken_over = on_taken_over
        self._identity = None
        self._dirty = False
        # one waiter thread per quiet spell, not one timer per write: a write only moves the deadline
        self._idle_deadline: float | None = None
        self._idle_waiting = False
        self._idle_guard = threading.Lock()
        self._idle_wake = threading.Event()  # set on close
        self._events_since_snapshot = 0
        self.recovered_to: Path | None = None
        self._card_key: str | None = None
        self._saved_card_key: str | None = None
        with _OPEN_LOCK:
            previous = _OPEN.get(str(self.path))
            previous = previous() if previous is not None else None
            # In this process, an older labeler on the same file keeps it until the newer one has
            # passed every check; from another process, the lock refuses us before anything else.
            self._lock_file = self._take_lock() if previous is None else None
            try:
                self._conn = self._connect()
                # dropped without close() (a script's end, `del al`): fold the log in and mark the
                # .db complete, so the next opener does not take it for a copy made mid-write
                self._on_drop = weakref.finalize(self, _complete_when_dropped, self._conn)
                try:
                    self._check_and_init(list(labels))
                    card = self._conn.execute("SELECT value FROM meta WHERE name = 'card'").fetchone()
                    self._saved_card_key = None if card is None else card[0]
                    if check is not None:
                        check(self)  # e.g. the data matches: before an older labeler is taken over
                    if previous is not None:
                        previous._taken_over()
                        self._lock_file = self._take_lock()
                except BaseException:
                    self._conn.close()
                    raise
            except BaseException:
                if self._lock_file is not None:
                    self._lock_file.close()
                raise
            # a labeler that was killed mid-write left the "being written" mark; with its -wal
            # beside it SQLite has everything: fold it into the .db now, so the .db is complete again
            self._dirty = self._conn.execute("SELECT 1 FROM meta WHERE name = 'writing_since'").fetchone() is not None

            self._mark_complete()
            self._identity = self._file_identity()
            self._wal_identity = self._file_identity("-wal")
            _OPEN[str(self.path)] = weakref.ref(self)

    # -- opening -------------------------------------------------------------------------
    def _take_lock(self):
        """Hold ``.<store>.lock`` (hidden) exclusively so that no other process writes the same store."""
        lock_path = self.lock_path
        blocked = next((folder for folder in [self.path.parent, *self.path.parent.parents]
                        if folder.exists() and not folder.is_dir()), None)
        if blocked is not None:
            raise StoreError(f"Cannot put the label store at {self.path}: {blocked} is a file, not a folder. "
                             "Pass store= a path in a folder.")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # never follow a symlink planted in our place, never truncate someone else's file
            descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as error:
            raise StoreError(f"Cannot open the lock file {lock_path}: {error}. It must be a plain file that this "
                             "user can write (not a link); remove it or pass store= another path.") from error
        handle = os.fdopen(descriptor, "r+")
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            handle.close()
            raise StoreError(f"The lock file {lock_path} is not a plain file; remove it or pass store= another path.")
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = handle.read(200).strip() or "another process"
            handle.close()
            raise StoreError(
                f"The label store {self.path} is in use by another labeler ({holder}). Two labelers writing one "
                "SQLite store could undo each other's work, so this one is refused. Close the other one "
                "(al.close() or stop its kernel), or pass store= another path and bring its labels in later "
                "with al.import_labels(path). For a team labeling at once, use a PostgreSQL store."
            ) from None
        content = handle.read(200)
        if content and not content.startswith("pid "):
            handle.close()
            raise StoreError(f"The lock file {lock_path} holds something that is not our lock; remove it or pass "
                             "store= another path.")
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {_now()}")
        handle.flush()
        return handle

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"Cannot create the folder for the label store {self.path}: {error}. Pass store= a writable path.") from error
        if self.path.exists() and 0 < self.path.stat().st_size:
            with open(self.path, "rb") as handle:
                header = handle.read(100)
            # killed mid-checkpoint, a .db can be shorter than the size its first page already says; its
            # -wal still holds every page, and SQLite reads them from there: only a .db alone is truncated
            wal_beside = Path(str(self.path) + "-wal").exists()
            if _truncated(header, self.path.stat().st_size) and not wal_beside:
                raise StoreError(f"The label store {self.path} is shorter than its own header says (a truncated copy?); "
                                 "restore it from a backup or pass store= a new path.")
            if header[:16] != b"SQLite format 3\x00":
                # SQLite would take a file shorter than its header for an empty database and
                # overwrite it; refuse anything that does not start like one of ours
                raise StoreError(
                    f"{self.path} is not a readable label store (it does not start with an SQLite header). It may "
                    "be another kind of file or a damaged copy: pass store= a new path, or restore it from a backup."
                )
        # a file marked read-only is refused even for a user (root) who could write it anyway
        if self.path.exists() and (not os.access(self.path, os.W_OK) or not self.path.stat().st_mode & 0o222):
            raise StoreError(f"The label store {self.path} is read-only. Make it writable or pass store= another path.")
        wal_present = Path(str(self.path) + "-wal").exists()
        conn = None
        try:
            conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 5000")
            conn.execute("PRAGMA trusted_schema = OFF")
            if not wal_present:
                self._refuse_copy_without_wal(conn)
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as error:
            if conn is not None:
                conn.close()  # leave no handle (nor -wal / -shm files) open on a damaged store
            raise self._open_error(error) from error
        except BaseException:
            conn.close()
            raise
        if str(mode).lower() != "wal":
            conn.close()
            raise StoreError(f"The label store {self.path} could not switch to write-ahead logging ({mode}); put it on a local disk.")
        return conn

    def _refuse_copy_without_wal(self, conn) -> None:
        """A ``.db`` marked "being written" whose ``-wal`` is not beside it lacks its newest labels."""
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "meta" not in tables:
                return
            row = conn.execute("SELECT value FROM meta WHERE name = 'writing_since'").fetchone()
        except sqlite3.DatabaseError:
            return  # damaged files get their own message below
        if row is not None and row[0]:
            raise StoreError(
                f"{self.path} was copied (or its labeler stopped) while labels were being written since {row[0]}, "
                f"and its write-ahead log {self.path.name}-wal is not beside it: labels made after that time would "
                "be missing. Copy the -wal file together with the .db (or copy after the labeler is closed with "
                "al.close()), or open the original store."
            )

    def _open_error(self, error: sqlite3.DatabaseError) -> StoreError:
        text = str(error)
        if "not a database" in text or "malformed" in text or "file is encrypted" in text:
            return StoreError(
                f"{self.path} is not a readable label store ({text}). It may be another kind of file or a "
                "damaged copy: pass store= a new path, or restore the file from a backup."
            )
        if "locked" in text or "busy" in text:
            return StoreError(f"The label store {self.path} is locked by another program ({text}); close it and try again.")
        if "disk I/O error" in text:
            return StoreError(f"Cannot open the label store {self.path}: SQLite could not read or write beside it "
                              f"({text}). The disk may be full or failing, or the file is open under another name "
                              "(a hard link) in another labeler: close that one, or pass store= another path.")
        if "readonly" in text or "read-only" in text:
            return StoreError(f"The label store {self.path} is read-only ({text}); make it writable or pass store= another path.")
        return StoreError(f"Cannot open the label store {self.path}: {text}")

    def _check_and_init(self, labels) -> None:
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                app_id = conn.execute("PRAGMA application_id").fetchone()[0]
                objects = {(r[0], r[1]) for r in conn.execute("SELECT type, name FROM sqlite_master")}
                # a quick structural check catches truncated or damaged files before any write
                check = conn.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise StoreError(
                        f"The label store {self.path} is damaged ({check}). Restore it from a backup or pass store= a new path."
                    )
                if app_id == 0 and not objects:
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    meta = {"app": "activelabel_widget", "labels": json.dumps(labels), "created_at": _now()}
                    if self.multi_label:
                        meta["multi_label"] = "1"
                    conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
                elif app_id != APPLICATION_ID:
                    raise StoreError(
                        f"{self.path} is an SQLite file made by another program, not a label store; refusing to "
                        "write into it. Pass store= a new path."
                    )
                else:
                    unknown = sorted(f"{kind} {name}" for kind, name in objects - _KNOWN_OBJECTS)
                    if unknown:
                        raise StoreError(
                            f"The label store {self.path} holds schema objects this package never creates "
                            f"({', '.join(unknown[:5])}); it was changed by another program, so it is not opened. "
                            "Restore it from a backup or pass store= a new path."
                        )
                    self._migrate(labels)
                    self._check_kind()
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as error:
            raise self._open_error(error) from error

    def _migrate(self, labels) -> None:
        conn = self._conn
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"The label store {self.path} was written by a newer activelabel_widget (schema {version}); upgrade the package.")
        if version < 2:
            conn.execute("ALTER TABLE events ADD COLUMN batch INTEGER")
        if version < 3:
            conn.execute("ALTER TABLE events ADD COLUMN content INTEGER")
            conn.execute("CREATE TABLE snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), upto INTEGER NOT NULL, state BLOB NOT NULL)")
        if version < 4:
            # SQLite cannot change a CHECK constraint in place: rebuild the events table with the new
            # actions and the note column (ids kept, so undo references and the snapshot still hold)
            events = _SCHEMA.split("CREATE TABLE events", 1)[1].split(";", 1)[0]
            conn.execute(f"CREATE TABLE events_v4{events}")
            old = "id, at, action, key, label, annotator, source, confidence, undoes, batch, content"
            conn.execute(f"INSERT INTO events_v4 ({old}) SELECT {old} FROM events ORDER BY id")
            conn.execute("DROP TABLE events")
            conn.execute("ALTER TABLE events_v4 RENAME TO events")
        if version < SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        row = conn.execute("SELECT value FROM meta WHERE name = 'labels'").fetchone()
        stored = json.loads(row[0]) if row else []
        merged = stored + [name for name in labels if name not in stored]
        if merged != stored:
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('labels', ?)", (json.dumps(merged),))

    def _check_kind(self) -> None:
        """Refuse a store of label sets opened for single labels, and the other way round (an empty store follows)."""
        conn = self._conn
        row = conn.execute("SELECT value FROM meta WHERE name = 'multi_label'").fetchone()
        stored = row is not None and row[0] == "1"
        if stored == self.multi_label:
            return
        if conn.execute("SELECT 1 FROM events WHERE action = 'label' LIMIT 1").fetchone() is None:
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('multi_label', ?)", ("1" if self.multi_label else "0",))
            return
        if stored:
            raise StoreError(f"The label store {self.path} holds label sets (it was made with multi_label=True); "
                             "pass multi_label=True to label with it, or store= another path for single labels.")
        raise StoreError(f"The label store {self.path} holds single labels; pass store= another path to label sets "
                         "(multi_label=True), or leave multi_label out to go on with single labels.")

    @property
    def lock_path(self) -> Path:
        """The hidden lock file beside the store."""
        return self.path.with_name(f".{self.path.name}.lock")

    # -- the file under us -----------------------------------------------------------------
    def _file_identity(self, suffix: str = ""):
        try:
            info = os.stat(str(self.path) + suffix)
        except FileNotFoundError:
            return None
        return info.st_dev, info.st_ino

    def _check_file(self) -> None:
        """Refuse to write when the path no longer names the file we opened (deleted, moved, replaced);
        start a new write-ahead log when the one beside it was taken away."""
        if self._file_identity() == self._identity:
            self._keep_log_beside()
            return
        what = "deleted or moved" if not self.path.exists() else "replaced by another file"
        recovered = self._recover()
        self._close_connection(because=f"its file was {what} while it was open")
        saved = (f" Everything this labeler had saved is in {recovered}: re-run the cell, then bring it in with "
                 f"al.import_labels({str(recovered)!r}).") if recovered else ""
        raise StoreError(f"The label store {self.path} was {what} after this labeler opened it, so nothing more is "
                         f"saved there and this last action was not saved.{saved}")

    def _keep_log_beside(self) -> None:
        """The -wal beside the store was deleted or replaced while open (a clean-up script, a sync tool):
        SQLite goes on writing to the log it has open, which nobody finds after a kill. Fold what it
        holds into the ``.db`` now and reconnect, so the next commit goes to a log beside the file."""
        beside = self._file_identity("-wal")
        if self._wal_identity is None or beside == self._wal_identity:
            self._wal_identity = self._wal_identity or beside
            return
        self._dirty = True  # the checkpoint below also clears the "being written" mark
        self._mark_complete()
        self._on_drop.detach()
        self._conn.close()
        for suffix in ("-wal", "-shm"):  # a stranger's log (or a stale index) must not be read into our file
            Path(str(self.path) + suffix).unlink(missing_ok=True)
        self._conn = self._connect()
        self._on_drop = weakref.finalize(self, _complete_when_dropped, self._conn)
        self._wal_identity = self._file_identity("-wal")

    def _recover(self) -> Path | None:
        """Copy what this connection still sees (the old file) next to the path, for import."""
        target = self.path.with_name(f"{self.path.stem}.recovered-{_dt.datetime.now():%Y%m%d-%H%M%S}.db")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            copy = sqlite3.connect(target)
            try:
                self._conn.backup(copy)
                # the copy is complete: without the "being written" mark it copied, it reads as such
                copy.execute("DELETE FROM meta WHERE name = 'writing_since'")
                copy.commit()
            finally:
                copy.close()
        except (sqlite3.Error, OSError):
            return None
        self.recovered_to = target
        return target

    # -- writing ---------------------------------------------------------------------------
    def _before_write(self) -> None:
        self._check_open()
        self._check_file()
        if not self._dirty:
            # say in the .db itself that a write-ahead log now belongs to it (see the module docstring)
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('writing_since', ?)", (_now(),))
            self._conn.execute("PRAGMA wal_checkpoint(FULL)")
            self._dirty = True

    def _after_write(self, count: int) -> None:
        self._events_since_snapshot += count
        with self._idle_guard:
            self._idle_deadline = time.monotonic() + IDLE_CHECKPOINT_SECONDS
            if not self._idle_waiting:
                self._idle_waiting = True
                threading.Thread(target=self._wait_for_idle, args=(weakref.ref(self), self._idle_guard, self._idle_wake),
                                 name="activelabel-checkpoint", daemon=True).start()

    @staticmethod
    def _wait_for_idle(store_ref, guard: threading.Lock, wake: threading.Event) -> None:
        """Sleep until no write has come for IDLE_CHECKPOINT_SECONDS, then fold the log in.

        Holds only a weak reference while it sleeps, and ``close`` wakes it: a closed store (and
        the session behind its callbacks) is freed at once, not a second later.
        """
        while True:
            store = store_ref()
            if store is None:
                return
            with guard:
                deadline = store._idle_deadline
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is None or remaining <= 0:  # closed, or quiet long enough
                    store._idle_deadline, store._idle_waiting = None, False
                    break
            del store
            if wake.wait(remaining):
                return  # closed
        if deadline is not None:
            store._idle()

    def _idle(self) -> None:
        with self._lock:
            if self._closed_because or self._file_identity() != self._identity:
                return
            try:
                self._mark_complete()
            except sqlite3.Error:
                pass  # the next write or close tries again; a failed checkpoint loses nothing

    def note_card(self, key: str | None) -> None:
        """Remember which record is on the card, so a restart resumes there (saved with the next checkpoint)."""
        self._card_key = key

    @property
    def card_key(self) -> str | None:
        """The record that was on the card when this store was last written (None if unknown)."""
        return self._saved_card_key

    def _mark_complete(self) -> None:
        """Checkpoint every commit into the ``.db`` and mark it complete on its own."""
        if self._dirty:
            if self._card_key is not None:
                self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('card', ?)", (self._card_key,))
            self._conn.execute("DELETE FROM meta WHERE name = 'writing_since'")
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._dirty = False

    def append(self, action: str, key: str, *, label=None, annotator=None, source=None, confidence=None,
               undoes=None, content=None, note=None) -> LabelEvent:
        """Validate one event, append it and commit it before returning.

        Raises
        ------
        LabelError
            The event is malformed (unknown action or source, a confidence outside [0, 1]);
            nothing is written.
        StoreError
            When the write fails or the file was deleted or replaced; nothing is half-written.
        """
        row = _checked_row(action, key, label, annotator, source, confidence, undoes, None, content, note)
        with self._lock:
            at = _now()
            try:
                self._before_write()
                cursor = self._conn.execute(_INSERT, _sql(at, row))
            except sqlite3.DatabaseError as error:
                raise StoreError(
                    f"Could not save the {action} of row {key_text(key)} to {self.path}: {error}. Nothing was saved for "
                    "this action; fix the problem (disk full? file locked or moved?) and try again."
                ) from error
            self._after_write(1)
        return LabelEvent(cursor.lastrowid, at, *row)

    def append_labels(self, keys, labels, *, annotators=None, sources=None, confidences=None,
                      contents=None, actions=None) -> list[LabelEvent]:
        """Append many label events in one transaction (all or nothing) as one undo step.

        ``annotators``, ``sources``, ``confidences`` and ``contents`` are one per key (or a
        single string for annotators and sources); ``actions`` too ("label" by default, or
        "reject" with a None label: an import's rejected records).
        """
        n = len(keys)
        if not n:
            return []
        rows = label_rows(keys, labels, annotators, sources, confidences, contents, actions)
        with self._lock:
            at = _now()
            try:
                self._before_write()
                self._conn.execute("BEGIN IMMEDIATE")
                batch = self._conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0] + 1
                rows = [row[:-3] + (batch, *row[-2:]) for row in rows]
                self._conn.executemany(_INSERT, [_sql(at, row) for row in rows])
                # one writer inside one transaction: AUTOINCREMENT ids of these rows are consecutive
                last = self._conn.execute("SELECT MAX(id) FROM events").fetchone()[0]
                self._conn.execute("COMMIT")
            except sqlite3.DatabaseError as error:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise StoreError(f"Could not save {n} labels to {self.path}: {error}. None of them was saved.") from error
            self._after_write(n)
        first = last - n + 1
        return [LabelEvent(first + number, at, *row) for number, row in enumerate(rows)]

    def copy_in(self, events: list[LabelEvent]) -> int:
        """Append another store's events (oldest first) as they were: times, annotators, sources,
        undo steps and groups kept, ids renumbered. One transaction. Returns how many."""
        with self._lock:
            self._before_write()
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                start = self._conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0] + 1
                rows = renumbered(events, range(start, start + len(events)))
                self._conn.executemany(_INSERT, [_sql(event.at, tuple(event)[2:]) for event in rows])
                self._conn.execute("COMMIT")
            except sqlite3.DatabaseError as error:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise StoreError(f"Could not copy {len(events)} events into {self.path}: {error}. None was copied.") from error
            self._after_write(len(events))
        return len(events)

    def label_names(self) -> list[str]:
        """The label names the store records, in order."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE name = 'labels'").fetchone()
        return json.loads(row[0]) if row else []

    def add_heuristic(self, name: str) -> None:
        """Record a heuristic's name so it is known again after a restart (same name replaces)."""
        with self._lock:
            self._before_write()
            self._conn.execute(
                "INSERT INTO heuristics (name, added_at) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET added_at = excluded.added_at",
                (name, _now()),
            )
            self._after_write(0)

    def save_snapshot(self, state: LabelState) -> None:
        """Keep ``state`` (all events up to the newest) in the file, so a reopen replays only what follows."""
        with self._lock:
            self._check_open()
            self._check_file()
            upto = self._conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
            self._conn.execute("INSERT OR REPLACE INTO snapshot VALUES (1, ?, ?)", (upto, state.to_bytes()))
            self._events_since_snapshot = 0
            self._dirty = True  # the snapshot itself is a commit to checkpoint
            self._mark_complete()

    # -- reading -----------------------------------------------------------------------------
    def events(self, *, after: int = 0, key: str | None = None) -> list[LabelEvent]:
        """Every event with an id above ``after`` (only those of the record ``key``, when given), oldest first."""
        with self._lock:
            return _read_events(self._conn, self.path, after, key)

    def replay(self) -> LabelState:
        """The current labels, skips and undo history: the snapshot, then every event after it."""
        with self._lock:
            return _replay(self._conn, self.path)

    def heuristics(self) -> list[str]:
        """Names of the heuristics recorded with :meth:`add_heuristic`."""
        with self._lock:
            return [r[0] for r in self._conn.execute("SELECT name FROM heuristics ORDER BY added_at")]

    @property
    def events_since_snapshot(self) -> int:
        """Events written since the last snapshot (a reopen replays these)."""
        return self._events_since_snapshot

    # -- closing -------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed_because:
            raise StoreError(f"This labeler no longer writes to {self.path}: {self._closed_because}. Nothing was "
                             "saved; use the newest labeler on this store.")

    def _taken_over(self) -> None:
        self.close(because="a newer labeler on the same store took it over (was the cell run again?)")
        if self._on_taken_over is not None:
            self._on_taken_over()

    def _close_connection(self, *, because: str) -> None:
        self._on_drop.detach()
        with self._idle_guard:
            self._idle_deadline = None
        self._idle_wake.set()
        self._closed_because = because
        replaced = self._file_identity() != self._identity
        self._conn.close()
        if replaced and self._wal_identity is not None and self._file_identity("-wal") == self._wal_identity:
            # our write-ahead log left beside a file that is not ours any more would be replayed
            # into it by the next opener: take it away (what it held is in the recovery copy)
            for suffix in ("-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
        if self._lock_file is not None:
            self._lock_file.close()

    def close(self, *, because: str = "it was closed", state: LabelState | None = None) -> None:
        """Checkpoint, keep a snapshot of ``state`` when given, close and release the lock (idempotent)."""
        with self._lock:
            if self._closed_because:
                return
            if self._file_identity() == self._identity:
                try:
                    if state is not None and self._events_since_snapshot:
                        self.save_snapshot(state)
                    self._mark_complete()
                except (sqlite3.Error, StoreError):
                    pass  # closing must not fail: every commit is already durable in the log
            elif self._recover() is not None:
                warnings.warn(f"The label store {self.path} was deleted or replaced while this labeler had it open; "
                              f"its labels are saved in {self.recovered_to} (bring them in with "
                              "al.import_labels(path)).", stacklevel=2)
            self._close_connection(because=because)
        if self._temporary_dir is not None:
            self._cleanup()
        with _OPEN_LOCK:
            if _OPEN.get(str(self.path)) is not None and _OPEN[str(self.path)]() is self:
                del _OPEN[str(self.path)]

    def __repr__(self) -> str:
        return f"LabelStore({str(self.path)!r})"


def renumbered(events: list[LabelEvent], ids) -> list[LabelEvent]:
    """``events`` with new ids (in order), their undos and groups pointing at the new ids."""
    ids = list(ids)
    new_id = {event.id: new for event, new in zip(events, ids)}
    new_batch: dict = {}
    out = []
    for event, new in zip(events, ids):
        batch = None if event.batch is None else new_batch.setdefault(event.batch, new)
        undoes = None if event.undoes is None else new_id.get(event.undoes)
        if event.action == "undo" and undoes is None:
            raise StoreError(f"Event {event.id} undoes event {event.undoes}, which is not among the events copied.")
        out.append(event._replace(id=new, undoes=undoes, batch=batch))
    return out


def read_labels(path) -> LabelState:
    """The state of another store file, read without writing to it (to import its labels).

    Raises
    ------
    StoreError
        The file is missing, not a label store of ours, has foreign schema objects, or is a copy
        missing its write-ahead log.
    """
    path = Path(path).expanduser().absolute()
    if not path.is_file():
        raise StoreError(f"There is no label store at {path}; pass the path of a .db file made by a labeler.")
    wal_beside = Path(str(path) + "-wal").exists()
    try:
        # without a -wal beside it, read the file as it is (immutable): a plain read-only connection
        # would create an empty -wal, and then a copy made mid-write would pass for a complete one,
        # here and whenever it is opened again
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro" + ("" if wal_beside else "&immutable=1"), uri=True)
    except sqlite3.Error as error:
        raise StoreError(f"Cannot read the label store {path}: {error}") from error
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            raise StoreError(f"{path} is not a label store made by this package; nothing was imported.")
        objects = {(r[0], r[1]) for r in conn.execute("SELECT type, name FROM sqlite_master")}
        if objects - _KNOWN_OBJECTS:
            raise StoreError(f"{path} holds schema objects this package never creates; nothing was imported.")
        row = conn.execute("SELECT value FROM meta WHERE name = 'multi_label'").fetchone()
        if row is not None and row[0] == "1":
            raise StoreError(f"{path} holds label sets (a multi_label=True labeler's); a labeler of single labels "
                             "cannot import them. Nothing was imported.")
        if not wal_beside:
            row = conn.execute("SELECT value FROM meta WHERE name = 'writing_since'").fetchone()
            if row is not None:
                raise StoreError(f"{path} was copied while labels were being written (since {row[0]}) without its "
                                 f"-wal file; copy both files, or copy after the labeler is closed.")
        return _replay(conn, path)
    except sqlite3.DatabaseError as error:
        raise StoreError(f"Cannot read the label store {path}: {error}") from error
    finally:
        conn.close()


def _read_events(conn, path, after: int, key: str | None = None) -> list[LabelEvent]:
    columns = {r[1] for r in conn.execute("PRAGMA table_info(events)")}
    select = ", ".join(name if name in columns else "NULL" for name in _COLUMNS.split(", "))
    if key is None:
        rows = conn.execute(f"SELECT {select} FROM events WHERE id > ? ORDER BY id", (after,)).fetchall()
    else:
        rows = conn.execute(f"SELECT {select} FROM events WHERE id > ? AND key = ? ORDER BY id", (after, key)).fetchall()
    try:
        with paused_gc():
            return [LabelEvent._make(_from_row(row)) for row in rows]
    except (TypeError, ValueError, OverflowError) as error:
        raise StoreError(f"The label store {path} has a malformed event ({error}); it was changed by another "
                         "program. Restore it from a backup or pass store= a new path.") from None


def _replay(conn, path) -> LabelState:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    row = conn.execute("SELECT upto, state FROM snapshot WHERE id = 1").fetchone() if "snapshot" in tables else None
    state, upto = LabelState(), 0
    if row is not None:
        try:
            state, upto = LabelState.from_bytes(row[1]), int(row[0])
        except (ValueError, TypeError, KeyError, AttributeError, OSError, EOFError, zipfile.BadZipFile):
            state, upto = LabelState(), 0  # a damaged snapshot costs time, never labels: replay the log
    state.apply_all(_read_events(conn, path, upto))
    return state


def _truncated(header: bytes, size: int) -> bool:
    """Whether an SQLite file is shorter than the page count its header records."""
    if len(header) < 100 or header[:16] != b"SQLite format 3\x00" or header[24:28] != header[92:96]:
        return False  # not SQLite, or an old writer that did not keep the count: other checks apply
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    return size < page_size * int.from_bytes(header[28:32], "big")


def _from_row(row: tuple) -> tuple:
    """Check one stored event's types; content back to the unsigned hash."""
    id, at, action, key, label, annotator, source, confidence, undoes, batch, content, note = row
    if not isinstance(id, int) or action not in ACTIONS or not isinstance(key, str) or not isinstance(at, str):
        raise ValueError(f"event {id!r}: action {action!r}, key {key!r}")
    if action == "label" and not isinstance(label, str):
        raise ValueError(f"event {id}: label {label!r}")
    if action == "undo" and not isinstance(undoes, int):
        raise ValueError(f"event {id}: undoes {undoes!r}")
    if action == "note" and not isinstance(note, str):
        raise ValueError(f"event {id}: note {note!r}")
    if content is not None:
        content = int(np.int64(content).view(np.uint64))
    return (id, at, action, key, label, annotator, source, confidence, undoes, batch, content, note)


def _complete_when_dropped(conn: sqlite3.Connection) -> None:
    """Fold the write-ahead log into the .db and clear the writing mark, then close (see LabelStore)."""
    try:
        conn.execute("DELETE FROM meta WHERE name = 'writing_since'")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error:
        pass  # the log stays beside the .db with the mark: the next opener replays it
    finally:
        conn.close()
