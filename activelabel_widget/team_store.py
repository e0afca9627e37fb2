"""The label log on a PostgreSQL server, shared by a team: one data set, many annotators at once.

``store="postgresql://user@host/db"`` (any libpq URL, through the psycopg 3 driver) opens this
instead of the SQLite file. It keeps the same append-only log of events as :mod:`.store` (the
same :class:`~activelabel_widget.events.LabelState` replays it), in tables every annotator's
kernel writes to:

``activelabel_projects``
    One row per data set (``?project=name`` in the URL, ``default`` without): its label names.
``activelabel_events``
    The events, each with the annotator who made it. Writers of one project take turns
    (``pg_advisory_xact_lock``), so event ids are committed in id order and a reader that asks
    for "every event after id N" never misses one committed late with a smaller id.
``activelabel_leases``
    Which annotator holds which record, until when. A record is handed to one annotator at a
    time (or to ``overlap`` annotators, each at most once); a lease not answered in time lapses
    and the record goes back to the pool (:meth:`TeamStore.claim`).
``activelabel_heuristics``, ``activelabel_cards``
    Heuristic names, and the record each annotator had on the card when they stopped.

Every write commits before the call returns. A server that cannot be reached raises
:class:`~activelabel_widget.errors.StoreError` naming the server and saying that nothing was
saved; the next call connects again, so labeling resumes once the server is back.
"""

from __future__ import annotations

import getpass
import json
import threading
import weakref
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import AlreadyAnsweredError, LabelError, StoreError
from .events import LabelEvent, LabelState, paused_gc
from .store import _checked_row, _from_row, _now, _sql, label_rows, renumbered

__all__ = ["TeamStore", "copy_store", "is_server_url", "shown_url", "DEFAULT_PROJECT", "DEFAULT_LEASE_SECONDS"]

#: The project (data set) of a URL without ``?project=``.
DEFAULT_PROJECT = "default"
#: How long a record stays with an annotator who neither answers nor renews its lease.
DEFAULT_LEASE_SECONDS = 300.0
#: Longest a statement may run on the server before it is cancelled (and the call raises).
STATEMENT_TIMEOUT_MS = 15_000

