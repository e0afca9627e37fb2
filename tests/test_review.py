"""Trusting the labels: likely label errors among the hand labels, and when more labels stop helping."""

import numpy as np
import pandas as pd
import pytest

from activelabel_widget import ActiveLabeler, LabelingSession
from activelabel_widget.label_issues import find_label_issues

from conftest import LABELS, ticket_frame, truth_of


def test_label_issues_flag_the_flipped_labels_from_the_latest_fits_out_of_fold_probabilities():
    df = ticket_frame(90)
    session = LabelingSession(df, text="body", labels=LABELS, store=":memory:", background=False, retrain_every=1000)
    flipped = {df.index[i] for i in (3, 10, 17)}
    for key in df.index[:45]:
        truth = df.loc[key, "truth"]
        wrong = LABELS[(LABELS.index(truth) + 1) % 3]
        session.label(key, wrong if key in flipped else truth)
    session.retrain(wait=True)
    issues = session.label_issues()
    assert list(issues.columns) == ["label", "suggested", "score"]
    found = set(issues.index) & flipped
    assert len(found) >= 2 and set(issues.index) <= flipped, issues.head(8)  # on clean keyword data: only flips
    assert (issues.loc[list(found), "suggested"] == df.loc[list(found), "truth"]).all()
    assert issues["score"].is_monotonic_decreasing and "confident learning" in issues.attrs["rule"]

    # the same as the rule applied by hand to the fit's out-of-fold probabilities
    proba, _ = session.model_proba(held_out=True)
    positions = np.flatnonzero(session.hand_codes() >= 0)
    by_hand = find_label_issues(session.hand_codes()[positions], proba[positions])
    assert list(issues.index) == list(df.index[positions[by_hand.flagged]])
    session.close()


def test_label_issues_say_why_there_is_nothing_to_judge_before_a_fit():
    session = LabelingSession(ticket_frame(), text="body", labels=LABELS, store=":memory:", background=False)
    issues = session.label_issues()
    assert issues.empty and "no cross-validated fit yet" in issues.attrs["reason"]
    session.close()


def test_the_stop_hint_waits_for_enough_labels_of_every_label_then_fires_on_stable_fits():
    df = ticket_frame(300)
    session = LabelingSession(df, text="body", labels=LABELS, store=":memory:", background=False, retrain_every=5)
    hint = session.stop_hint()
    assert not hint.ready
    labeled_at = []
    while not session.stop_hint().ready and len(session.labeled) < 200:
        session.label(session.current, truth_of(session, session.current))
        labeled_at.append(len(session.labeled))
    hint = session.stop_hint()
    assert hint.ready, hint.message
    assert (session.label_counts() >= 5).all()
    assert "agreement" in hint.message or "stopped changing" in hint.message
    assert len(session.fit_history) >= 4  # three agreeing pairs of fits at the least
    session.close()


def test_the_stop_hint_never_fires_below_the_minimum_per_label():
    df = ticket_frame(120)
    session = LabelingSession(df, text="body", labels=LABELS, store=":memory:", background=False, retrain_every=2)
    for key in df.index:  # many labels, but only two of "question"
        truth = df.loc[key, "truth"]
        if truth != "question" or (session.label_counts()[2] < 2):
            session.label(key, truth)
        if len(session.labeled) >= 60:
            break
    hint = session.stop_hint()
    assert not hint.ready and "question" in hint.message
    session.close()


def test_the_learning_curve_says_the_stop_hint(tmp_path):
    al = ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store=":memory:", background=False, retrain_every=3)
    for _ in range(30):
        al.session.label(al.session.current, truth_of(al.session, al.session.current))
    fig = al.plot_learning_curve()
    caption = fig.axes[0].texts[-1].get_text()
    assert "Stop hint:" in caption and al.stop_hint().message.split(" (")[0][:30] in caption
    al.close()


# -- corrections and the recent answers ----------------------------------------------------------

def _other(label):
    return LABELS[(LABELS.index(label) + 1) % 3]


def test_relabeling_from_the_history_writes_one_corrected_event_and_labeled_shows_the_label_it_replaced(tmp_path):
    store = tmp_path / "labels.db"
    session = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=store, background=False)
    first, second = session.current, None
    session.label(first, "bug")
    second = session.current
    session.label(second, "feature")
    answers = session.recent_answers()
    assert [(a.key, a.label, a.previous, a.source) for a in answers] == [(second, "feature", None, "hand"),
                                                                         (first, "bug", None, "hand")]
    assert answers[0].snippet and answers[0].open

    events_before = len(session.store.events())
    assert session.review(keys=[first]) == 1  # clicking the entry brings the record back on the card
    assert session.current == first and session.reviewing["total"] == 1
    session.label(first, "question")
    assert len(session.store.events()) == events_before + 1  # one event, no edit in place
    event = session.store.events()[-1]
    assert (event.action, event.label, event.source) == ("label", "question", "corrected")
    assert session.reviewing is None and session.current not in (first, second)  # back to labeling

    row = session.labeled.loc[first]
    assert (row["label"], row["source"], row["previous_label"]) == ("question", "corrected", "bug")
    assert pd.isna(session.labeled.loc[second, "previous_label"])
    history = session.label_history(first)
    assert history["label"].tolist() == ["bug", "question"] and history["source"].tolist() == ["hand", "corrected"]
    assert session.recent_answers()[0][:6] == (first, str(first), session.dataset.snippet(
        session.dataset.position(first)), "label", "question", "bug")
    session.close()

    reopened = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=store, background=False)
    assert "_packed" in reopened._state.__dict__  # read from the snapshot without building every event
    # every answer undo would walk back, newest first: the correction, then the first two labels
    assert [(a.key, a.label, a.previous) for a in reopened.recent_answers()] == [
        (first, "question", "bug"), (second, "feature", None), (first, "bug", None)]
    assert reopened.labeled.loc[first, "previous_label"] == "bug"  # the history survives a restart
    reopened.close()


