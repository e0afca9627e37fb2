"""The widget mirrors the session into traits and turns card intents into session calls (no browser)."""

import pytest

from activelabel_widget import ActiveLabeler

from conftest import LABELS, ticket_frame, truth_of


@pytest.fixture
def labeler(tmp_path):
    al = ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    yield al
    al.close()


def intent(widget, action, **extra):
    card = widget.card
    widget.handle_intent({"action": action, "key": card["key"], "token": card["token"], **extra})


def test_the_card_traits_describe_the_current_record(labeler):
    widget = labeler.widget
    card = widget.card
    assert card["kind"] == "text" and card["text"] == labeler.session.dataset.df.loc[labeler.session.current, "body"]
    assert card["key"] == labeler.session.dataset.keys[labeler.session.current_position]
    assert card["reason"]
    assert widget.labels == LABELS and "hybrid" in widget.strategies and widget.strategy == "hybrid"
    assert widget.progress == {"labeled": 0, "total": 60, "session": 0, "skipped": 0}
    assert widget.store_path.endswith("s.db") and widget.suggestion == {}


def test_a_label_intent_labels_the_card_record_and_shows_the_next(labeler):
    widget = labeler.widget
    key, token = labeler.session.current, widget.card["token"]
    intent(widget, "label", label="question")
    assert labeler.labeled.loc[key, "label"] == "question"
    assert widget.card["token"] != token and widget.progress["labeled"] == 1


def test_a_stale_or_double_click_never_labels_another_row(labeler):
    widget = labeler.widget
    stale = dict(widget.card)
    intent(widget, "label", label="bug")
    widget.handle_intent({"action": "label", "key": stale["key"], "token": stale["token"], "label": "feature"})
    assert len(labeler.labeled) == 1 and labeler.labeled["label"].tolist() == ["bug"]
    assert "already answered" in widget.notice


def test_skip_and_undo_intents(labeler):
    widget = labeler.widget
    first = labeler.session.current
    intent(widget, "skip")
    assert widget.progress["skipped"] == 1
    intent(widget, "undo")
    assert labeler.session.current == first and widget.progress["skipped"] == 0
    intent(widget, "undo")
    assert widget.notice == "Nothing to undo."


def test_an_unknown_label_shows_an_error_on_the_card_and_loses_nothing(labeler):
    widget = labeler.widget
    intent(widget, "label", label="bug")
    widget._on_intent(widget, {"action": "label", "key": widget.card["key"], "token": widget.card["token"], "label": "nope"})
    assert "not one of the labels" in widget.error
    assert len(labeler.labeled) == 1
    intent(widget, "label", label="feature")
    assert widget.error == "" and len(labeler.labeled) == 2


def test_suggestions_and_model_status_reach_the_card_and_enter_accepts(labeler):
    widget, session = labeler.widget, labeler.session
    for _ in range(12):
        intent(widget, "label", label=truth_of(session, session.current))
    assert widget.model_status["state"] == "ready" and widget.model_status["fits"] >= 1
    assert set(widget.suggestion) == {"label", "confidence", "weak", "accuracy"}
    assert widget.suggestion["accuracy"] == widget.model_status["accuracy"]
    suggested, key = widget.suggestion["label"], session.current
    intent(widget, "accept")
    if widget.suggestion.get("weak"):  # a weak suggestion takes a second Enter
        intent(widget, "accept")
    assert labeler.labeled.loc[key, "source"] == "suggestion-accepted"
    assert labeler.labeled.loc[key, "label"] == suggested


def test_retrain_and_strategy_intents(labeler):
    widget = labeler.widget
    for _ in range(6):
        intent(widget, "label", label=truth_of(labeler.session, labeler.session.current))
    fits = widget.model_status["fits"]
    intent(widget, "retrain")
    assert widget.model_status["fits"] == fits + 1
    intent(widget, "strategy", name="margin")
    assert widget.strategy == "margin" and labeler.session.strategy == "margin"
    widget._on_intent(widget, {"action": "strategy", "name": "nonsense"})
    assert "not known" in widget.error


