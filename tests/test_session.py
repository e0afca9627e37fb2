"""The headless session: label, skip, undo, restart, train as you label; no front end needed."""

import sqlite3
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from activelabel_widget import LabelingSession
from activelabel_widget.errors import DataError, LabelError, OptionError, StoreMismatchError
from activelabel_widget.features import TEXT_HASH_COLUMNS
from activelabel_widget import strategies as strategies_module

from conftest import LABELS, ticket_frame, truth_of


def label_two_of_two(session):
    """Label two bug and two feature rows (not the card's): enough to start training."""
    df = session.dataset.df
    for name in ("bug", "feature"):
        for key in df.index[df["truth"] == name][:2]:
            session.label(key, name)


def label_truly(session, n):
    """Label the next n records on the card with their true label."""
    for _ in range(n):
        session.label(session.current, truth_of(session, session.current))


def test_the_card_shows_one_record_and_labeling_moves_on(make_session):
    session = make_session()
    first = session.current
    assert first in session.dataset.df.index
    session.label(first, "bug")
    assert session.current != first
    assert session.labeled.loc[first, "label"] == "bug"
    assert session.progress == {"labeled": 1, "total": 60, "session": 1, "skipped": 0, "rejected": 0}


def test_the_first_records_are_not_in_index_order(make_session):
    session = make_session()
    shown = []
    for _ in range(5):
        shown.append(session.current)
        session.skip()
    assert shown != sorted(shown) or shown[0] != 100


def test_skip_puts_the_record_at_the_back_of_the_line(tmp_path):
    df = ticket_frame(4)
    session = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    skipped = session.current
    session.skip()
    seen = []
    while session.current is not None and session.current != skipped:
        seen.append(session.current)
        session.label(session.current, "bug")
    assert len(seen) == 3 and session.current == skipped
    session.close()


def test_undo_steps_back_through_the_whole_history(make_session):
    session = make_session()
    shown = []
    for action in ["label", "skip", "label", "label"]:
        shown.append(session.current)
        session.label(session.current, "bug") if action == "label" else session.skip()
    for expected in reversed(shown):
        assert session.undo() == expected
        assert session.current == expected  # the undone record is back on the card
    assert session.undo() is None
    assert session.labeled.empty and session.progress["skipped"] == 0


def test_undo_shows_what_the_record_was_labeled(make_session):
    session = make_session()
    key = session.current
    session.label(key, "question")
    session.undo()
    assert session.current == key and session.previous_label == "question"


def test_when_everything_is_labeled_current_is_none_not_an_error(make_session):
    session = make_session(ticket_frame(3), text="body")
    label_truly(session, 3)
    assert session.current is None
    assert session.progress["labeled"] == 3
    session.undo()
    assert session.current is not None


def test_labeled_and_to_frame_are_plain_pandas_aligned_with_the_input(make_session):
    session = make_session()
    first = session.current
    session.label(first, "feature")
    labeled = session.labeled
    assert list(labeled.columns) == ["body", "truth", "label", "labeled_at", "annotator", "source", "confidence",
                                     "previous_label", "rejected", "note"]
    assert labeled.index.tolist() == [first]
    assert labeled.loc[first, "source"] == "hand" and labeled.loc[first, "annotator"]
    full = session.to_frame()
    assert full.index.equals(session.dataset.df.index)
    assert full["label"].notna().sum() == 1 and pd.isna(full.loc[full.index != first, "labeled_at"]).all()


@pytest.mark.parametrize("bad_key", [999, "100", None])
def test_label_with_an_unknown_key_raises_and_saves_nothing(make_session, bad_key):
    session = make_session()
    with pytest.raises(LabelError, match="not in the DataFrame"):
        session.label(bad_key, "bug")
    assert session.store.events() == []


def test_label_with_an_unknown_label_raises_and_saves_nothing(make_session):
    session = make_session()
    with pytest.raises(LabelError, match="not one of the labels"):
        session.label(session.current, "Bug")
    assert session.store.events() == []


@pytest.mark.parametrize("labels, message", [(["bug"], "at least two"), (["a", "a", "b"], "more than once"),
                                             ("bug", "list"), (["a", " "], "empty name")])