def test_undo_after_a_correction_restores_the_earlier_label_and_shows_the_record_again():
    session = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=":memory:", background=False)
    key = session.current
    session.label(key, "bug")
    labeling_card = session.current
    session.review(keys=[key])
    session.label(key, "feature")
    assert session.label_of(key) == "feature" and session.current == labeling_card
    assert session.undo_target() == key
    assert session.undo() == key
    assert session.label_of(key) == "bug"  # the earlier label is back in force
    assert session.current == key and session.previous_label == "feature"  # shown again, in review
    assert session.labeled.loc[key, "source"] == "hand"
    session.keep()
    assert session.current == labeling_card and session.reviewing is None
    session.close()


def test_the_same_label_again_saves_nothing_and_a_label_over_a_weak_label_is_a_first_hand_label():
    session = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=":memory:", background=False)
    key = session.current
    session.label(key, "bug")
    n = len(session.store.events())
    session.label(key, "bug")
    assert len(session.store.events()) == n
    weak_key = session.current
    session.label_many([session.dataset.position(weak_key)], ["feature"], source="weak")
    session.label(weak_key, "question")
    assert session.labeled.loc[weak_key, "source"] == "hand"
    session.close()


# -- review mode ---------------------------------------------------------------------------------

def test_review_by_disagreement_follows_the_out_of_fold_predictions_as_computed_by_hand():
    df = ticket_frame(90)
    session = LabelingSession(df, text="body", labels=LABELS, store=":memory:", background=False, retrain_every=1000)
    flipped = {df.index[i] for i in (3, 10, 17, 21)}
    for key in df.index[:45]:
        truth = df.loc[key, "truth"]
        session.label(key, _other(truth) if key in flipped else truth)
    session.retrain(wait=True)
    # by hand: the hand-labeled rows whose out-of-fold argmax differs from the label, the most confident first
    proba, _ = session.model_proba(held_out=True)
    codes = session.hand_codes()
    rows = [p for p in np.flatnonzero(codes >= 0) if np.isfinite(proba[p]).all() and proba[p].argmax() != codes[p]]
    expected = [df.index[p] for p in sorted(rows, key=lambda p: -proba[p].max())]  # ties: the older label first
    assert expected, "the flips must disagree with the model"
    assert session.review("disagreement") == len(expected)
    walked = []
    while session.reviewing is not None:
        walked.append(session.current)
        assert session.reviewing["by"] == "disagreement"
        assert session.suggestion[0] == LABELS[int(proba[session.dataset.position(session.current)].argmax())]
        session.keep()
    assert walked == expected
    assert len(set(walked) & flipped) >= 2  # the flipped labels are among those the model disputes
    session.close()


def test_review_walks_by_label_annotator_and_time_and_returns_to_the_labeling_line_where_it_was():
    df = ticket_frame(40)
    session = LabelingSession(df, text="body", labels=LABELS, store=":memory:", background=False, retrain_every=1000)
    given = []
    for _ in range(6):
        key = session.current
        label = LABELS[len(given) % 3]
        session.label(key, label)
        given.append((key, label))
    card = session.current
    assert session.review("time") == 6
    assert session.current == given[-1][0] and session.snapshot().given.label == given[-1][1]
    order = [session.current]
    for _ in range(5):
        session.keep()
        order.append(session.current)
    assert order == [key for key, _ in reversed(given)]
    session.keep()
    assert session.reviewing is None and session.current == card  # labeling goes on where it was

    session.review("label")
    ahead = session.snapshot(ahead=5).ahead
    expected = [key for label in LABELS for key, given_label in given if given_label == label]
    assert [session.current] + [df.index[a.position] for a in ahead] == expected
    assert all(a.given is not None for a in ahead)
    session.end_review()
    assert session.current == card and session.reviewing is None

    session.review("annotator")
    assert session.current == given[0][0] and "labeled by" in session.current_reason
    session.end_review()
    session.close()


