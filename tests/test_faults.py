"""Nothing lost, nothing injected: killed kernels, two labelers, damaged stores, misbehaving models."""

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from activelabel_widget.errors import ModelError
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from activelabel_widget import LabelingSession
from activelabel_widget.errors import StoreError, StoreMismatchError

from conftest import LABELS, ticket_frame

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS.parent / "benchmarks"))  # the kill driver is shared with benchmarks/faults.py

from kill_worker import run_kills  # noqa: E402


def label_in_index_order(session, n):
    """Label the first n rows (index order, whatever the card shows) with their true label.

    In ``ticket_frame`` the truth cycles bug, feature, question: after 5 rows two labels have two
    examples each, so the first fit happens on exactly 5 labels.
    """
    df = session.dataset.df
    for key in df.index[:n]:
        if key not in session.labeled.index:
            session.label(key, df.loc[key, "truth"])


def events_in(path) -> list[tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT id, action, key, label, annotator FROM events ORDER BY id").fetchall()
    finally:
        conn.close()


def integrity(path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


# -- 1. the kernel is killed while labeling ---------------------------------------------------------
@pytest.mark.slow
def test_a_kernel_killed_100_times_while_labeling_loses_no_acknowledged_label(tmp_path, capsys):
    """SIGKILL 5-300 ms into labeling at full speed, 100 times on one store, each run resuming the last.

    After every kill the store must open (lock, checks, replay) and hold exactly the acknowledged
    labels, skips and undo history, give or take the one action in flight; the next run must resume
    on an unlabeled record. See benchmarks/kill_worker.py for the protocol.
    """
    store = tmp_path / "labels.db"
    figures = run_kills(store, kills=100, seed=20240611, fresh=1, check_session_every=100)
    with capsys.disabled():  # the figures belong in the run's output, not only with -s
        print("\n" + "\n".join(figures.lines()))
    assert figures.failures == []
    assert figures.kills == 100 and figures.lost == 0 and figures.injected == 0
    assert figures.acknowledged_labels >= 100  # the runs really labeled before they were killed
    assert integrity(store) == "ok"


# -- 2. two labelers on one store ----------------------------------------------------------------------
_SECOND_LABELER = """
import sys
sys.path.insert(0, {tests!r})
from conftest import LABELS, ticket_frame
from activelabel_widget import LabelingSession
from activelabel_widget.errors import StoreError
try:
    session = LabelingSession(ticket_frame({n}), text="body", labels=LABELS, store={store!r}, background=False,
                              annotator="second")
except StoreError as error:
    print("REFUSED", error)
else:
    print("OPENED", len(session.labeled))
    session.close()
"""


def test_a_second_labeler_in_another_process_is_refused_while_the_first_keeps_labeling(tmp_path):
    store, n = tmp_path / "labels.db", 300
    # one fit only: the first labeler's background training would slow the second one's start
    first = LabelingSession(ticket_frame(n), text="body", labels=LABELS, store=store, annotator="first",
                            retrain_every=10**6)
    script = _SECOND_LABELER.format(tests=str(TESTS), n=n, store=str(store))
    second = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    made = []
    while second.poll() is None or len(made) < 5:  # both at once: label for as long as the second tries
        key = first.current if first.current is not None else made[len(made) % n][0]  # all done: relabel
        label = LABELS[len(made) % 3]
        if first.label_of(key) == label:  # a correction must change the label (the same one saves nothing)
            label = LABELS[(len(made) + 1) % 3]
        first.label(key, label)
        made.append((key, label))
    out, err = second.communicate(timeout=120)
    assert out.startswith("REFUSED"), err
    assert "in use by another labeler" in out and f"pid {os.getpid()}" in out  # it names the holder
    assert "Close the other one" in out  # and says what to do

    events = events_in(store)
    assert [(int(e[2][2:]), e[3]) for e in events] == made  # no write lost, none by the refused labeler
    assert {e[4] for e in events} == {"first"}
    assert integrity(store) == "ok"

    first.close()
    again = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert again.stdout.strip() == f"OPENED {len(dict(made))}", again.stderr


def test_in_one_process_the_newer_labeler_takes_over_and_the_older_writes_nothing(make_session):
    older = make_session()
    for _ in range(3):
        older.label(older.current, "bug")
    newer = make_session()
    assert len(newer.labeled) == 3
    before = older.store.path.read_bytes(), events_in(older.store.path)
    assert older.closed_because.startswith("a newer labeler") and older.current is None  # retired

    with pytest.raises(StoreError, match="newer labeler on the same store took it over") as refused:
        older.label(newer.current, "feature")
    assert "Nothing was saved" in str(refused.value) and "newest labeler" in str(refused.value)
    with pytest.raises(StoreError, match="took it over"):
        older.undo()
    assert (older.store.path.read_bytes(), events_in(older.store.path)) == before

    newer.label(newer.current, "question")
    assert [e[3] for e in events_in(newer.store.path)] == ["bug", "bug", "bug", "question"]


def test_a_newer_labeler_that_is_refused_leaves_the_older_one_writing(make_session, tmp_path):
    older = make_session()
    older.label(older.current, "bug")
    with pytest.raises(StoreMismatchError):
        LabelingSession(ticket_frame(start=0), text="body", labels=LABELS, store=tmp_path / "labels.db")
    older.label(older.current, "feature")  # raises "a newer labeler ... took it over" today
    assert len(events_in(older.store.path)) == 2


# -- 3. a store that is truncated, locked or read-only ------------------------------------------------
@pytest.fixture(scope="module")
def saved_store_bytes(tmp_path_factory):
    """The bytes of a closed store with 200 labels on ticket_frame(300), made once."""
    path = tmp_path_factory.mktemp("template") / "labels.db"
    session = LabelingSession(ticket_frame(300), text="body", labels=LABELS, store=path)
    for i in range(200):
        session.label(session.current, LABELS[i % 3])
    session.close()
    return path.read_bytes()


@pytest.fixture
def saved_store(tmp_path, saved_store_bytes):
    """A copy of that store in tmp_path; returns its path."""
    path = tmp_path / "labels.db"
    path.write_bytes(saved_store_bytes)
    return path


def open_on(path):
    return LabelingSession(ticket_frame(300), text="body", labels=LABELS, store=path, background=False)


@pytest.mark.parametrize("keep", [50, 100, 4096, 4097, "half", "all but a page", "all but 100 bytes"])
def test_a_truncated_store_is_refused_clearly_and_left_as_it_was(saved_store, keep):
    data = saved_store.read_bytes()
    size = {"half": len(data) // 2, "all but a page": len(data) - 4096, "all but 100 bytes": len(data) - 100}.get(keep, keep)
    saved_store.write_bytes(data[:size])
    with pytest.raises(StoreError) as refused:
        open_on(saved_store)
    message = str(refused.value)
    assert str(saved_store) in message and ("backup" in message or "new path" in message)
    assert saved_store.read_bytes() == data[:size]  # nothing written, not even half-way


def test_a_store_cut_to_its_first_byte_is_refused_too(saved_store):
    data = saved_store.read_bytes()
    saved_store.write_bytes(data[:1])
    with pytest.raises(StoreError):
        open_on(saved_store).close()
    assert saved_store.read_bytes() == data[:1]


_HOLD_EXCLUSIVE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("HELD", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""


def test_a_store_locked_by_another_program_is_refused_clearly_and_left_as_it_was(saved_store):
    data = saved_store.read_bytes()
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_EXCLUSIVE, str(saved_store)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "HELD"
        with pytest.raises(StoreError, match="locked by another program") as refused:
            open_on(saved_store)
        assert "close it and try again" in str(refused.value)
        assert saved_store.read_bytes() == data
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    session = open_on(saved_store)  # once the other program lets go, the labels are all there
    assert len(session.labeled) == 200
    session.close()


def test_a_read_only_store_is_refused_clearly_and_left_as_it_was(saved_store):
    data = saved_store.read_bytes()
    saved_store.chmod(0o444)
    try:
        with pytest.raises(StoreError, match="read-only") as refused:
            open_on(saved_store)
        assert "writable" in str(refused.value)
        assert saved_store.read_bytes() == data
    finally:
        saved_store.chmod(0o644)


# -- 4. misbehaving models ---------------------------------------------------------------------------------
class _Misbehaving(ClassifierMixin, BaseEstimator):
    """Logistic regression that behaves until it is fitted on ``after`` labels or more."""

    def __init__(self, after=10**9):
        self.after = after

    def _fit_well(self, X, y):
        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        self.n_fitted_ = len(y)
        return self

    def fit(self, X, y):
        return self._fit_well(X, y)

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    @property
    def misbehaves(self):
        return self.n_fitted_ >= self.after


class NoProbabilities(ClassifierMixin, BaseEstimator):
    """Fits, keeps classes_, but can neither give probabilities nor decision values."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(X.shape[0], self.classes_[0])


class NaNProbabilities(_Misbehaving):
    def predict_proba(self, X):
        proba = self.model_.predict_proba(X)
        if self.misbehaves:
            proba[::7] = np.nan
        return proba


class FitRaises(_Misbehaving):
    def fit(self, X, y):
        if len(y) >= self.after:
            raise RuntimeError("out of memory while fitting")
        return self._fit_well(X, y)


class PredictRaises(_Misbehaving):
    def predict_proba(self, X):
        if self.misbehaves:
            raise ValueError("cannot score a sparse matrix")
        return self.model_.predict_proba(X)


_RELEASE_HANGING_FITS = threading.Event()


class FitHangs(_Misbehaving):
    def fit(self, X, y):
        if len(y) >= self.after:
            _RELEASE_HANGING_FITS.wait(timeout=300)  # a fit that never ends, as far as the test can tell
        return self._fit_well(X, y)


class ReversedClasses(ClassifierMixin, BaseEstimator):
    """Nearest class mean, keeping ``classes_`` (and so its probability columns) in reverse order."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)[::-1]
        self.means_ = np.stack([X[y == c].mean(axis=0) for c in self.classes_])
        return self

    def predict_proba(self, X):
        distance = ((np.asarray(X)[:, None, :] - self.means_[None]) ** 2).sum(axis=2)
        weight = np.exp(-(distance - distance.min(axis=1, keepdims=True)))
        return weight / weight.sum(axis=1, keepdims=True)


def levels_frame(n=60, classes=LABELS):
    """One numeric column whose level gives the label: the right suggestion is known for every row."""
    codes = np.arange(n) % len(classes)
    noise = np.random.default_rng(0).normal(0, 0.01, n)
    return pd.DataFrame({"level": codes * 10.0 + noise, "truth": [classes[c] for c in codes]})


def assert_suggestions_are_right(session):
    session.retrain(wait=True)
    assert session.model_status.state == "ready", session.model_status.message
    frame = session.to_frame()
    unlabeled = frame[frame["label"].isna()]
    assert len(unlabeled) > 0 and (unlabeled["prediction"].astype(str) == unlabeled["truth"]).all()
    label, _ = session.suggestion
    assert label == frame.loc[session.current, "truth"]


@pytest.mark.parametrize("model", [ReversedClasses(), LinearSVC()], ids=["classes_ reversed", "decision_function only"])
@pytest.mark.parametrize("classes", [LABELS, ["bug", "feature"]], ids=["3 labels", "2 labels"])
def test_suggestions_follow_the_models_own_class_order_and_decision_values(make_session, model, classes):
    session = make_session(levels_frame(classes=classes), features=["level"], labels=classes, model=model)
    label_in_index_order(session, 2 * len(classes))
    assert_suggestions_are_right(session)


def test_a_model_with_neither_probabilities_nor_decision_values_is_refused_up_front(make_session):
    with pytest.raises(ModelError) as refused:
        make_session(model=NoProbabilities())
    assert "NoProbabilities has neither predict_proba nor decision_function" in str(refused.value)
    assert "CalibratedClassifierCV" in str(refused.value)


@pytest.mark.parametrize("model, says", [
    (NaNProbabilities(after=8), "NaN or infinite probabilities for"),
    (FitRaises(after=8), "FitRaises.fit failed: RuntimeError: out of memory while fitting"),
    (PredictRaises(after=8), "PredictRaises.predict_proba failed: ValueError: cannot score a sparse matrix"),
], ids=["NaN probabilities", "fit raises", "predict_proba raises"])
def test_a_model_that_goes_wrong_keeps_the_previous_one_and_says_why(make_session, model, says):
    session = make_session(model=model, retrain_every=3)
    label_in_index_order(session, 5)  # first fit, on 5 labels: fine
    assert session.model_status.state == "ready" and session.model_status.fits == 1
    predictions = session.to_frame()["prediction"]

    label_in_index_order(session, 8)  # the refit on 8 labels goes wrong
    status = session.model_status
    assert status.state == "error" and says in status.message and "kept the previous model" in status.message
    assert status.fits == 1 and session.suggestion is not None
    assert session.to_frame()["prediction"].equals(predictions)  # the previous model still scores the pool

    for _ in range(3):  # labeling goes on
        session.label(session.current, "question")
    assert len(session.labeled) == 11


def test_a_fit_that_hangs_is_abandoned_after_fit_timeout_and_the_previous_model_stays(make_session):
    # a healthy fit on 5 labels takes well under a second; 10 s leaves room on a loaded machine
    session = make_session(model=FitHangs(after=8), retrain_every=3, fit_timeout=10.0, background=True)
    try:
        session.wait_idle(timeout=120)
        label_in_index_order(session, 5)
        session.wait_idle(timeout=120)
        assert session.model_status.state == "ready" and session.model_status.fits == 1
        predictions = session.to_frame()["prediction"]

        label_in_index_order(session, 8)  # starts a fit that never ends
        session.wait_idle(timeout=120)  # returns once the round is abandoned
        status = session.model_status
        assert status.state == "error" and "fit_timeout" in status.message and "previous model" in status.message
        assert status.fits == 1 and session.to_frame()["prediction"].equals(predictions)
        session.label(session.current, "question")
        assert len(session.labeled) == 9
    finally:
        _RELEASE_HANGING_FITS.set()


def test_a_model_that_cannot_score_a_cross_validation_fold_is_still_used(make_session):
    """k-neighbours with k=5 works on 5 labels but not on a fold's 2 or 3: no estimate, but a model."""
    from sklearn.neighbors import KNeighborsClassifier

    session = make_session(model=KNeighborsClassifier(n_neighbors=5))
    label_in_index_order(session, 5)
    status = session.model_status
    assert status.state == "ready" and status.accuracy is None and "too few" in status.message
    assert session.suggestion is not None
