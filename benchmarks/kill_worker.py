"""Label as fast as possible until killed; and the driver that kills it and checks the store.

Worker (a stand-in for a notebook kernel)::

    python benchmarks/kill_worker.py STORE SEED

opens a :class:`LabelingSession` (``background=True``) on ``STORE`` and labels the record on the
card as fast as it can, now and then skipping it or undoing the last action. Before each action it
prints ``DO ...`` and after the call returns ``ACK <key> <label>``, ``ACK-SKIP <key>`` or
``ACK-UNDO <key>``, each line written with one ``write`` so that a line is either whole or absent.
An action with a ``DO`` line but no ``ACK`` is the one in flight when the process died: it may or
may not be in the store; every acknowledged action must be. The first lines are ``CARD <key>``
(the record shown on resuming) and ``GO`` (labeling starts now).

Importing pandas and scikit-learn takes seconds, so for many kills the driver can start one
server instead (``python benchmarks/kill_worker.py --serve``): it imports everything once and, for
each ``RUN STORE SEED`` line on stdin, forks a child that does exactly what the worker does (it
opens the store itself, after the fork) and is killed with SIGKILL like a kernel. The server
prints ``PID <pid>`` when the child starts and ``EXIT <pid> <status>`` once it is gone.

The driver (:func:`run_kills`) is shared by ``tests/test_faults.py`` and ``benchmarks/faults.py``.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

LABELS = ["bug", "feature", "question"]
N_ROWS = 3000
#: Share of actions that are skips and undos; the rest are labels. Once 80% of the rows are
#: labeled, most actions are undos, so that there are always unlabeled records to resume on.
SKIP_SHARE = 0.08
UNDO_SHARE = 0.08
UNDO_SHARE_WHEN_FULL = 0.6
#: How long the driver waits for a line before deciding the worker is stuck (not a timing check).
STUCK_AFTER = 120.0


def make_frame(n: int = N_ROWS):
    """The same tickets in every run (so every label's record is there on resume)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(12345)
    words = {"bug": ["crash", "error", "broken", "traceback"], "feature": ["add", "support", "request", "wish"],
             "question": ["how", "why", "where", "guide"]}
    verbs = ["save a file", "export csv", "log in", "open the editor", "sync my phone", "print"]
    bodies, truth = [], []
    for i in range(n):
        label = LABELS[i % 3]
        bodies.append(f"{words[label][rng.integers(4)]} when I {verbs[rng.integers(len(verbs))]} #{i}")
        truth.append(label)
    return pd.DataFrame({"body": bodies, "truth": truth}, index=pd.RangeIndex(n))


# -- the worker ----------------------------------------------------------------------------------
def _say(line: str) -> None:
    os.write(1, (line + "\n").encode())  # one write per line: whole or absent when killed


def label_until_killed(store: str, seed: int) -> None:
    from activelabel_widget import LabelingSession

    df = make_frame()
    truth = df["truth"].to_numpy()
    rng = random.Random(seed)
    session = LabelingSession(df, text="body", labels=LABELS, store=store, background=True, retrain_every=10,
                              annotator="kill-worker", random_state=seed)
    _say(f"CARD {session.current}")
    _say("GO")
    while True:
        key = session.current
        draw = rng.random()
        undo_share = UNDO_SHARE if session.progress["labeled"] < 0.8 * len(df) else UNDO_SHARE_WHEN_FULL
        if key is None or draw < undo_share:
            _say("DO-UNDO")
            undone = session.undo()
            _say(f"ACK-UNDO {undone}")
        elif draw < undo_share + SKIP_SHARE:
            _say(f"DO-SKIP {key}")
            session.skip()
            _say(f"ACK-SKIP {key}")
        else:
            # mostly the true label, so the background model has something to learn
            label = truth[key] if rng.random() < 0.8 else rng.choice(LABELS)
            _say(f"DO {key} {label}")
            session.label(key, label)
            _say(f"ACK {key} {label}")


def serve() -> None:
    """Import once, then fork one labeling child per ``RUN STORE SEED`` line on stdin."""
    import activelabel_widget.session  # noqa: F401  (the slow imports happen here, once)
    import sklearn.linear_model  # noqa: F401
    import sklearn.feature_extraction.text  # noqa: F401

    _say("READY")
    for line in sys.stdin:
        command = line.split()
        if not command:
            continue
        if command[0] != "RUN":
            break
        store, seed = command[1], int(command[2])
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                label_until_killed(store, seed)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        _say(f"PID {pid}")
        _, status = os.waitpid(pid, 0)
        _say(f"EXIT {pid} {-os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)}")


# -- the driver ----------------------------------------------------------------------------------
class _Lines:
    """Whole lines from a pipe, with a deadline so a stuck worker fails the run instead of hanging it."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = b""
        self.eof = False

    def next(self, timeout: float = STUCK_AFTER) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            if self.eof:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"no line from the worker for {timeout:g} s (last bytes: {self.buffer[-200:]!r})")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, 65536)
                if chunk:
                    self.buffer += chunk
                else:
                    self.eof = True
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()


@dataclass
class Expected:
    """The state the acknowledged actions describe, kept the way the store replays its log."""

    labels: dict = field(default_factory=dict)  # key -> label
    skipped: OrderedDict = field(default_factory=OrderedDict)  # key -> None, oldest skip first
    history: list = field(default_factory=list)  # undo stack of (action, key, label, previous label)

    def copy(self) -> "Expected":
        return Expected(dict(self.labels), OrderedDict(self.skipped), list(self.history))

    def apply(self, action: tuple) -> object:
        """Apply ``("label", key, label)``, ``("skip", key)`` or ``("undo",)``; an undo returns the undone key."""
        if action[0] == "label":
            _, key, label = action
            self.history.append(("label", key, label, self.labels.get(key)))
            self.labels[key] = label
            self.skipped.pop(key, None)
        elif action[0] == "skip":
            key = action[1]
            self.history.append(("skip", key, None, None))
            self.skipped.pop(key, None)
            self.skipped[key] = None
        else:
            if not self.history:
                return None
            kind, key, _, previous = self.history.pop()
            if kind == "label":
                if previous is None:
                    self.labels.pop(key, None)
                else:
                    self.labels[key] = previous
            else:
                self.skipped.pop(key, None)
            return key
        return None

    def view(self) -> tuple:
        return self.labels, list(self.skipped), [entry[:3] for entry in self.history]


def store_state(store_path) -> Expected:
    """Open the store the way a new labeler does (lock, checks) and replay it."""
    from activelabel_widget.store import LabelStore

    store = LabelStore(store_path, labels=LABELS)
    try:
        replay = store.replay()
    finally:
        store.close()
    key = lambda text: int(text.removeprefix("i:"))  # noqa: E731
    state = Expected()
    state.labels = {key(k): event.label for k, event in replay.labels.items()}
    state.skipped = OrderedDict((key(k), None) for k in replay.skipped)
    state.history = [(event.action, key(event.key), event.label, None) for step in replay.history for event, _ in step]
    return state


@dataclass
class Figures:
    kills: int = 0
    acknowledged_labels: int = 0
    acknowledged_actions: int = 0
    in_flight_saved: int = 0
    in_flight_not_saved: int = 0
    lost: int = 0
    injected: int = 0
    fresh_processes: int = 0
    failures: list = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"kills (SIGKILL while labeling)      {self.kills}",
            f"  of which fresh interpreters       {self.fresh_processes}",
            f"acknowledged labels                 {self.acknowledged_labels}",
            f"acknowledged actions (label/skip/undo) {self.acknowledged_actions}",
            f"in-flight action found in the store {self.in_flight_saved}",
            f"in-flight action not in the store   {self.in_flight_not_saved}",
            f"acknowledged labels lost            {self.lost}",
            f"labels injected (never sent)        {self.injected}",
        ]


def _parse(line: str):
    """``DO``/``ACK`` lines as actions: ("label", key, label), ("skip", key), ("undo",)."""
    word, *rest = line.split()
    if word in ("DO", "ACK"):
        return word, ("label", int(rest[0]), rest[1])
    if word in ("DO-SKIP", "ACK-SKIP"):
        return word.split("-")[0], ("skip", int(rest[0]))
    if word == "DO-UNDO":
        return "DO", ("undo",)
    if word == "ACK-UNDO":
        return "ACK", ("undo", None if rest[0] == "None" else int(rest[0]))
    raise ValueError(f"unexpected line from the worker: {line!r}")


def _lost(expected: Expected, actual: Expected) -> int:
    """Acknowledged labels missing or different in the store."""
    return sum(1 for key, label in expected.labels.items() if actual.labels.get(key) != label)


def _injected(expected: Expected, actual: Expected) -> int:
    """Labels in the store on records that no acknowledged (or in-flight) action labeled."""
    return sum(1 for key in actual.labels if key not in expected.labels)


def run_kills(store_path, *, kills: int, seed: int = 0, fresh: int = 2, log=None,
              check_session_every: int = 20) -> Figures:
    """Kill the labeler ``kills`` times on one store, checking the store after each kill.

    The first ``fresh`` runs start a new interpreter (``python kill_worker.py STORE SEED``); the
    others are forked from one server that imported the package once. Every
    ``check_session_every`` kills (and after the last) a full :class:`LabelingSession` is opened
    on the store too. Mismatches are collected in ``Figures.failures`` (the caller asserts).
    """
    from activelabel_widget import LabelingSession

    store_path = str(store_path)
    df = make_frame()
    rng = random.Random(seed)
    figures = Figures()
    expected = Expected()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    stderr_path = Path(store_path).with_name("kill-worker.stderr")
    stderr = open(stderr_path, "ab")
    server = None
    server_lines = None
    try:
        for run in range(kills):
            run_seed = rng.randrange(2**31)
            if run < fresh:
                proc = subprocess.Popen([sys.executable, __file__, store_path, str(run_seed)], stdout=subprocess.PIPE,
                                        stderr=stderr, env=env)
                lines, pid = _Lines(proc.stdout.fileno()), proc.pid
                figures.fresh_processes += 1
            else:
                if server is None:
                    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE,
                                              stdout=subprocess.PIPE, stderr=stderr, env=env)
                    server_lines = _Lines(server.stdout.fileno())
                    if server_lines.next() != "READY":
                        raise RuntimeError(f"the kill server did not start; see {stderr_path}")
                server.stdin.write(f"RUN {store_path} {run_seed}\n".encode())
                server.stdin.flush()
                first = server_lines.next()
                if not first or not first.startswith("PID "):
                    raise RuntimeError(f"the kill server did not fork: {first!r}; see {stderr_path}")
                lines, pid, proc = server_lines, int(first.split()[1]), None

            # the record on the card after resuming must be unlabeled
            card = lines.next()
            if card is None or not card.startswith("CARD "):
                raise RuntimeError(f"run {run}: the worker died before labeling ({card!r}); see {stderr_path}")
            shown = None if card.split()[1] == "None" else int(card.split()[1])
            if shown is None and len(expected.labels) < len(df):
                figures.failures.append(f"run {run}: resumed with no record on the card, {len(expected.labels)} labeled")
            if shown is not None and shown in expected.labels:
                figures.failures.append(f"run {run}: resumed on record {shown}, already labeled {expected.labels[shown]!r}")
            if lines.next() != "GO":
                raise RuntimeError(f"run {run}: the worker did not start labeling; see {stderr_path}")
            time.sleep(rng.uniform(0.005, 0.300))
            os.kill(pid, signal.SIGKILL)

            pending = None
            while True:
                line = lines.next()
                if line is None or line.startswith("EXIT "):
                    status = None if line is None else int(line.split()[2])
                    break
                kind, action = _parse(line)
                if kind == "DO":
                    pending = action
                    continue
                if pending is None or pending[0] != action[0] or (action[0] != "undo" and pending != action):
                    figures.failures.append(f"run {run}: {line!r} acknowledges {pending!r}")
                undone = expected.apply(pending)
                if action[0] == "undo" and undone != action[1]:
                    figures.failures.append(f"run {run}: undo took back {action[1]!r}, the acknowledged log says {undone!r}")
                figures.acknowledged_actions += 1
                figures.acknowledged_labels += action[0] == "label"
                pending = None
            if proc is not None:
                proc.wait()
                proc.stdout.close()
                status = proc.returncode
            if status != -signal.SIGKILL:
                figures.failures.append(f"run {run}: the worker ended with status {status}, not by SIGKILL; see {stderr_path}")
            figures.kills += 1

            actual = store_state(store_path)
            candidates = [expected]
            if pending is not None:
                with_pending = expected.copy()
                with_pending.apply(pending)
                candidates.append(with_pending)
            match = next((i for i, c in enumerate(candidates) if c.view() == actual.view()), None)
            if match is None:
                lost, injected = min((_lost(c, actual), _injected(c, actual)) for c in candidates)
                figures.lost += lost
                figures.injected += injected
                figures.failures.append(
                    f"run {run}: the store does not match the acknowledged actions (in flight: {pending!r}); "
                    f"{lost} acknowledged label(s) missing or changed, {injected} injected")
                expected = actual  # go on from what is there, to count further runs honestly
            else:
                if pending is not None:
                    figures.in_flight_saved += match == 1
                    figures.in_flight_not_saved += match == 0
                expected = candidates[match]
            if log is not None:
                log(f"kill {run + 1}/{kills}: {figures.acknowledged_labels} acknowledged labels so far, "
                    f"{len(expected.labels)} labeled in the store, in flight {pending!r}")

            if (run + 1) % check_session_every == 0 or run + 1 == kills:
                session = LabelingSession(df, text="body", labels=LABELS, store=store_path, background=False)
                try:
                    labeled = session.labeled["label"].astype(str).to_dict()
                    if labeled != expected.labels:
                        figures.failures.append(f"run {run}: a resumed session's labeled differs from the store's replay")
                    if session.current is not None and session.current in expected.labels:
                        figures.failures.append(f"run {run}: a resumed session shows labeled record {session.current}")
                finally:
                    session.close()
    finally:
        if server is not None:
            server.stdin.close()
            server.wait(timeout=60)
            server.stdout.close()
        stderr.close()
    return figures


if __name__ == "__main__":
    if sys.argv[1] == "--serve":
        serve()
    else:
        code = 1
        try:
            label_until_killed(sys.argv[1], int(sys.argv[2]))
        finally:
            sys.exit(code)