def test_review_says_what_to_do_when_there_is_nothing_to_review():
    session = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=":memory:", background=False)
    with pytest.raises(Exception, match="no hand labels to review"):
        session.review("time")
    session.label(session.current, "bug")
    with pytest.raises(Exception, match="needs a cross-validated model"):
        session.review("disagreement")
    with pytest.raises(Exception, match="not a review order"):
        session.review("alphabet")
    with pytest.raises(Exception, match="have no label"):
        session.review(keys=[session.current])
    with pytest.raises(Exception, match="keep\\(\\) moves on in review"):
        session.keep()
    session.close()


def test_in_review_skip_keeps_the_label_and_undo_walks_back_over_kept_records_without_events():
    session = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=":memory:", background=False)
    keys = []
    for label in ("bug", "feature", "question"):
        keys.append(session.current)
        session.label(session.current, label)
    n = len(session.store.events())
    session.review("time")
    session.skip()
    assert session.current == keys[1] and len(session.store.events()) == n
    session.label(keys[1], "bug")  # a correction
    assert session.current == keys[0]
    assert session.undo() == keys[1] and session.label_of(keys[1]) == "feature"
    assert session.undo() == keys[2] and session.current == keys[2]  # a kept record: no event to take back
    assert len(session.store.events()) == n + 2  # the correction and its undo
    assert session.undo() == keys[2] and session.label_of(keys[2]) is None  # leaves review, takes back the label
    assert session.reviewing is None and session.current == keys[2]
    session.close()


def test_the_card_counts_likely_wrong_labels_after_each_fit_and_says_whether_to_stop():
    df = ticket_frame(90)
    session = LabelingSession(df, text="body", labels=LABELS, store=":memory:", background=False, retrain_every=1000)
    assert session.checks()[0] is None  # nothing to judge before a fit
    for i, key in enumerate(df.index[:45]):
        truth = df.loc[key, "truth"]
        session.label(key, _other(truth) if i in (3, 10, 17) else truth)
    session.retrain(wait=True)
    count, hint = session.checks()
    assert count == len(session.label_issues()) and count >= 2
    assert not hint.ready and hint.message
    flagged = session.label_issues().index[0]
    session.label(flagged, session.label_issues().loc[flagged, "suggested"])  # fixed: one fewer looks wrong
    assert session.checks()[0] == count - 1
    session.close()


def test_a_records_label_history_marks_what_was_taken_back_even_inside_a_group():
    session = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=":memory:", background=False)
    key = session.current
    session.label(key, "bug")
    session.label(key, "feature")
    session.undo()  # the correction
    other, last = [k for k in session.dataset.df.index if k != key][-2:]
    session.label_many([session.dataset.position(other), session.dataset.position(last)], ["question", "bug"],
                       source="weak")
    session.undo()  # the group: its undo event names the group's last record only
    history = session.label_history(key)
    assert history[["label", "source", "undone"]].values.tolist() == [["bug", "hand", False],
                                                                      ["feature", "corrected", True]]
    assert session.label_history(other)[["label", "undone"]].values.tolist() == [["question", True]]
    session.close()


def test_a_second_review_replaces_the_first_and_labeling_still_resumes_where_it_was():
    session = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=":memory:", background=False)
    for label in ("bug", "feature", "question"):
        session.label(session.current, label)
    card = session.current
    session.review("time")
    session.keep()
    session.review("label")
    assert session.reviewing["by"] == "label" and session.reviewing["index"] == 1
    session.end_review()
    assert session.current == card
    session.end_review()  # leaving twice is harmless
    assert session.current == card
    session.close()


def test_undo_in_review_after_labels_saved_elsewhere_takes_those_back_first_and_loses_nothing():
    session = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=":memory:", background=False)
    keys = []
    for label in ("bug", "feature"):
        keys.append(session.current)
        session.label(session.current, label)
    session.review("time")
    session.label(keys[1], "question")  # a correction on the card
    weak = [p for p in range(30) if session.dataset.index_value(p) not in keys][:3]
    session.label_many(weak, ["bug"] * 3, source="weak")  # e.g. promoted weak labels, from a cell
    assert session.undo() is not None  # the newest step is the group: it goes, the correction stays
    assert session.reviewing is None
    assert session.label_of(keys[1]) == "question" and all(session.label_of(session.dataset.index_value(p)) is None
                                                           for p in weak)
    assert session.undo() == keys[1] and session.label_of(keys[1]) == "feature"  # then the correction
    session.close()


def test_a_label_added_or_removed_during_a_review_leaves_its_suggestions_on_the_right_names():
    df = ticket_frame(60)
    session = LabelingSession(df, text="body", labels=["unused", *LABELS], store=":memory:", background=False)
    for _ in range(18):
        session.label(session.current, truth_of(session, session.current))
    session.retrain(wait=True)
    n = session.review("label")
    before = {}
    for _ in range(n):
        before[session.current] = session.suggestion[0]
        session.keep()
    session.review("label")
    session.remove_label("unused")
    session.add_label("other")
    after = {}
    for _ in range(n):
        after[session.current] = session.suggestion[0]
        session.keep()
    assert after == before
    session.close()
