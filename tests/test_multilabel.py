"""Multi-label records: label sets on the card, in the store, the model, the line and the hand-off."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.naive_bayes import GaussianNB

from activelabel_widget import ActiveLabeler
from activelabel_widget.errors import LabelError, OptionError, StoreError
from activelabel_widget.multilabel import (check_label_set, decode_set, display_set, encode_set, label_confidence,
                                           least_sure_label, micro_f1, record_confidence)
from activelabel_widget.multisession import MultiLabelSession
from activelabel_widget.session import LabelingSession


LABELS = ["sports", "tech", "money", "health"]


@pytest.fixture(scope="module")
def topics():
    """400 records with 0 to 4 labels each, and their true sets as an indicator matrix."""
    X, Y = make_multilabel_classification(n_samples=400, n_features=12, n_classes=4, allow_unlabeled=True,
                                          random_state=0)
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(12)]), Y.astype(bool)


def open_session(frame, path, **options):
    return MultiLabelSession(frame, labels=LABELS, features=list(frame.columns), store=path, background=False,
                             **options)


def truth(Y, key):
    return [name for name, on in zip(LABELS, Y[key]) if on]


def label_from_truth(session, Y, n):
    for _ in range(n):
        key = session.current
        session.label(key, truth(Y, key))


# -- the sets themselves --------------------------------------------------------------------------

def test_a_set_is_stored_in_label_order_and_read_back():
    assert encode_set(["money", "sports"], LABELS) == '["sports", "money"]'
    assert encode_set([], LABELS) == "[]"
    assert decode_set(encode_set(["tech"], LABELS)) == ["tech"]
    assert check_label_set({"money", "sports", "sports"}, LABELS) == ["sports", "money"]
    assert display_set('["sports", "money"]') == "sports + money" and display_set("[]") == "no label"


@pytest.mark.parametrize("bad, says", [("sports", r"pass a list of labels, e.g. \['sports'\]"),
                                       (["sport"], "'sport' is not one of the labels"),
                                       (3, "A multi-label answer is a list of labels")])
def test_a_wrong_answer_is_refused_with_what_to_pass(bad, says):
    with pytest.raises(LabelError, match=says):
        check_label_set(bad, LABELS)


def test_confidence_is_per_label_binary_entropy_and_a_record_is_as_sure_as_its_least_sure_label():
    marginals = np.array([[0.5, 0.0, 1.0], [0.9, 0.1, 0.99]])
    np.testing.assert_allclose(label_confidence(marginals)[0], [0.0, 1.0, 1.0])
    assert record_confidence(marginals)[0] == 0.0
    assert record_confidence(marginals)[1] == pytest.approx(label_confidence([[0.9]])[0, 0])
    binary, which = least_sure_label(marginals)
    assert which.tolist() == [0, 0] and binary[1].tolist() == pytest.approx([0.1, 0.9])
    assert micro_f1(np.array([[1, 0], [1, 1]]), np.array([[1, 0], [0, 1]])) == pytest.approx(0.8)
    assert micro_f1(np.zeros((2, 2)), np.zeros((2, 2))) is None


# -- labeling ----------------------------------------------------------------------------------------

def test_label_sets_including_the_empty_set_are_saved_and_handed_off(topics, tmp_path):
    frame, Y = topics
    session = open_session(frame, tmp_path / "s.db")
    first = session.current
    session.label(first, ["money", "sports"])
    second = session.current
    session.label(second, [])
    labeled = session.labeled
    assert labeled.loc[first, "label"] == ["sports", "money"] and labeled.loc[second, "label"] == []
    assert session.label_of(second) == [] and session.label_of(first) == ["sports", "money"]
    hot = session.one_hot()
    assert list(hot.columns) == LABELS and hot.loc[first].tolist() == [1, 0, 1, 0] and hot.loc[second].sum() == 0
    assert session.label_counts().tolist() == [1, 0, 1, 0]
    everything = session.to_frame()
    assert everything.loc[first, "label"] == ["sports", "money"] and everything["label"].isna().sum() == len(frame) - 2
    session.close()


def test_undo_and_correction_bring_back_the_earlier_set(topics, tmp_path):
    frame, _ = topics
    session = open_session(frame, tmp_path / "s.db")
    key = session.current
    session.label(key, ["tech"])
    session.label(key, ["tech", "health"])  # a correction of a labeled row
    row = session.labeled.loc[key]
    assert row["label"] == ["tech", "health"] and row["source"] == "corrected" and row["previous_label"] == ["tech"]
    session.label(key, ["health", "tech"])  # the same set again saves nothing
    assert len(session.label_history(key)) == 2
    session.undo()
    assert session.label_of(key) == ["tech"]
    session.undo()
    assert session.label_of(key) is None and session.current == key
    session.close()


def test_sets_survive_a_restart_and_a_label_dropped_from_labels_is_reported(topics, tmp_path):
    frame, Y = topics
    path = tmp_path / "s.db"
    session = open_session(frame, path)
    label_from_truth(session, Y, 12)
    before = session.labeled["label"].to_dict()
    session.close()
    again = open_session(frame, path)
    assert again.labeled["label"].to_dict() == before
    assert again.restore_report.restored == 12
    again.close()
    fewer = MultiLabelSession(frame, labels=["sports", "tech", "money"], features=list(frame.columns), store=path,
                              background=False)
    with_health = [key for key, names in before.items() if "health" in names]
    assert with_health and fewer.restore_report.restored == 12 - len(with_health)
    assert "not in labels=" in fewer.restore_report.summary()
    fewer.close()


def test_a_store_of_sets_is_never_opened_for_single_labels_nor_the_other_way(topics, tmp_path):
    frame, _ = topics
    sets = open_session(frame, tmp_path / "sets.db")
    sets.label(sets.current, ["tech"])
    sets.close()
    with pytest.raises(StoreError, match="holds label sets.*pass multi_label=True"):
        LabelingSession(frame, labels=LABELS, features=list(frame.columns), store=tmp_path / "sets.db")
    single = LabelingSession(frame, labels=LABELS, features=list(frame.columns), store=tmp_path / "one.db")
    single.label(single.current, "tech")
    single.close()
    with pytest.raises(StoreError, match="holds single labels"):
        open_session(frame, tmp_path / "one.db")
    # neither refusal wrote anything: both stores still open as they were made
    assert open_session(frame, tmp_path / "sets.db").labeled["label"].tolist() == [["tech"]]


def test_the_model_is_one_vs_rest_suggests_a_set_and_reports_micro_f1(topics, tmp_path):
    frame, Y = topics
    estimator = GaussianNB()
    session = open_session(frame, tmp_path / "s.db", model=estimator, retrain_every=5)
    label_from_truth(session, Y, 40)
    assert not hasattr(estimator, "classes_")  # the user's estimator is never fitted in place
    assert session.model_status.state == "ready" and "micro-F1" in session.model_status.message
    text, confidence = session.suggestion
    p = session.label_probabilities(session.current_position)
    assert len(p) == 4 and decode_set(text) == [name for name, q in zip(LABELS, p) if q >= 0.5]
    assert confidence == pytest.approx(float(label_confidence([p]).min()), abs=1e-6)
    key = session.current
    session.accept()
    assert session.labeled.loc[key, "source"] == "suggestion-accepted"
    final = session.fit_final()
    assert final.predict_proba(frame.to_numpy()[:3]).shape == (3, 4)
    session.close()


def test_the_line_asks_first_about_records_with_a_label_near_one_half(topics, tmp_path):
    frame, Y = topics
    session = open_session(frame, tmp_path / "s.db", strategy="margin", retrain_every=5)
    label_from_truth(session, Y, 30)
    model_p = session._model.proba
    unlabeled = np.flatnonzero(session.hand_codes() < 0)
    nearest = np.abs(model_p[unlabeled] - 0.5).min(axis=1)
    picked = session.queued(5)
    assert np.abs(model_p[picked] - 0.5).min(axis=1).max() <= np.quantile(nearest, 0.1)
    session.close()


def test_labels_before_training_count_per_label(topics, tmp_path):
    frame, _ = topics
    session = open_session(frame, tmp_path / "s.db")
    for names in (["sports"], ["sports", "tech"], [], ["tech"]):
        session.label(session.current, names)
    assert session.label_counts().tolist() == [2, 2, 0, 0]
    assert session._model is not None  # two labels with two examples each: training started
    session.close()


@pytest.mark.parametrize("call, says", [
    (lambda al: al.add_heuristic(), "single labels only"),
    (lambda al: al.weak_labels(), "single labels only"),
    (lambda al: al.review(), "single labels only"),
    (lambda al: al.add_label("other"), "single labels only"),
    (lambda al: al.import_labels("x.db"), "single labels only"),
])
def test_single_label_features_say_so_on_a_multi_label_labeler(topics, tmp_path, call, says):
    frame, _ = topics
    al = ActiveLabeler(frame, labels=LABELS, features=list(frame.columns), store=tmp_path / "s.db", multi_label=True,
                       background=False)
    al.session.label(al.session.current, ["tech"])
    with pytest.raises(LabelError, match=says):
        call(al)
    assert al.labeled["label"].tolist() == [["tech"]]  # nothing lost
    assert al.label_issues().attrs["reason"].startswith("label issues are judged on single labels only")
    al.close()


def test_options_that_cannot_go_with_label_sets_are_refused_before_any_file(topics, tmp_path):
    frame, _ = topics
    with pytest.raises(OptionError, match="prefer_conflicts"):
        ActiveLabeler(frame, labels=LABELS, features=list(frame.columns), store=tmp_path / "s.db", multi_label=True,
                      prefer_conflicts=True)
    with pytest.raises(OptionError, match="multi_label must be True or False"):
        ActiveLabeler(frame, labels=LABELS, features=list(frame.columns), store=tmp_path / "s.db", multi_label="yes")
    with pytest.raises(LabelError, match="initial_labels="):
        open_session(frame, tmp_path / "s.db", initial_labels="f0")
    assert not (tmp_path / "s.db").exists()


# -- the card ------------------------------------------------------------------------------------------

def test_the_card_gets_sets_and_per_label_probabilities_and_saves_what_the_page_sent(topics, tmp_path):
    frame, Y = topics
    al = ActiveLabeler(frame, labels=LABELS, features=list(frame.columns), store=tmp_path / "s.db", multi_label=True,
                       background=False, retrain_every=5)
    widget = al.widget
    assert widget.multi_label is True
    for seq in range(1, 31):
        card = widget.card
        key = al.session.dataset.index_value(al.session.dataset.position_of[card["key"]])
        widget.handle_intent({"action": "label", "key": card["key"], "token": card["token"], "view": "v", "seq": seq,
                              "label": truth(Y, key), "suggested": widget.suggestion.get("labels")})
    suggestion = widget.suggestion
    assert set(suggestion) >= {"label", "labels", "per_label", "confidence"}
    assert suggestion["label"] == (" + ".join(suggestion["labels"]) or "no label")
    assert set(suggestion["per_label"]) == set(LABELS)
    assert all(set(entry["suggestion"]) >= {"labels", "per_label"} for entry in widget.upcoming)
    card = widget.card
    key = al.session.dataset.index_value(al.session.dataset.position_of[card["key"]])
    widget.handle_intent({"action": "accept", "key": card["key"], "token": card["token"], "view": "v", "seq": 31,
                          "label": suggestion["labels"], "suggested": suggestion["labels"], "confidence": 0.4})
    saved = al.labeled.loc[key]
    assert saved["label"] == suggestion["labels"] and saved["source"] == "suggestion-accepted"
    assert widget.recent[0]["label"] == (" + ".join(suggestion["labels"]) or "no label")
    card = widget.card
    widget.handle_intent({"action": "label", "key": card["key"], "token": card["token"], "view": "v", "seq": 32,
                          "label": "tech", "suggested": None})
    assert "pass a list of labels" in widget.answered["v"]["refused"][-1][2]
    assert len(al.labeled) == 31  # the refused answer lost nothing and saved nothing
    al.close()


# -- export ----------------------------------------------------------------------------------------------

@pytest.fixture
def labeled_sets(tmp_path):
    frame = pd.DataFrame({"body": ["goal in extra time", "new phone launch", "tax on tickets", "nothing to see"]},
                         index=pd.Index([10, 11, 12, 13], name="id"))
    al = ActiveLabeler(frame, text="body", labels=LABELS, store=tmp_path / "s.db", multi_label=True, background=False)
    al.session.label(10, ["sports"])
    al.session.label(12, ["sports", "money"])
    al.session.label(13, [])
    al.session.reject(11)
    yield al
    al.close()


def test_every_export_format_carries_the_whole_set(labeled_sets, tmp_path):
    import json

    al = labeled_sets
    expected = {10: ["sports"], 12: ["sports", "money"], 13: []}
    parquet = pd.read_parquet(al.export(tmp_path / "l.parquet"))
    assert {k: list(v) for k, v in zip(parquet["key"], parquet["label"]) if v is not None} == expected
    csv = pd.read_csv(al.export(tmp_path / "l.csv"))
    assert {k: json.loads(v) for k, v in zip(csv["key"], csv["label"]) if isinstance(v, str)} == expected
    lines = [json.loads(line) for line in open(al.export(tmp_path / "l.jsonl"), encoding="utf-8")]
    assert {row["key"]: row["label"] for row in lines if row["label"] is not None} == expected
    prodigy = [json.loads(line) for line in open(al.export(tmp_path / "p.jsonl", format="prodigy"), encoding="utf-8")]
    by_key = {task["meta"]["key"]: task for task in prodigy}
    assert by_key[12]["accept"] == ["sports", "money"] and by_key[12]["answer"] == "accept"
    assert by_key[13]["accept"] == [] and by_key[13]["answer"] == "accept"  # an empty set is an answer too
    assert by_key[11]["answer"] == "reject"
    assert [o["id"] for o in by_key[10]["options"]] == LABELS
    studio = {task["data"]["key"]: task["annotations"][0] for task in json.load(open(al.export(tmp_path / "ls.json")))}
    assert studio[12]["result"][0]["value"] == {"choices": ["sports", "money"]} and not studio[12]["was_cancelled"]
    assert studio[13]["result"] == [] and not studio[13]["was_cancelled"] and studio[11]["was_cancelled"]
    dataset = al.export(format="huggingface")
    assert {k: v for k, v in zip(dataset["key"], dataset["label"]) if v is not None} == expected


def test_a_store_of_sets_is_not_imported_into_a_single_label_labeler(topics, tmp_path):
    frame, _ = topics
    sets = MultiLabelSession(frame, labels=["[]", "tech"], features=list(frame.columns), store=tmp_path / "sets.db",
                             background=False)
    sets.label(sets.current, [])  # stored as "[]", which is also a label's name here
    sets.close()
    single = LabelingSession(frame, labels=["[]", "tech"], features=list(frame.columns), store=tmp_path / "one.db",
                             background=False)
    with pytest.raises(StoreError, match="holds label sets"):
        single.import_labels(tmp_path / "sets.db")
    assert len(single.labeled) == 0
    single.close()


def test_an_estimator_that_fails_is_named_and_no_label_is_lost(topics, tmp_path):
    class Broken(GaussianNB):
        def fit(self, X, y):
            raise RuntimeError("no luck")

    frame, Y = topics
    session = open_session(frame, tmp_path / "s.db", model=Broken(), retrain_every=5)
    label_from_truth(session, Y, 12)
    assert session.model_status.state == "error"
    assert session.model_status.message.startswith("Broken (one per label).fit failed: RuntimeError: no luck")
    assert len(session.labeled) == 12 and session.current is not None
    session.close()


def test_before_every_text_is_featurised_unscored_rows_are_scored_when_asked(tmp_path, monkeypatch, hold_back):
    """On a large text pool the first fit scores a sample; a record outside it still gets its per-label
    probabilities (scored on its own), and the hand-off leaves its prediction empty, never a guess."""
    import time

    from activelabel_widget import features, rounds, session as session_module

    monkeypatch.setattr(rounds, "STAGED_ROWS", 30)
    monkeypatch.setattr(features, "SAMPLE_ROWS", 10)
    monkeypatch.setattr(session_module, "STOP_SET_SIZE", 5)
    words = {"sports": "goal match team", "tech": "code laptop chip", "money": "bank price loan", "health": "doctor flu diet"}
    rng = np.random.default_rng(0)
    sets = [[name for name in LABELS if rng.random() < 0.4] for _ in range(80)]
    frame = pd.DataFrame({"text": [" ".join(words[name] for name in chosen) + " news" for chosen in sets]})
    path = tmp_path / "s.db"
    first = MultiLabelSession(frame, labels=LABELS, text="text", store=path, background=False)
    for _ in range(16):
        key = first.current
        first.label(key, sets[frame.index.get_loc(key)])
    first.close()
    release = hold_back(rounds, "compute_features")
    session = MultiLabelSession(frame, labels=LABELS, text="text", store=path)
    try:
        deadline = time.monotonic() + 30
        while session._model is None and time.monotonic() < deadline:
            time.sleep(0.01)
        scored = session._model.scored
        assert scored is not None and not scored.all()
        unscored = int(np.flatnonzero(~scored)[0])
        asked = session.label_probabilities(unscored)
        assert len(asked) == 4 and all(0.0 <= q <= 1.0 for q in asked)
        handed = session.to_frame()
        assert handed["prediction"].iloc[unscored] is None and np.isnan(handed["prediction_confidence"].iloc[unscored])
        release.set()
        session.wait_idle(timeout=30)
        assert session._model.scored is None
        assert session.label_probabilities(unscored) == pytest.approx(asked, abs=1e-5)
    finally:
        release.set()
        session.close()