def test_bad_label_lists_are_refused(labels, message):
    with pytest.raises(LabelError, match=message):
        LabelingSession(ticket_frame(), text="body", labels=labels, store=":memory:")


def test_a_restart_restores_every_label_and_continues_with_the_next_unlabeled(tmp_path):
    df = ticket_frame()
    options = dict(text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    session = LabelingSession(df, **options)
    label_truly(session, 12)
    session.skip()
    before = session.labeled[["label", "source"]]
    session.close()

    resumed = LabelingSession(df, **options)
    assert resumed.labeled[["label", "source"]].equals(before)
    assert resumed.current not in before.index
    assert resumed.progress["labeled"] == 12 and resumed.progress["skipped"] == 1
    # undo keeps working across the restart: the last action was the skip, then the 12th label
    resumed.undo()
    assert resumed.progress["skipped"] == 0
    last_labeled = resumed.undo()
    assert last_labeled in before.index and len(resumed.labeled) == 11 and resumed.current == last_labeled
    resumed.close()


def test_a_store_made_from_other_data_is_refused_and_keeps_its_labels(tmp_path):
    path = tmp_path / "s.db"
    session = LabelingSession(ticket_frame(), text="body", labels=LABELS, store=path, background=False)
    session.label(session.current, "bug")
    session.close()
    with pytest.raises(StoreMismatchError, match="other data"):
        LabelingSession(ticket_frame(start=0), text="body", labels=LABELS, store=path)
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1


def test_without_store_labels_go_to_a_default_file_in_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    session = LabelingSession(ticket_frame(), text="body", labels=LABELS, background=False)
    assert session.store_path == str(tmp_path / "activelabel.db")  # a stable name, not one from the data
    session.label(session.current, "bug")
    session.close()
    again = LabelingSession(ticket_frame(), text="body", labels=LABELS, background=False)
    assert len(again.labeled) == 1
    again.close()


def test_training_starts_once_two_labels_have_two_examples(make_session):
    session = make_session()
    assert session.model_status.state == "none" and session.suggestion is None
    session.label(session.current, "bug")
    session.label(session.current, "bug")
    session.label(session.current, "feature")
    assert session.model_status.fits == 0
    session.label(session.current, "feature")
    assert session.model_status.state == "ready" and session.model_status.fits == 1
    label, confidence = session.suggestion
    assert label in LABELS and 0.0 <= confidence <= 1.0


def test_retraining_happens_every_n_labels(make_session):
    session = make_session(retrain_every=5)
    label_truly(session, 30)
    fits = [record.n_labels for record in session.fit_history]
    assert fits[0] <= 6 and all(b - a == 5 for a, b in zip(fits[1:], fits[2:]))


def test_accepting_a_suggestion_is_told_apart_from_correcting_it(make_session):
    session = make_session()
    label_truly(session, 12)
    accepted_key, (suggested, confidence) = session.current, session.suggestion
    session.accept()
    corrected_key = session.current
    wrong = next(name for name in LABELS if name != session.suggestion[0])
    session.label(corrected_key, wrong)
    labeled = session.labeled
    assert labeled.loc[accepted_key, "label"] == suggested
    assert labeled.loc[accepted_key, "source"] == "suggestion-accepted"
    assert labeled.loc[accepted_key, "confidence"] == pytest.approx(confidence)
    assert labeled.loc[corrected_key, "source"] == "suggestion-corrected"


def test_the_model_learns_the_keyword_rule(make_session):
    session = make_session(ticket_frame(90), text="body")
    label_truly(session, 30)
    session.retrain(wait=True)
    frame = session.to_frame()
    unlabeled = frame[frame["label"].isna()]
    accuracy = (unlabeled["prediction"].astype(str) == unlabeled["truth"]).mean()
    assert accuracy > 0.8
    assert session.model_status.accuracy is not None and session.model_status.accuracy > 0.7


def test_the_users_estimator_is_never_fitted_in_place(make_session):
    estimator = LogisticRegression()
    session = make_session(model=estimator)
    label_truly(session, 10)
    assert session.model_status.fits >= 1
    assert not hasattr(estimator, "coef_")
    fitted = session.fit_final()
    assert fitted is not estimator and hasattr(fitted, "coef_")


class Exploding(BaseEstimator, ClassifierMixin):
    def fit(self, X, y):
        raise RuntimeError("boom in fit")

    def predict_proba(self, X):
        raise AssertionError("never fitted, never asked")


def test_a_model_that_raises_shows_the_error_and_labeling_goes_on(make_session):
    session = make_session(model=Exploding())
    label_truly(session, 6)
    assert session.model_status.state == "error" and "boom in fit" in session.model_status.message
    label_truly(session, 2)
    assert len(session.labeled) == 8


class SlowModel(LogisticRegression):
    """A deliberately slow estimator: fit sleeps before fitting."""

    def __init__(self, delay=1.0, C=1.0, max_iter=200):
        super().__init__(C=C, max_iter=max_iter)
        self.delay = delay

    def fit(self, X, y):
        time.sleep(self.delay)
        return super().fit(X, y)


def test_background_training_never_blocks_labeling(tmp_path):
    session = LabelingSession(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "s.db",
                              model=SlowModel(delay=5.0), retrain_every=3)
    session.wait_idle()  # features and the index are ready
    label_two_of_two(session)  # now ready to train: a 5 s fit starts in the background
    deadline = time.monotonic() + 10
    while session.model_status.state != "training" and time.monotonic() < deadline:
        time.sleep(0.01)  # the status says "training" once the round's thread has begun the fit
    assert session.model_status.state == "training"
    label_truly(session, 6)  # labels made meanwhile are kept
    assert session.model_status.fits == 0 and len(session.labeled) == 10
    session.retrain(wait=True, timeout=60)
    assert session.model_status.fits >= 1 and session.fit_history[-1].n_labels == 10
    session.close()


def test_a_round_past_the_time_limit_keeps_the_previous_model(tmp_path):
    session = LabelingSession(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "s.db",
                              model=SlowModel(delay=3.0), fit_timeout=0.5)
    label_two_of_two(session)
    session.wait_idle(timeout=30)
    assert session.model_status.state == "error" and "fit_timeout" in session.model_status.message
    label_truly(session, 1)
    session.close()


def test_image_and_table_data_train_too(make_session, tmp_path):
    from sklearn.datasets import load_digits

    digits = load_digits()
    df = pd.DataFrame({"pixels": list(digits.images[:80]), "truth": digits.target[:80].astype(str)})
    session = make_session(df, image="pixels", labels=[str(d) for d in range(10)])
    assert session.current_payload().image[:4] == b"\x89PNG"
    label_truly(session, 30)
    assert session.model_status.fits >= 1

    table = pd.DataFrame({"x": np.r_[np.zeros(20), np.ones(20)], "kind": ["a"] * 20 + ["b"] * 20,
                          "truth": ["bug"] * 20 + ["feature"] * 20})
    session = make_session(table, features=["x", "kind"], labels=["bug", "feature"], store=tmp_path / "table.db")
    label_truly(session, 8)
    assert session.suggestion is not None


def test_user_embeddings_must_have_one_row_per_record(make_session):
    with pytest.raises(DataError, match=r"\(60, d\)"):
        make_session(embeddings=np.zeros((59, 4)))
    session = make_session(embeddings=np.random.default_rng(0).normal(size=(60, 4)))
    assert session.current is not None


def test_background_rounds_leave_no_threads_behind(tmp_path):
    import threading

    session = LabelingSession(ticket_frame(120), text="body", labels=LABELS, store=tmp_path / "s.db", retrain_every=2)
    session.wait_idle()
    before = threading.active_count()
    for _ in range(40):
        session.label(session.current, truth_of(session, session.current))
        session.wait_idle()
    assert session.model_status.fits >= 15
    assert threading.active_count() <= before + 1  # no per-round timer or worker outlives its round
    session.close()


def test_a_memory_store_leaves_no_file_behind(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    session = LabelingSession(pd.DataFrame({"body": ["a", "b", "c"]}), text="body", labels=["x", "y"],
                              store=":memory:", background=False)
    session.label(session.current, "x")
    folders = list(tmp_path.iterdir())
    assert len(folders) == 1 and oct(folders[0].stat().st_mode & 0o777) == "0o700"  # private while open
    session.close()
    assert list(tmp_path.iterdir()) == [] and session.store_path == ":memory:"


def test_queued_lists_the_card_then_the_line(make_session):
    session = make_session()
    assert session.queued(1).tolist() == [session.current_position]
    five = session.queued(5).tolist()
    assert len(set(five)) == 5 and five[0] == session.current_position


def test_a_restart_resumes_on_the_record_that_was_on_the_card(tmp_path):
    path = tmp_path / "s.db"
    session = LabelingSession(ticket_frame(), text="body", labels=LABELS, store=path, background=False,
                              random_state=5)
    for _ in range(7):
        session.label(session.current, truth_of(session, session.current))
    on_card = session.current
    session.close()
    again = LabelingSession(ticket_frame(), text="body", labels=LABELS, store=path, background=False, random_state=5)
    assert again.current == on_card and again.current_reason == "where you stopped"
    again.close()


def test_the_status_says_what_is_being_prepared_then_what_the_fit_used(tmp_path):
    seen = []
    session = LabelingSession(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    session.close()
    path = tmp_path / "s.db"
    first = LabelingSession(ticket_frame(), text="body", labels=LABELS, store=path, background=False)
    label_two_of_two(first)
    first.close()
    again = LabelingSession.__new__(LabelingSession)
    original = LabelingSession._notify

    def record(self):
        seen.append(dict(self.model_status.as_dict()))
        original(self)

    LabelingSession._notify = record
    try:
        again.__init__(ticket_frame(), text="body", labels=LABELS, store=path, background=False)
    finally:
        LabelingSession._notify = original
    preparing = [s for s in seen if s["state"] == "preparing"]
    assert [round(s["progress"], 2) for s in preparing] == [0.0, 0.33, 0.67]
    assert "computing features for 60 rows" in preparing[0]["message"] and "random order" in preparing[0]["message"]
    assert not any("label two examples" in s["message"] for s in seen if s["state"] in ("training", "preparing"))
    assert again.model_status.state == "ready" and again.model_status.n_labels == 4
    assert "on 4 labels" in again.model_status.message
    again.close()


def store_with_four_labels(path):
    """A store given two labels each of two kinds (then closed)."""
    first = LabelingSession(ticket_frame(), text="body", labels=LABELS, store=path, background=False)
    label_two_of_two(first)
    first.close()
    return path


def opened_until_suggested(path):
    """The store opened with background rounds, once its first suggestion is on the card (at most 30 s)."""
    session = LabelingSession(ticket_frame(), text="body", labels=LABELS, store=path)
    deadline = time.monotonic() + 30
    while session.suggestion is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return session


def test_the_first_suggestion_does_not_wait_for_the_embedding_index(tmp_path, hold_back):
    """Reopened with labels, the session fits on the features alone and suggests at once, ranking by
    the model; the embeddings and the index come in the next round, and then the line is ranked again."""
    from activelabel_widget import rounds

    path = store_with_four_labels(tmp_path / "s.db")
    release = hold_back(rounds, "compute_embeddings")
    session = opened_until_suggested(path)
    try:
        assert session.suggestion is not None and not session.pool.ready
        assert session.fit_history[-1].n_labels == 4
        deadline = time.monotonic() + 30
        while session.model_status.state != "preparing" and time.monotonic() < deadline:
            time.sleep(0.01)
        status = session.model_status
        assert "computing embeddings for 60 rows" in status.message, status
        assert "the model on 4 labels suggests meanwhile, picking by uncertainty" in status.message
        session.skip()  # past the record where labeling stopped, to the ranked line
        assert session.current_reason.startswith("confidence")  # the hybrid without the index: the model alone
        release.set()
        session.wait_idle(timeout=30)
        assert session.pool.ready and session.model_status.state == "ready"
        assert len(session.fit_history) == 1  # building the index ranked again without a second fit
    finally:
        release.set()
        session.close()


def test_a_large_text_pool_suggests_from_a_sample_before_every_row_is_featurised(tmp_path, monkeypatch,
                                                                                   hold_back):
    """On a text pool too large for one quick pass, the first fit scores the labeled rows, the stop
    hint's rows and a sample; the line picks from them, any other row is scored when it is asked for,
    and the next round featurises every row and rescores them with the same fit."""
    from activelabel_widget import features, rounds, session as session_module

    monkeypatch.setattr(rounds, "STAGED_ROWS", 30)  # the 60-row frame counts as large
    monkeypatch.setattr(features, "SAMPLE_ROWS", 10)
    monkeypatch.setattr(session_module, "STOP_SET_SIZE", 5)
    path = store_with_four_labels(tmp_path / "s.db")
    release = hold_back(rounds, "compute_features")
    session = opened_until_suggested(path)
    try:
        assert session.suggestion is not None and not session.pool.features_ready
        model = session._model
        labeled = np.flatnonzero(session.hand_codes() >= 0)
        expected = np.union1d(np.union1d(session.pool.sample_positions, labeled), session._stop_set)
        assert np.array_equal(np.flatnonzero(model.scored), expected) and len(expected) < 60
        frame = session.to_frame()
        unscored = np.flatnonzero(~model.scored)
        assert frame["prediction_confidence"].iloc[unscored].isna().all()
        assert frame["prediction"].iloc[unscored].isna().all()
        assert frame["prediction"].iloc[expected].notna().all()
        asked = session._suggestion_at(int(unscored[0]))  # scored on demand, from the row's own features
        assert asked is not None
        session.skip()  # past the record where labeling stopped, to the ranked line
        assert model.scored[session._current]
        release.set()
        session.wait_idle(timeout=30)
        assert session.pool.ready and session._model.scored is None
        assert len(session.fit_history) == 1 and session._model.committee is model.committee  # no second fit
        later = session._suggestion_at(int(unscored[0]))
        assert later[0] == asked[0] and later[1] == pytest.approx(asked[1], abs=1e-5)
        assert session.to_frame()["prediction"].notna().all()
    finally:
        release.set()
        session.close()


def test_a_fit_reports_its_share_done_and_the_labels_it_uses(tmp_path, monkeypatch):
    monkeypatch.setattr("activelabel_widget.session.FIT_PROGRESS_EVERY_SECONDS", 0.0)  # every step
    seen = []
    session = LabelingSession(ticket_frame(), text="body", labels=LABELS, store=":memory:", background=False)
    session.subscribe(lambda: seen.append(dict(session.model_status.as_dict())))
    label_two_of_two(session)
    training = [s for s in seen if s["state"] == "training"]
    shares = [s["progress"] for s in training if s["progress"] is not None]
    assert shares[0] == 0.0 and shares[-1] == pytest.approx(1.0) and shares == sorted(shares)
    assert len(shares) >= 4  # the model, the pool's scores and at least two folds
    assert all(s["message"].startswith("training on 4 labels") for s in training)
    assert "label meanwhile" in training[-1]["message"]
    assert session.model_status.state == "ready" and session.model_status.n_labels == 4
    assert session.fit_history[-1].n_labels == 4
    session.close()


def test_a_fit_tells_its_progress_at_most_every_quarter_second_but_always_its_start_and_result(monkeypatch):
    # each report is a message for the page to take in: a short fit's eight steps were eight
    monkeypatch.setattr("activelabel_widget.session.FIT_PROGRESS_EVERY_SECONDS", 1e9)  # as if every fit were short
    seen = []
    session = LabelingSession(ticket_frame(), text="body", labels=LABELS, store=":memory:", background=False)
    session.subscribe(lambda: seen.append(dict(session.model_status.as_dict())))
    label_two_of_two(session)
    shares = [s["progress"] for s in seen if s["state"] == "training" and s["progress"] is not None]
    assert shares and set(shares) == {0.0}  # the start, then nothing until the result
    assert seen[-1]["state"] == "ready" and seen[-1]["n_labels"] == 4
    session.close()


def test_the_users_own_label_and_source_columns_are_kept_and_ours_get_a_prefix(tmp_path):
    df = ticket_frame()
    df["source"], df["label"] = "github", df["truth"]
    session = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    session.label(session.current, "bug")
    labeled = session.labeled
    assert (labeled["source"] == "github").all() and labeled["al_source"].tolist() == ["hand"]
    assert labeled["al_label"].tolist() == ["bug"] and (labeled["label"] == labeled["truth"]).all()
    assert {"prediction", "al_label", "al_source"} <= set(session.to_frame().columns)
    session.close()


def test_the_reason_on_the_card_says_when_it_predates_the_latest_fit(tmp_path):
    session = LabelingSession(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    picked = session.snapshot().reason
    assert "predates" not in picked and "picked before the latest fit" not in picked
    key = session.current
    for _ in range(4):  # label other rows until the first fit, leaving the card's record on the card
        other = next(k for k in session.dataset.df.index if k != key and k not in session.labeled.index
                     and truth_of(session, k) in {"bug", "feature"} and
                     (session.label_counts()[LABELS.index(truth_of(session, k))] < 2))
        session.label(other, truth_of(session, other))
    assert session.model_status.fits == 1 and session.current == key
    assert session.snapshot().reason.endswith("· picked before the latest fit")
    session.close()


def test_label_counts_follow_every_change_of_the_hand_labels(tmp_path):
    """The counts the card shows per answer come from a kept list of hand-labeled rows: after labels,
    corrections, undos, rejections and a bulk save they equal a fresh count over every row."""
    session = LabelingSession(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "s.db", background=False,
                              retrain_every=10**9)

    def fresh_count():
        codes = session.hand_codes()
        return np.bincount(codes[codes >= 0], minlength=len(LABELS)).tolist()

    rng = np.random.default_rng(0)
    for step in range(60):
        move = rng.choice(["label", "label", "undo", "reject", "relabel"])
        if move == "label":
            session.label(session.current, LABELS[step % 3])
        elif move == "undo" and session.progress["labeled"]:
            session.undo()
        elif move == "reject":
            session.reject(session.current)
        elif move == "relabel" and len(session.labeled):
            session.label(session.labeled.index[0], LABELS[(step + 1) % 3])
        assert session.label_counts().tolist() == fresh_count(), (step, move)
    rows = np.flatnonzero(session.hand_codes() < 0)[:5]
    session.label_many(rows, ["bug"] * 5, source="hand")
    assert session.label_counts().tolist() == fresh_count()
    session.close()


def test_the_records_asked_between_two_fits_come_from_different_regions():
    # four tight groups; the model can only be unsure in the last one, whose labels are a coin toss
    rng = np.random.default_rng(0)
    group = np.repeat(np.arange(4), 60)
    xy = np.array([[0, 0], [20, 0], [0, 20], [20, 20]])[group] + rng.normal(size=(240, 2))
    truth = np.where(group < 2, "a", "b")
    truth[group == 3] = np.where(rng.random(60) < 0.5, "a", "b")
    df = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]})
    cells_of_next = {}
    for every in (1, 4):
        session = LabelingSession(df, features=["x", "y"], labels=["a", "b"], strategy="margin", retrain_every=every,
                                  store=":memory:", background=False, random_state=0)
        for position in range(0, 240, 12):
            session.label(df.index[position], truth[position])
        session.retrain(wait=True)
        cells_of_next[every] = session.pool.index.cell[session.queued(8)]
        session.close()
    # one fit per label: the most uncertain records first, however close together
    assert len(set(cells_of_next[1][:4])) < 4
    # four labels per fit: each run of four spreads over four regions
    assert len(set(cells_of_next[4][:4])) == 4 and len(set(cells_of_next[4][4:])) == 4


def test_a_text_model_learns_from_the_embeddings_the_user_passes_when_asked():
    # every text is a word of its own (nothing for a bag of words to generalise from); the user's
    # encoder puts the two classes apart
    rng = np.random.default_rng(0)
    truth = np.where(rng.random(200) < 0.5, "a", "b")
    df = pd.DataFrame({"text": [f"token{i}" for i in range(200)]})
    signal = np.where(truth == "a", 1.0, -1.0)[:, None] * np.array([[1.0, 0.0, 0.0, 0.0]])
    embeddings = signal + rng.normal(scale=0.3, size=(200, 4))
    accuracy = {}
    for given in (None, embeddings):
        session = LabelingSession(df, text="text", labels=["a", "b"], embeddings=given,
                                  embeddings_in_model=given is not None, store=":memory:", background=False,
                                  random_state=0)
        session.label_many(np.arange(40), list(truth[:40]), source="hand")
        session.retrain(wait=True)
        proba, _ = session.model_proba()
        accuracy[given is None] = float(np.mean(np.array(["a", "b"])[proba[40:].argmax(axis=1)] == truth[40:]))
        if given is not None:  # the words' columns, then the embeddings'
            assert session.pool.features.shape[1] == TEXT_HASH_COLUMNS + 4
        session.close()
    assert accuracy[True] < 0.7 and accuracy[False] > 0.95


def test_embeddings_serve_diversity_only_unless_the_model_is_asked_to_read_them(make_session):
    embeddings = np.random.default_rng(0).normal(size=(60, 4))
    session = make_session(embeddings=embeddings)
    assert session.pool.features.shape[1] == TEXT_HASH_COLUMNS  # words only: the query order of before
    with pytest.raises(OptionError, match="needs embeddings="):
        make_session(embeddings_in_model=True, store=":memory:")
    with pytest.raises(OptionError, match="True or False"):
        make_session(embeddings=embeddings, embeddings_in_model="yes", store=":memory:")


def test_embeddings_in_the_model_where_they_cannot_apply_say_so_instead_of_being_ignored(monkeypatch):
    from activelabel_widget import rounds

    table = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) % 3})
    vectors = np.random.default_rng(0).normal(size=(40, 4))
    with pytest.raises(OptionError, match="is for text records; this pool holds table records"):
        LabelingSession(table, features=["a", "b"], labels=["x", "y"], embeddings=vectors,
                        embeddings_in_model=True, store=":memory:", background=False)
    monkeypatch.setattr(rounds, "MODEL_EMBEDDING_MAX_VALUES", 100)
    with pytest.raises(OptionError, match="up to 100 values .* these have 240 \\(60 rows x 4\\)"):
        LabelingSession(ticket_frame(), text="body", labels=LABELS, embeddings=np.ones((60, 4)),
                        embeddings_in_model=True, store=":memory:", background=False)


