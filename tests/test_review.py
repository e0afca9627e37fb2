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