#: Team stores open in this process, by (server, project, annotator): a re-run cell's new labeler
#: takes the older one's place, as it does for a file.
_OPEN: dict = {}
_OPEN_LOCK = threading.Lock()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS activelabel_projects (
    name text PRIMARY KEY,
    labels jsonb NOT NULL,
    multi_label boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS activelabel_events (
    id bigserial PRIMARY KEY,
    project text NOT NULL REFERENCES activelabel_projects (name),
    at text NOT NULL,
    action text NOT NULL CHECK (action IN ('label', 'skip', 'undo', 'reject', 'note')),
    key text NOT NULL,
    label text,
    annotator text,
    source text,
    confidence double precision,
    undoes bigint,
    batch bigint,
    content bigint,
    note text
);
CREATE INDEX IF NOT EXISTS activelabel_events_by_key ON activelabel_events (project, key, id);
CREATE INDEX IF NOT EXISTS activelabel_events_by_id ON activelabel_events (project, id);
CREATE INDEX IF NOT EXISTS activelabel_events_undos ON activelabel_events (project, undoes) WHERE action = 'undo';
CREATE INDEX IF NOT EXISTS activelabel_events_batches ON activelabel_events (project, batch) WHERE batch IS NOT NULL;
CREATE TABLE IF NOT EXISTS activelabel_leases (
    project text NOT NULL,
    key text NOT NULL,
    annotator text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (project, key, annotator)
);
CREATE TABLE IF NOT EXISTS activelabel_heuristics (
    project text NOT NULL,
    name text NOT NULL,
    added_at text NOT NULL,
    PRIMARY KEY (project, name)
);
CREATE TABLE IF NOT EXISTS activelabel_cards (
    project text NOT NULL,
    annotator text NOT NULL,
    key text,
    PRIMARY KEY (project, annotator)
)
"""

_COLUMNS = "id, at, action, key, label, annotator, source, confidence, undoes, batch, content, note"
_INSERT = ("INSERT INTO activelabel_events (id, project, at, action, key, label, annotator, source, confidence, undoes, "
           "batch, content, note) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")


#: Per record among the keys asked about: whether this annotator answered it, and how many
#: annotators answered it (an answer taken back by an undo does not count) or hold a live lease.
_TAKEN = """
SELECT key, bool_or(mine), count(DISTINCT annotator) FROM (
    SELECT e.key, e.annotator, e.annotator = %s AS mine FROM activelabel_events AS e
    WHERE e.project = %s AND e.key = ANY(%s) AND e.action IN ('label', 'reject')
      AND NOT EXISTS (SELECT 1 FROM activelabel_events AS u JOIN activelabel_events AS t ON t.project = u.project AND t.id = u.undoes
                      WHERE u.project = e.project AND u.action = 'undo' AND (t.id = e.id OR t.batch = e.batch))
    UNION ALL
    SELECT l.key, l.annotator, false FROM activelabel_leases AS l
    WHERE l.project = %s AND l.key = ANY(%s) AND l.annotator <> %s AND l.expires_at > now()
) AS answered_or_held GROUP BY key
"""


#: Other annotators whose answer on a record is in force (not taken back by an undo).
_ANSWERED_BY_OTHERS = """
SELECT DISTINCT e.annotator FROM activelabel_events AS e
WHERE e.project = %s AND e.key = %s AND e.action IN ('label', 'reject') AND e.annotator <> %s
  AND NOT EXISTS (SELECT 1 FROM activelabel_events AS u JOIN activelabel_events AS t ON t.project = u.project AND t.id = u.undoes
                      WHERE u.project = e.project AND u.action = 'undo' AND (t.id = e.id OR t.batch = e.batch))
ORDER BY 1
"""


def is_server_url(store) -> bool:
    """Whether ``store=`` names a PostgreSQL server rather than a file."""
    return isinstance(store, str) and store.startswith(("postgresql://", "postgres://"))


#: Every record of a project closed to one annotator (see TeamStore.closed_to_me).
_CLOSED = """
SELECT key FROM (
    SELECT e.key, e.annotator, e.annotator = %s AS mine FROM activelabel_events AS e
    WHERE e.project = %s AND e.action IN ('label', 'reject')
      AND NOT EXISTS (SELECT 1 FROM activelabel_events AS u JOIN activelabel_events AS t ON t.project = u.project AND t.id = u.undoes
                      WHERE u.project = e.project AND u.action = 'undo' AND (t.id = e.id OR t.batch = e.batch))
    UNION ALL
    SELECT l.key, l.annotator, false FROM activelabel_leases AS l
    WHERE l.project = %s AND l.annotator <> %s AND l.expires_at > now()
) AS answered_or_held GROUP BY key HAVING bool_or(mine) OR count(DISTINCT annotator) >= %s
"""


#: Records with at least one answer in force and fewer than the overlap asked for.
_SHORT = """
SELECT count(*) FROM (
    SELECT e.key FROM activelabel_events AS e
    WHERE e.project = %s AND e.action IN ('label', 'reject') AND e.source IS DISTINCT FROM 'adjudicated'
      AND NOT EXISTS (SELECT 1 FROM activelabel_events AS u JOIN activelabel_events AS t ON t.project = u.project AND t.id = u.undoes
                      WHERE u.project = e.project AND u.action = 'undo' AND (t.id = e.id OR t.batch = e.batch))
    GROUP BY e.key HAVING count(DISTINCT e.annotator) < %s
) AS short
"""


def shown_url(url: str) -> str:
    """A server URL as the card and messages show it: without its password, with its project."""
    return _split_url(url)[2]


def _split_url(url: str) -> tuple[str, str, str]:
    """(the URL libpq gets, the project, the URL as shown: without a password)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    project = next((value for name, value in query if name == "project"), DEFAULT_PROJECT) or DEFAULT_PROJECT
    rest = urlencode([(name, value) for name, value in query if name != "project"])
    conninfo = urlunsplit(parts._replace(query=rest))
    netloc = parts.netloc.rsplit("@", 1)
    if len(netloc) == 2 and ":" in netloc[0]:  # user:password@host -> user@host
        netloc = [netloc[0].split(":", 1)[0], netloc[1]]
    shown = urlunsplit(parts._replace(netloc="@".join(netloc), query=rest))
    return conninfo, project, f"{shown} (project {project})"


class TeamStore:
    """Open (or create) a project's label log on a PostgreSQL server.

    Parameters
    ----------
    url : str
        A libpq URL, ``postgresql://user@host:port/db``; ``?project=name`` picks the data set
        (several can share one database). The tables are created on first use.
    labels : list of str
        The label names; names the project does not have yet are added.
    annotator : str, optional
        Who labels in this kernel (every event carries it). Default: the login name.
    multi_label : bool
        Whether the labels are label sets; a project is never opened as the other kind.
    check : callable, optional
        ``check(store)`` runs once the project is open and may raise to refuse it (e.g. the
        data does not match its labels).
    lease_seconds : float
        How long a claimed record stays with this annotator without an answer.
    overlap : int
        How many annotators answer each record (each at most once).

    Raises
    ------
    StoreError
        The server cannot be reached, the driver is not installed, or the project holds the
        other kind of labels.
    """

    def __init__(self, url: str, *, labels: list[str], annotator: str | None = None, multi_label: bool = False,
                 on_taken_over=None, check=None, lease_seconds: float = DEFAULT_LEASE_SECONDS, overlap: int = 1):
        try:
            import psycopg
        except ImportError:
            raise StoreError("A PostgreSQL store needs the psycopg driver: pip install 'activelabel_widget[team]' "
                             "(or pip install 'psycopg[binary]'), then run the cell again.") from None
        self._psycopg = psycopg
        self._conninfo, self.project, self.path = _split_url(url)
        self.annotator = str(annotator) if annotator else getpass.getuser()
        self.multi_label = bool(multi_label)
        self.lease_seconds = float(lease_seconds)
        if not self.lease_seconds > 0:
            raise LabelError(f"lease_seconds must be a positive number of seconds, got {lease_seconds!r}.")
        if not (isinstance(overlap, int) and overlap >= 1):
            raise LabelError(f"overlap is how many annotators answer each record, a whole number from 1; got {overlap!r}.")
        self.overlap = overlap
        self._lock = threading.RLock()
        self._conn = None
        self._closed_because = ""
        self._on_taken_over = on_taken_over
        self._annotator_lock = f"activelabel_widget annotator {self.project} {self.annotator}"
        identity = (self._conninfo, self.project, self.annotator)
        with _OPEN_LOCK:
            previous = _OPEN.get(identity)
            previous = previous() if previous is not None else None
            _OPEN[identity] = weakref.ref(self)
        if previous is not None:
            previous._taken_over()
        self.recovered_to = None  # a file store's recovery copy; a server keeps its own
        self._events_since_snapshot = 0
        self._card_key: str | None = None
        self._card_noted = False  # whether note_card was called: a store refused at opening keeps the saved card
        #: Ids of the events this store wrote (a session applies them as it writes them).
        self.written_ids: set[int] = set()
        #: The newest event id :meth:`replay` read.
        self.last_replayed_id = 0
        with self._lock:
            self._run("open the project", lambda conn: self._init(conn, list(labels)))
            self._saved_card_key = self._run("read where you stopped", self._read_card)
        if check is not None:
            try:
                check(self)
            except BaseException:
                self.close(because="it was refused")
                raise

    # -- the connection -----------------------------------------------------------------------
    def _connect(self):
        try:
            # a connection that dies silently must not hold the card for the operating system's
            # 15 minutes: keepalives, a TCP timeout and a statement timeout end it within seconds
            conn = self._psycopg.connect(self._conninfo, connect_timeout=10, keepalives=1, keepalives_idle=10,
                                         keepalives_interval=5, keepalives_count=3, tcp_user_timeout=20_000,
                                         options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
                                         application_name=f"activelabel_widget {self.annotator}"[:63])
        except self._psycopg.Error as error:
            raise StoreError(f"Could not reach the label server {self.path}: {_first_line(error)}. Nothing was "
                             "saved; check that the server runs and the URL is right, then try again.") from error
        # one kernel per annotator and project: two would share leases and undo each other's steps
        if not conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (self._annotator_lock,)).fetchone()[0]:
            conn.close()
            raise StoreError(f"{self.annotator!r} already labels the project {self.project!r} on {self.path} in another "
                             "kernel; close that labeler, or pass annotator= a name of your own.")
        conn.commit()
        return conn

    def _run(self, what: str, work):
        """``work(conn)`` in one transaction, committed before returning. A failure rolls it back
        and raises StoreError; a lost connection is dropped, so the next call connects again."""
        with self._lock:
            self._check_open()
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            conn = self._conn
            try:
                with conn.transaction():
                    return work(conn)
            except self._psycopg.OperationalError as error:  # the server went away: reconnect next time
                self._drop_connection()
                raise StoreError(f"Could not {what}: the label server {self.path} is not answering "
                                 f"({_first_line(error)}). Nothing was saved; labeling resumes once it is back.") from error
            except self._psycopg.Error as error:
                raise StoreError(f"Could not {what} on the label server {self.path}: {_first_line(error)}. "
                                 "Nothing was saved.") from error

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already broken: nothing more to release
                pass

    def _init(self, conn, labels: list[str]) -> None:
        # one kernel at a time creates the tables: CREATE TABLE IF NOT EXISTS races with itself
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('activelabel_widget schema'))")
        for statement in _SCHEMA.split(";"):
            conn.execute(statement)
        conn.execute("INSERT INTO activelabel_projects (name, labels, multi_label) VALUES (%s, %s, %s) "
                     "ON CONFLICT (name) DO NOTHING", (self.project, json.dumps(labels), self.multi_label))
        stored, multi = conn.execute("SELECT labels, multi_label FROM activelabel_projects WHERE name = %s FOR UPDATE",
                                     (self.project,)).fetchone()
        if bool(multi) != self.multi_label:
            kind = "label sets" if multi else "single labels"
            raise StoreError(f"The project {self.project!r} on {self.path} holds {kind}; open it with "
                             f"multi_label={bool(multi)}, or use another ?project= for this labeler.")
        merged = list(stored) + [name for name in labels if name not in stored]
        if merged != list(stored):
            conn.execute("UPDATE activelabel_projects SET labels = %s WHERE name = %s", (json.dumps(merged), self.project))

    def _read_card(self, conn) -> str | None:
        row = conn.execute("SELECT key FROM activelabel_cards WHERE project = %s AND annotator = %s",
                           (self.project, self.annotator)).fetchone()
        return None if row is None else row[0]

    # -- writing -------------------------------------------------------------------------------
    def _insert(self, conn, rows: list[tuple], at: str, *, one_batch: bool) -> list[LabelEvent]:
        # writers of a project take turns, so ids are committed in id order (see the module)
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"activelabel_widget events {self.project}",))
        ids = [r[0] for r in conn.execute("SELECT nextval(pg_get_serial_sequence('activelabel_events', 'id')) "
                                          "FROM generate_series(1, %s)", (len(rows),))]
        if one_batch:
            rows = [row[:-3] + (ids[0], *row[-2:]) for row in rows]
        with conn.cursor() as cursor:
            cursor.executemany(_INSERT, [(id, self.project, *_sql(at, row)) for id, row in zip(ids, rows)])
        self.written_ids.update(ids)  # a rollback leaves ids no event has: harmless
        return [LabelEvent(id, at, *row) for id, row in zip(ids, rows)]

    def append(self, action: str, key: str, *, label=None, annotator=None, source=None, confidence=None,
               undoes=None, content=None, note=None) -> LabelEvent:
        """Validate one event, append it and commit it before returning (see :meth:`LabelStore.append`)."""
        row = _checked_row(action, key, label, annotator or self.annotator, source, confidence, undoes, None, content, note)
        at = _now()

        def write(conn):
            if action in ("label", "reject") and source != "adjudicated":  # an adjudication settles answers
                self._check_not_answered(conn, str(key))
            (event,) = self._insert(conn, [row], at, one_batch=False)
            if action in ("label", "reject", "skip"):  # answered: the lease has done its work
                conn.execute("DELETE FROM activelabel_leases WHERE project = %s AND key = %s AND annotator = %s",
                             (self.project, event.key, self.annotator))
            return event

        event = self._run(f"save the {action} of row {key}", write)
        self._events_since_snapshot += 1
        return event

    def _check_not_answered(self, conn, key: str) -> None:
        """Refuse an answer on a record ``overlap`` other annotators answered already (this one's
        lease lapsed meanwhile): a record is never answered more often than asked by accident.
        Decided under the record's lock, the one :meth:`claim` takes."""
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"activelabel_widget lease {self.project} {key}",))
        others = conn.execute(_ANSWERED_BY_OTHERS, (self.project, key, self.annotator)).fetchall()
        others = [row[0] for row in others]
        if len(others) >= self.overlap:
            raise AlreadyAnsweredError(
                f"Row {key} was answered by {', '.join(others)} while it was not leased to you any more (the lease "
                f"lapses after {self.lease_seconds:g} s without an answer); your answer was not saved. Go on with "
                "the next record.")

    def append_labels(self, keys, labels, *, annotators=None, sources=None, confidences=None,
                      contents=None, actions=None) -> list[LabelEvent]:
        """Append many label events in one transaction (all or nothing) as one undo step."""
        n = len(keys)
        if not n:
            return []
        rows = label_rows(keys, labels, annotators, sources, confidences, contents, actions,
                          default_annotator=self.annotator)
        at = _now()

        def write(conn):
            for row in rows:  # a bulk label never answers a record more often than asked, either
                if row[4] != "adjudicated":
                    self._check_not_answered(conn, row[1])
            return self._insert(conn, rows, at, one_batch=True)

        events = self._run(f"save {n} labels", write)
        self._events_since_snapshot += n
        return events

    def copy_in(self, events: list[LabelEvent]) -> int:
        """Append another store's events (oldest first) as they were: times, annotators, sources,
        undo steps and groups kept, ids renumbered. One transaction. Returns how many."""
        def write(conn):
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"activelabel_widget events {self.project}",))
            ids = [r[0] for r in conn.execute("SELECT nextval(pg_get_serial_sequence('activelabel_events', 'id')) "
                                              "FROM generate_series(1, %s)", (len(events),))]
            rows = renumbered(events, ids)
            with conn.cursor() as cursor:
                cursor.executemany(_INSERT, [(e.id, self.project, *_sql(e.at, tuple(e)[2:])) for e in rows])
            return len(rows)

        return self._run(f"copy {len(events)} events", write) if events else 0

    def label_names(self) -> list[str]:
        """The project's label names, in order."""
        return self.labels()

    def add_heuristic(self, name: str) -> None:
        """Record a heuristic's name for the project (same name replaces)."""
        self._run(f"record the heuristic {name!r}", lambda conn: conn.execute(
            "INSERT INTO activelabel_heuristics (project, name, added_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (project, name) DO UPDATE SET added_at = excluded.added_at", (self.project, name, _now())))

    def save_snapshot(self, state: LabelState) -> None:
        """Nothing to do: the server replays the project's events by index."""
        self._events_since_snapshot = 0

    def note_card(self, key: str | None) -> None:
        """Remember the record on this annotator's card (kept when the labeler closes)."""
        self._card_key, self._card_noted = key, True

    @property
    def card_key(self) -> str | None:
        """The record this annotator had on the card when the project was last closed."""
        return self._saved_card_key

    # -- routing -------------------------------------------------------------------------------
    def claim(self, keys: list[str], *, want: int, keep=()) -> list[str]:
        """Lease up to ``want`` of ``keys`` (in the order given: the active-learning order) to this
        annotator, and renew the leases it holds among them. A record can be leased while fewer
        than :attr:`overlap` annotators have answered it or hold a live lease on it, and never by one
        who has answered it. Returns the keys this annotator now holds, in the order given.

        Concurrent claims never hand a record to more than :attr:`overlap` annotators: one query finds
        the records that look free, then each is taken under a lock on that record (a transaction
        advisory lock: ``SELECT ... FOR UPDATE SKIP LOCKED`` cannot lock a record nobody holds yet)
        and checked again; a record another kernel is deciding on this instant is skipped, not
        waited for. This annotator's other leases are given back, except on ``keep`` (the record
        on its card): records it no longer means to show go back to the pool at once.
        """
        if want <= 0 or not keys:
            return []
        keep = [str(key) for key in keep]
        keys = list(dict.fromkeys(str(key) for key in keys))
        me, project, overlap = self.annotator, self.project, self.overlap

        def taken(conn, subset) -> dict:
            """key -> (answered here, annotators who answered or hold a live lease) for ``subset``."""
            rows = conn.execute(_TAKEN, (me, project, subset, project, subset, me)).fetchall()
            return {key: (bool(mine), int(count)) for key, mine, count in rows}

        def work(conn):
            mine = {r[0] for r in conn.execute(  # a lapsed lease is claimed again like any other record
                "SELECT key FROM activelabel_leases WHERE project = %s AND annotator = %s AND key = ANY(%s) "
                "AND expires_at > now()", (project, me, keys))}
            seen = taken(conn, keys)
            held = []
            for key in keys:
                if len(held) >= want:
                    break
                if key in mine:
                    held.append(key)
                    continue
                answered, count = seen.get(key, (False, 0))
                if answered or count >= overlap:
                    continue
                if not conn.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))",
                                    (f"activelabel_widget lease {project} {key}",)).fetchone()[0]:
                    continue  # another kernel is claiming it this instant
                answered, count = taken(conn, [key]).get(key, (False, 0))  # again, under the lock
                if not answered and count < overlap:
                    held.append(key)
            conn.execute(
                "INSERT INTO activelabel_leases (project, key, annotator, expires_at) "
                "SELECT %s, k, %s, now() + make_interval(secs => %s) FROM unnest(%s::text[]) AS k "
                "ON CONFLICT (project, key, annotator) DO UPDATE SET expires_at = excluded.expires_at",
                (project, me, self.lease_seconds, held))
            conn.execute("DELETE FROM activelabel_leases WHERE project = %s AND annotator = %s AND NOT key = ANY(%s)",
                         (project, me, held + keep))
            return held

        return self._run("hand out records", work)

    def release(self, keys=None) -> None:
        """Give back this annotator's leases on ``keys`` (all of them when None)."""
        if keys is None:
            self._run("give records back", lambda conn: conn.execute(
                "DELETE FROM activelabel_leases WHERE project = %s AND annotator = %s", (self.project, self.annotator)))
        else:
            self._run("give records back", lambda conn: conn.execute(
                "DELETE FROM activelabel_leases WHERE project = %s AND annotator = %s AND key = ANY(%s)",
                (self.project, self.annotator, [str(key) for key in keys])))

    def closed_to_me(self) -> set[str]:
        """Keys this annotator must not be offered: answered by it, or answered or held by
        :attr:`overlap` others."""
        rows = self._run("read the leases", lambda conn: conn.execute(
            _CLOSED, (self.annotator, self.project, self.project, self.annotator, self.overlap)).fetchall())
        return {row[0] for row in rows}

    def short_of_answers(self) -> int:
        """Records that have some answers but fewer than :attr:`overlap` (0 when overlap is 1)."""
        if self.overlap == 1:
            return 0
        return int(self._run("count the answers", lambda conn: conn.execute(_SHORT, (self.project, self.overlap)).fetchone()[0]))

    def leased_by_others(self) -> set[str]:
        """Keys other annotators hold a live lease on (not to be offered here)."""
        rows = self._run("read the leases", lambda conn: conn.execute(
            "SELECT DISTINCT key FROM activelabel_leases WHERE project = %s AND annotator <> %s AND expires_at > now()",
            (self.project, self.annotator)).fetchall())
        return {row[0] for row in rows}

    # -- reading -------------------------------------------------------------------------------
    def events(self, *, after: int = 0, key: str | None = None) -> list[LabelEvent]:
        """Every event of the project with an id above ``after`` (only those of ``key``, when given), oldest first."""
        if key is None:
            query, params = f"SELECT {_COLUMNS} FROM activelabel_events WHERE project = %s AND id > %s ORDER BY id", \
                (self.project, after)
        else:
            query, params = (f"SELECT {_COLUMNS} FROM activelabel_events WHERE project = %s AND id > %s AND key = %s "
                             "ORDER BY id"), (self.project, after, str(key))
        rows = self._run("read the labels", lambda conn: conn.execute(query, params).fetchall())
        try:
            with paused_gc():
                return [LabelEvent._make(_from_row(row)) for row in rows]
        except (TypeError, ValueError, OverflowError) as error:
            raise StoreError(f"The label server {self.path} has a malformed event ({error}); it was changed by "
                             "another program.") from None

    def replay(self) -> LabelState:
        """Every annotator's labels, skips and undo history, from the project's events."""
        events = self.events()
        state = LabelState()
        state.apply_all(events)
        self.last_replayed_id = events[-1].id if events else 0
        return state

    def heuristics(self) -> list[str]:
        """Names of the project's heuristics."""
        rows = self._run("read the heuristics", lambda conn: conn.execute(
            "SELECT name FROM activelabel_heuristics WHERE project = %s ORDER BY added_at", (self.project,)).fetchall())
        return [row[0] for row in rows]

    def labels(self) -> list[str]:
        """The project's label names, in order."""
        return list(self._run("read the labels", lambda conn: conn.execute(
            "SELECT labels FROM activelabel_projects WHERE name = %s", (self.project,)).fetchone()[0]))

    @property
    def events_since_snapshot(self) -> int:
        """Events this annotator wrote since the store opened."""
        return self._events_since_snapshot

    # -- closing -------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed_because:
            raise StoreError(f"This labeler no longer writes to {self.path}: {self._closed_because}. Nothing was "
                             "saved; use the newest labeler on this project.")

    def _taken_over(self) -> None:
        self.close(because="a newer labeler of the same annotator took the project over (was the cell run again?)")
        if self._on_taken_over is not None:
            self._on_taken_over()

    def close(self, *, because: str = "it was closed", state: LabelState | None = None) -> None:
        """Give back this annotator's leases, remember the card's record, and disconnect. Idempotent."""
        with self._lock:
            if self._closed_because:
                return
            try:
                def farewell(conn):
                    conn.execute("DELETE FROM activelabel_leases WHERE project = %s AND annotator = %s",
                                 (self.project, self.annotator))
                    if self._card_noted:
                        conn.execute("INSERT INTO activelabel_cards (project, annotator, key) VALUES (%s, %s, %s) "
                                     "ON CONFLICT (project, annotator) DO UPDATE SET key = excluded.key",
                                     (self.project, self.annotator, self._card_key))
                self._run("close the project", farewell)
            except StoreError:
                pass  # the server is gone: its leases lapse on their own
            self._closed_because = because
            self._drop_connection()

    def __repr__(self) -> str:
        return f"<TeamStore {self.path} annotator={self.annotator!r}>"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def copy_store(source, destination) -> int:
    """Copy every label event from one store into another, in one call: a SQLite file into a
    PostgreSQL project (``"postgresql://.../db?project=name"``) or back. Times, annotators,
    sources, undo steps and notes are kept; the destination must hold no events yet (nothing is
    merged). Close any labeler on either store first. Returns how many events were copied.

    Raises
    ------
    StoreError
        The destination already holds events, or either store cannot be opened.
    """
    from .store import LabelStore

    def open_store(where, labels):
        if is_server_url(where):
            return TeamStore(where, labels=labels, annotator="copy")
        return LabelStore(where, labels=labels)

    source_store = open_store(source, [])
    try:
        events, labels = source_store.events(), source_store.label_names()
    finally:
        source_store.close()
    target = open_store(destination, labels)
    try:
        if target.events():
            raise StoreError(f"{target.path} already holds labels; copy into a new file or project so nothing is mixed.")
        return target.copy_in(events)
    finally:
        target.close()