def test_a_large_text_pool_adds_the_embeddings_to_rows_featurised_before_the_pool(monkeypatch):
    from activelabel_widget import features, rounds
    from activelabel_widget.dataset import Dataset

    monkeypatch.setattr(rounds, "STAGED_ROWS", 30)  # the 60-row frame counts as large
    monkeypatch.setattr(features, "SAMPLE_ROWS", 10)
    embeddings = np.random.default_rng(0).normal(size=(60, 3)).astype(np.float32)
    pool = rounds.PreparedPool(Dataset(ticket_frame(), text="body"), embeddings=embeddings, embeddings_in_model=True)
    pool.prepare_first()
    early_rows, early_sample = pool.features_of([3, 50]).toarray(), pool.sample_features().toarray()
    assert not pool.features_ready
    whole = pool.features.toarray()  # every row, featurised in one pass
    assert np.allclose(early_rows, whole[[3, 50]]) and np.allclose(early_sample, whole[pool.sample_positions])
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    assert np.allclose(whole[:, -3:], unit, atol=1e-6)


def test_the_ranking_reads_a_balanced_model_at_the_labels_class_mix_and_a_plain_one_as_is():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from activelabel_widget.models import balanced_class_weights, default_model

    assert balanced_class_weights([default_model("text")]) and balanced_class_weights([default_model("table")])
    assert balanced_class_weights([make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced"))])
    assert not balanced_class_weights([LogisticRegression()])
    assert not balanced_class_weights([default_model("table"), LogisticRegression()])

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=200), "z": rng.normal(size=200)})
    labels = np.where(frame["x"] > 1.0, "rare", "common")
    for model, expect_mix in ((None, True), (LogisticRegression(), False)):
        session = LabelingSession(frame, labels=["common", "rare"], features=["x", "z"], model=model,
                                  store=":memory:", background=False)
        try:
            positions = list(range(0, 200, 5))
            session.label_many(positions, [labels[p] for p in positions], source="hand")
            session.retrain(wait=True)
            seen = []
            original = strategies_module.rank_pool

            def spy(name, **options):
                seen.append(options["label_mix"])
                return original(name, **options)

            strategies_module.rank_pool = spy
            try:
                session.retrain(wait=True)
            finally:
                strategies_module.rank_pool = original
            assert seen, "a round ranked the pool"
            if expect_mix:
                counts = np.bincount([0 if labels[p] == "common" else 1 for p in positions], minlength=2)
                assert seen[-1].tolist() == counts.tolist()
            else:
                assert seen[-1] is None
        finally:
            session.close()
