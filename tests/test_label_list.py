"""Labels that change: add one mid-session, take an unused one off, restart with another labels= list."""

import numpy as np
import pytest

from activelabel_widget import ActiveLabeler, LabelingSession
from activelabel_widget.errors import LabelError

from conftest import LABELS, ticket_frame, truth_of


def trained(tmp_path, n=60):
    session = LabelingSession(ticket_frame(n), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    for _ in range(9):
        session.label(session.current, truth_of(session, session.current))
    session.retrain(wait=True)
    return session


def trained_labeler(tmp_path, **options):
    al = ActiveLabeler(ticket_frame(60), text="body", labels=LABELS, store=tmp_path / "s.db", background=False,
                       **options)
    for _ in range(9):
        al.session.label(al.session.current, truth_of(al.session, al.session.current))
    al.session.retrain(wait=True)
    return al


def test_a_label_added_mid_session_is_on_the_card_at_once_and_learned_from_the_next_round(tmp_path):
    al = trained_labeler(tmp_path, keys={"question": "q"})
    session = al.session
    before = dict(al.widget.key_map)
    al.add_label("other")
    assert al.widget.labels == [*LABELS, "other"]
    assert al.widget.key_map == {**before, "other": "3"}  # the others keep their keys
    assert session.model_proba()[0].shape[1] == 4 and session.suggestion is not None
    assert al.widget.progress["per_label"] == [*session.label_counts()[:3].tolist(), 0] and sum(
        al.widget.progress["per_label"]) == 9
    key = session.current
    session.label(key, "other")
    session.label(session.current, "other")
    session.retrain(wait=True)
    assert session.model_proba()[0].shape[1] == 4 and session.labeled.loc[key, "label"] == "other"
    assert session.checks()[0] is not None or session.label_issues().attrs.get("reason")
    al.close()
    again = LabelingSession(ticket_frame(60), text="body", labels=[*LABELS, "other"], store=tmp_path / "s.db",
                            background=False)
    assert again.label_of(key) == "other"
    again.close()


def test_adding_back_a_label_dropped_from_labels_brings_its_rows_back(tmp_path):
    session = LabelingSession(ticket_frame(), text="body", labels=[*LABELS, "spam"], store=tmp_path / "s.db",
                              background=False)
    key = session.current
    session.label(key, "spam")
    session.close()
    without = LabelingSession(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    assert without.label_of(key) is None
    without.add_label("spam")
    assert without.label_of(key) == "spam" and without.progress["labeled"] == 1
    assert "spam" not in without.restore_report.summary()
    without.close()


def test_an_unused_label_comes_off_and_the_others_keep_their_names_keys_and_suggestions(tmp_path):
    al = ActiveLabeler(ticket_frame(60), text="body", labels=["unused", *LABELS], store=tmp_path / "s.db",
                       background=False)
    session = al.session
    for _ in range(9):
        session.label(session.current, truth_of(session, session.current))
    session.retrain(wait=True)
    labeled = session.labeled["label"].astype(str).to_dict()
    proba = session.model_proba()[0]
    keys = dict(al.widget.key_map)
    suggestion = session.suggestion
    al.remove_label("unused")
    assert session.labels == LABELS and al.widget.labels == LABELS
    assert al.widget.key_map == {label: keys[label] for label in LABELS}  # 2, 3, 4 as before
    assert session.labeled["label"].astype(str).to_dict() == labeled
    assert np.array_equal(session.model_proba()[0], proba[:, 1:])
    assert session.suggestion[0] == suggestion[0]  # the same label (its confidence is over three labels now)
    assert (session.hand_codes()[session.hand_codes() >= 0] < 3).all()
    session.label(session.current, "bug")
    session.retrain(wait=True)
    al.close()


def test_a_label_in_use_or_the_last_two_cannot_be_removed(tmp_path):
    session = trained(tmp_path)
    with pytest.raises(LabelError, match=r"\d+ rows carry the label 'bug'; relabel them first \(\d+ labeled by "
                                         r"people: al.review\(by='label'\) walks them\)"):
        session.remove_label("bug")
    with pytest.raises(LabelError, match="not one of the labels"):
        session.remove_label("nope")
    session.add_label("x")
    session.remove_label("x")
    session.add_label("x")  # rows that carry it as weak labels say how those come off
    session.label_many([session.dataset.position(session.current)], ["x"], source="weak")
    with pytest.raises(LabelError, match=r"1 promoted weak label: undo the promotion or label it by hand"):
        session.remove_label("x")
    two = LabelingSession(ticket_frame(), text="body", labels=["a", "b"], store=":memory:", background=False)
    with pytest.raises(LabelError, match="at least two labels"):
        two.remove_label("a")
    with pytest.raises(LabelError, match="more than once"):
        two.add_label("a")
    two.close()
    session.close()


def test_a_round_that_started_before_a_label_was_added_lands_with_the_new_label_list(tmp_path):
    session = trained(tmp_path)
    session.label(session.current, "bug")
    session._refit_requested = True
    result = session._round()  # the round ran on three labels...
    session.add_label("other")  # ...while a fourth came
    session._swap_in(result)
    assert session.model_proba()[0].shape[1] == 4
    assert np.all(session.model_proba()[0][:, 3] == 0)
    session.close()


def test_heuristics_follow_a_label_added_or_removed_after_they_voted(tmp_path):
    from activelabel_widget import keywords

    al = ActiveLabeler(ticket_frame(60), text="body", labels=[*LABELS, "extra"], store=tmp_path / "s.db",
                       background=False)
    al.add_heuristic(keywords(label="extra", column="body", words=["crash"]),
                     keywords(label="question", column="body", words=["how"]))
    voted = al.weak_labels()
    asked = voted.index[voted["weak_label"] == "question"]
    al.add_label("other")  # codes after it unchanged, a new column for nobody's votes
    al.remove_label("extra")  # its votes become abstentions; the others keep their labels by name
    weak = al.weak_labels()
    assert set(weak["weak_label"].dropna()) <= {"question"}
    assert list(weak.index[weak["weak_label"] == "question"]) == list(asked)
    assert al.heuristics_summary() is not None
    crash = next(k for k in al.session.dataset.df.index if "crash" in al.session.dataset.df.loc[k, "body"])
    votes = [label for _, label in al.heuristics.votes_on(al.session.dataset.position(crash))]
    assert votes[0] is None  # the card shows the removed label's vote as an abstention
    votes = [label for _, label in al.heuristics.votes_on(al.session.dataset.position(asked[0]))]
    assert votes[1] == "question"
    al.close()


def test_a_renamed_label_keeps_its_rows_key_colour_and_history_and_undo_takes_it_back(tmp_path):
    al = trained_labeler(tmp_path, guidelines={"feature": "something new"})
    session = al.session
    widget = al.widget
    keys, colors = dict(widget.key_map), dict(widget.label_colors)
    before = session.labeled[["label", "source", "annotator"]].copy()
    carried = before.index[before["label"] == "feature"]
    codes = session.hand_codes().copy()
    assert al.rename_label("feature", "request") == len(carried) > 0
    assert session.labels == ["bug", "request", "question"] and widget.labels == session.labels
    assert widget.key_map == {"bug": keys["bug"], "request": keys["feature"], "question": keys["question"]}
    assert widget.label_colors["request"] == colors["feature"] and widget.guidelines == {"request": "something new"}
    after = session.labeled
    assert (after.loc[carried, "label"] == "request").all()
    assert after.loc[carried, "source"].tolist() == before.loc[carried, "source"].tolist()  # still hand labels
    np.testing.assert_array_equal(session.hand_codes(), codes)  # the model learns from them as before
    assert session.label_history(carried[0])["label"].tolist() == ["feature", "request"]
    assert session.suggestion is not None and session.suggestion[0] in session.labels
    with pytest.raises(LabelError, match="more than once"):
        al.rename_label("bug", "question")
    with pytest.raises(LabelError, match="not one of the labels"):
        al.rename_label("feature", "x")
    session.undo()  # the rename was one step: it comes back whole, the old name in its place and key
    assert (session.labeled.loc[carried, "label"] == "feature").all()
    assert session.labels == LABELS and widget.labels == LABELS and widget.key_map == keys
    predicted = session.to_frame()["prediction"]
    assert list(predicted.cat.categories) == LABELS and predicted.eq("feature").any()  # the model follows the names
    assert session.suggestion[0] in LABELS
    al.close()


def test_a_rename_holds_across_a_restart_and_an_old_labels_list_is_reported_not_refused(tmp_path):
    session = trained(tmp_path)
    renamed = session.rename_label("bug", "defect")
    session.close()
    again = LabelingSession(ticket_frame(60), text="body", labels=["defect", "feature", "question"],
                            store=tmp_path / "s.db", background=False)
    assert (again.labeled["label"] == "defect").sum() == renamed and again.restore_report.restored == 9
    again.close()
    old_list = LabelingSession(ticket_frame(60), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    assert old_list.restore_report.restored == 9 - renamed
    assert f"{renamed} label{'s' if renamed != 1 else ''} 'defect' not in labels=" in old_list.restore_report.summary()
    old_list.add_label("defect")  # brings the renamed rows back
    assert (old_list.labeled["label"] == "defect").sum() == renamed
    old_list.close()


def test_a_label_added_to_labels_between_starts_is_on_the_card_with_every_earlier_label_kept(tmp_path):
    session = trained(tmp_path)
    before = session.labeled["label"].astype(str).to_dict()
    session.close()
    al = ActiveLabeler(ticket_frame(60), text="body", labels=[*LABELS, "other"], store=tmp_path / "s.db",
                       background=False)
    assert al.labeled["label"].astype(str).to_dict() == before and al.widget.labels == [*LABELS, "other"]
    assert al.widget.key_map["other"] is not None
    al.session.label(al.session.current, "other")
    assert (al.labeled["label"] == "other").sum() == 1
    al.close()