def test_the_done_card_says_everything_is_labeled(tmp_path):
    al = ActiveLabeler(ticket_frame(2), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    widget = al.widget
    intent(widget, "label", label="bug")
    intent(widget, "label", label="bug")
    assert widget.card["kind"] == "done" and "All 2 records are labeled" in widget.card["text"]
    intent(widget, "undo")
    assert widget.card["kind"] == "text"
    al.close()


def test_image_records_travel_as_png_bytes(tmp_path):
    import numpy as np
    import pandas as pd

    df = pd.DataFrame({"img": [np.eye(8), "/no/such/file.png"]})
    al = ActiveLabeler(df, image="img", labels=["a", "b"], store=tmp_path / "s.db", background=False)
    widget = al.widget
    shown = {}
    for _ in range(2):
        shown[widget.card["key"]] = (widget.image[:4], widget.card["problem"])
        intent(widget, "skip")
    assert shown["i:0"] == (b"\x89PNG", "") and "could not read" in shown["i:1"][1]
    al.close()


def test_the_labeler_renders_as_the_widget(labeler):
    bundle = labeler._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle  # (data, metadata) or data alone
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == labeler.widget.model_id


def test_the_store_path_shows_relative_to_the_notebook_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    al = ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store="labels.db", background=False)
    assert al.widget.store_path == "labels.db" and al.store_path == str(tmp_path / "labels.db")
    al.close()


def count_messages(widget) -> list:
    """Record the state keys of every comm message the widget sends from now on."""
    sent = []
    original = widget._send
    widget._send = lambda message, buffers=None: (sent.append(sorted(message.get("state", {}))),
                                                  original(message, buffers))
    return sent


def test_one_label_intent_reaches_the_card_as_one_message(labeler):
    widget = labeler.widget
    sent = count_messages(widget)
    per_intent = []
    for number in range(12):  # includes the first fit (a new suggestion, status and votes)
        sent.clear()
        intent(widget, "label", label=LABELS[number % 3])
        per_intent.append(len(sent))
    assert per_intent == [1] * 12
    assert {"card", "progress"} <= set(sent[0])


def test_skip_undo_and_a_stale_press_are_one_message_each(labeler):
    widget = labeler.widget
    sent = count_messages(widget)
    stale = dict(widget.card)
    for action in ("skip", "undo"):
        sent.clear()
        intent(widget, action)
        assert len(sent) == 1, action
    intent(widget, "label", label="bug")
    sent.clear()
    widget._on_intent(widget, {"action": "label", "key": stale["key"], "token": stale["token"], "label": "bug"})
    assert len(sent) == 1 and "notice" in sent[0]


def test_a_weak_suggestion_is_marked_and_enter_must_be_pressed_twice(labeler, monkeypatch):
    from activelabel_widget import widget as widget_module

    for label in LABELS * 2:
        intent(labeler.widget, "label", label=label)
    widget = labeler.widget
    assert set(widget.suggestion) == {"label", "confidence", "weak", "accuracy"}
    monkeypatch.setattr(widget_module, "WEAK_SUGGESTION_BELOW", 1.01)  # every suggestion is weak now
    widget._sync()
    card = dict(widget.card)
    intent(widget, "accept")
    assert widget.card["key"] == card["key"] and "press Enter again" in widget.notice  # nothing saved yet
    intent(widget, "accept")
    assert widget.card["key"] != card["key"]
    assert labeler.labeled.loc[labeler.session.dataset.index_value(labeler.session.dataset.position_of[card["key"]]),
                               "source"] == "suggestion-accepted"


def test_a_strong_suggestion_is_accepted_with_one_enter(labeler, monkeypatch):
    from activelabel_widget import widget as widget_module

    for label in LABELS * 2:
        intent(labeler.widget, "label", label=label)
    monkeypatch.setattr(widget_module, "WEAK_SUGGESTION_BELOW", -1.0)  # nothing is weak
    widget = labeler.widget
    widget._sync()
    assert widget.suggestion["weak"] is False
    key = widget.card["key"]
    intent(widget, "accept")
    assert widget.card["key"] != key


def test_the_strategy_select_explains_every_strategy(labeler):
    help = labeler.widget.strategy_help
    assert set(help) == set(labeler.widget.strategies) and all(len(text) > 20 for text in help.values())


def test_the_cards_reason_follows_the_session_when_a_fit_comes_after_the_pick(labeler):
    """The record stays on the card (same token) but its reason says that it was picked before the fit."""
    session, widget = labeler.session, labeler.widget
    key, token = session.current, widget.card["token"]
    for _ in range(4):  # label other rows (two each of two labels) until the first fit
        other = next(k for k in session.dataset.df.index if k != key and k not in session.labeled.index
                     and truth_of(session, k) in {"bug", "feature"}
                     and session.label_counts()[LABELS.index(truth_of(session, k))] < 2)
        session.label(other, truth_of(session, other))
    assert session.model_status.fits == 1 and session.current == key and widget.card["token"] == token
    assert widget.card["reason"].endswith("· picked before the latest fit")
    assert widget.card["reason"] == session.snapshot().reason
