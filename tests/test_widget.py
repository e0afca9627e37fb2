"""The widget mirrors the session into traits and turns card intents into session calls (no browser)."""

import json

import pytest
import traitlets

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
    assert widget.progress == {"labeled": 0, "total": 60, "session": 0, "skipped": 0, "rejected": 0, "per_label": [0, 0, 0]}
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
    assert "already has the label 'bug'" in widget.notice and "nothing changed" in widget.notice


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
    # the card's record comes with its image; the next one travels ahead in the page's line
    shown = {widget.card["key"]: (widget.image[:4], widget.card["problem"])}
    shown.update({record["key"]: (record["image"][:4], record["problem"]) for record in widget.upcoming})
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


def test_a_suggestion_is_marked_weak_below_the_threshold(labeler, monkeypatch):
    from activelabel_widget import widget as widget_module

    for label in LABELS * 2:
        intent(labeler.widget, "label", label=label)
    widget = labeler.widget
    assert set(widget.suggestion) == {"label", "confidence", "weak", "accuracy"}
    monkeypatch.setattr(widget_module, "WEAK_SUGGESTION_BELOW", 1.01)  # every suggestion is weak now
    widget._sync()
    assert widget.suggestion["weak"] is True
    assert all(record["suggestion"]["weak"] for record in widget.upcoming)
    monkeypatch.setattr(widget_module, "WEAK_SUGGESTION_BELOW", -1.0)  # nothing is weak
    widget._sync()
    assert widget.suggestion["weak"] is False


def test_accept_saves_the_suggestion_the_page_showed_with_its_confidence(labeler):
    for label in LABELS * 2:
        intent(labeler.widget, "label", label=label)
    widget = labeler.widget
    key = widget.card["key"]
    intent(widget, "accept", label="question", confidence=0.42, suggested="question")
    row = labeler.session.dataset.index_value(labeler.session.dataset.position_of[key])
    saved = labeler.labeled.loc[row]
    assert saved["label"] == "question" and saved["source"] == "suggestion-accepted"
    assert saved["confidence"] == pytest.approx(0.42) and widget.card["key"] != key


def page_answer(widget, action, record, seq, **extra):
    widget.handle_intent({"action": action, "key": record["key"], "token": None, "view": "v1", "seq": seq, **extra})


def test_the_page_holds_the_next_records_with_everything_the_card_shows(labeler):
    widget = labeler.widget
    ahead = widget.upcoming
    assert len(ahead) == 7  # eight records in the page: the card and seven after it
    assert widget.card["key"] not in [r["key"] for r in ahead] and len({r["key"] for r in ahead}) == 7
    queued = labeler.session.queued(8).tolist()
    assert [r["key"] for r in ahead] == [labeler.session.dataset.keys[p] for p in queued[1:]]
    for record in ahead:
        assert {"key", "key_label", "kind", "text", "fields", "problem", "reason", "suggestion", "votes", "image"} <= set(record)
        assert record["kind"] == "text" and record["text"] and record["reason"]


def test_answers_from_the_page_land_on_the_records_the_user_saw_in_the_order_pressed(labeler):
    """The page showed the card, then the next two from its line: three answers, three rows."""
    widget, session = labeler.widget, labeler.session
    shown = [dict(widget.card), *widget.upcoming[:2]]
    page_answer(widget, "label", shown[0], 1, label="bug", suggested=None)
    page_answer(widget, "skip", shown[1], 2)
    page_answer(widget, "label", shown[2], 3, label="question", suggested=None)
    rows = {session.dataset.index_value(session.dataset.position_of[r["key"]]): r for r in shown}
    labeled = labeler.labeled
    assert labeled["label"].to_dict() == {list(rows)[0]: "bug", list(rows)[2]: "question"}
    assert (labeled["source"] == "hand").all()
    assert widget.progress["skipped"] == 1 and session.skipped() == [list(rows)[1]]
    assert widget.answered == {"v1": {"through": 3, "refused": []}}
    assert widget.card["key"] not in {r["key"] for r in shown}  # the card moved past all three


def test_an_answer_the_session_refuses_is_reported_with_its_seq_and_nothing_moves(labeler):
    widget = labeler.widget
    first = dict(widget.card)
    page_answer(widget, "label", first, 1, label="bug", suggested=None)
    card, before = dict(widget.card), len(labeler.labeled)
    page_answer(widget, "label", first, 2, label="feature", suggested=None)  # the same record again
    page_answer(widget, "label", {"key": "no such key"}, 3, label="bug")
    assert len(labeler.labeled) == before and labeler.labeled["label"].tolist() == ["bug"]
    assert widget.card == card
    refused = widget.answered["v1"]["refused"]
    assert widget.answered["v1"]["through"] == 3 and [r[0] for r in refused] == [2, 3]
    assert "already has the label 'bug'" in refused[0][2] and "not in the data" in refused[1][2]


def test_a_correction_of_the_suggestion_the_page_showed_is_saved_as_corrected(labeler):
    for label in LABELS * 2:
        intent(labeler.widget, "label", label=label)
    widget = labeler.widget
    record = widget.upcoming[0]
    shown = record["suggestion"]["label"]
    other = next(label for label in LABELS if label != shown)
    page_answer(widget, "label", record, 1, label=other, suggested=shown, confidence=record["suggestion"]["confidence"])
    row = labeler.session.dataset.index_value(labeler.session.dataset.position_of[record["key"]])
    assert labeler.labeled.loc[row, "source"] == "suggestion-corrected"


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


def test_the_sessions_card_follows_the_record_the_page_shows_next(labeler):
    """A fit may rerank the kernel's line while the page shows the record it had queued: the
    answer names that record as next, and the session's card becomes it."""
    widget, session = labeler.widget, labeler.session
    card, ahead = dict(widget.card), widget.upcoming
    chosen = ahead[3]  # not what the kernel would pick next
    page_answer(widget, "label", card, 1, label="bug", suggested=None, next=chosen["key"])
    assert widget.card["key"] == chosen["key"] and session.current_position == session.dataset.position_of[chosen["key"]]
    assert widget.card["reason"] == chosen["reason"]
    assert [r["key"] for r in widget.upcoming[:3]] == [r["key"] for r in ahead[:3]]  # the ones it jumped come next


def test_an_undo_from_the_page_takes_back_only_the_answer_it_names(labeler):
    widget, session = labeler.widget, labeler.session
    first = dict(widget.card)
    page_answer(widget, "label", first, 1, label="bug", suggested=None)
    other = widget.upcoming[0]
    session.label(session.dataset.index_value(session.dataset.position_of[other["key"]]), "feature")  # from a cell
    page_answer(widget, "undo", first, 2)  # the page thinks its answer on `first` is the last one
    assert len(labeler.labeled) == 2  # nothing undone
    assert "nothing was undone" in widget.answered["v1"]["refused"][-1][2]
    page_answer(widget, "undo", other, 3)
    assert len(labeler.labeled) == 1 and widget.answered["v1"]["through"] == 3


@pytest.mark.parametrize("preload", [0, 65, 2.5, True, "8"])
def test_a_bad_preload_says_what_to_pass(preload):
    from activelabel_widget.errors import OptionError

    with pytest.raises(OptionError, match="preload must be a whole number of records from 1 to 64"):
        ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store=":memory:", preload=preload)


def test_preload_sets_how_many_records_the_page_holds(tmp_path):
    al = ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store=":memory:", background=False, preload=3)
    assert len(al.widget.upcoming) == 2  # the card and two after it
    assert al.widget.preload == 3  # the page reads it: it gets as many pictures ready
    with pytest.raises(traitlets.TraitError):
        al.widget.preload = 16  # made with the labeler: the kernel's line is sized by it already
    al.close()


def test_the_page_line_grows_while_the_kernel_lags_and_shrinks_a_minute_after(tmp_path, monkeypatch):
    """An answer pressed with earlier answers still on their way says so (``behind``): the page has
    run that far ahead of the kernel's card, so the kernel sends twice that many more records (the lag
    may grow meanwhile), and keeps the slack for a minute (the next fit will lag again), never more
    than eight times ``preload``."""
    import activelabel_widget.page_depth as page_depth

    now = [1000.0]
    monkeypatch.setattr(page_depth.time, "monotonic", lambda: now[0])
    al = ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store=":memory:", background=False, preload=4)
    widget = al.widget
    assert len(widget.upcoming) == 3
    shown = [dict(widget.card), *widget.upcoming]
    page_answer(widget, "label", shown[0], 1, label="bug", suggested=None, next=shown[1]["key"], behind=0)
    assert len(widget.upcoming) == 3  # a kernel that keeps up: the line stays as asked
    page_answer(widget, "label", shown[1], 2, label="bug", suggested=None, next=shown[2]["key"], behind=3)
    assert len(widget.upcoming) == 4 + 2 * 3 - 1
    assert al.session.team_window == 4 + 2 * 3  # a team store leases what the page may hold
    now[0] += 30
    page_answer(widget, "skip", shown[2], 3, next=shown[3]["key"], behind=1)
    assert len(widget.upcoming) == 4 + 2 * 3 - 1  # the lag of half a minute ago is still remembered
    page_answer(widget, "skip", shown[3], 4, next=widget.upcoming[0]["key"], behind=40)
    assert len(widget.upcoming) == 8 * 4 - 1  # at most eight times preload
    now[0] += 61
    page_answer(widget, "skip", widget.card, 5, next=widget.upcoming[0]["key"], behind=0)
    assert len(widget.upcoming) == 3 and al.session.team_window == 4
    assert len(al.labeled) == 2
    al.close()


def test_a_records_content_travels_to_the_page_once_and_again_when_a_new_card_asks(tmp_path):
    """Text, fields and image bytes never change for a record: the page keeps what it was sent, so
    the line after an answer names the records it holds with ``same`` and only what may change."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"pixels": [rng.random((8, 8)) for _ in range(30)]})
    al = ActiveLabeler(frame, image="pixels", labels=["zero", "one"], store=":memory:", background=False)
    widget = al.widget
    first = widget.upcoming
    assert all(record["image"][:4] == b"\x89PNG" and "same" not in record for record in first)
    page_answer(widget, "label", widget.card, 1, label="zero", suggested=None, next=first[0]["key"])
    after = widget.upcoming
    assert [r["key"] for r in after[:-1]] == [r["key"] for r in first[1:]]
    assert all(r["same"] and "image" not in r and "text" not in r for r in after[:-1])
    assert after[-1]["image"][:4] == b"\x89PNG" and "same" not in after[-1]  # the one new record comes whole
    assert {"reason", "suggestion", "votes", "review", "given", "note"} <= set(after[0])
    # the card moved to a record the page holds: it is named by key, its image does not travel again
    assert widget.card["key"] == first[0]["key"] and widget.card["same"] is True and widget.image == b""
    assert "text" not in widget.card and {"token", "reason", "review", "given", "note"} <= set(widget.card)
    page_answer(widget, "skip", widget.card, 2, next=after[0]["key"])
    assert widget.card["same"] is True and widget.image == b""  # the next one too, and never re-sent whole
    intent(widget, "line")  # a card drawn now lacks the content: it asks, and the whole line comes again
    assert all(r["image"][:4] == b"\x89PNG" and "same" not in r for r in widget.upcoming)
    assert "same" not in widget.card and widget.card["kind"] == "image" and widget.image[:4] == b"\x89PNG"
    assert len(al.labeled) == 1
    al.close()


def test_a_line_the_page_holds_is_not_sent_again_only_to_name_its_records_by_key(labeler):
    """A sync that finds the line sent last unchanged sends nothing, though its records would now
    be named by key: each answer's top-up cost the page a second message a moment later."""
    widget = labeler.widget
    page_answer(widget, "label", widget.card, 1, label="bug", suggested=None, next=widget.upcoming[0]["key"])
    sent = widget.upcoming
    assert "same" not in sent[-1]  # the one new record came with its content
    changes = []
    widget.observe(changes.append, names="upcoming")
    widget._sync()
    assert changes == [] and widget.upcoming is sent
    labeler.session.skip()  # a line that did change is sent, its records the page holds named by key
    assert len(changes) == 1 and all(r.get("same") for r in widget.upcoming[:-1])


def test_answers_sent_together_are_applied_in_order_and_reach_the_card_as_one_message(labeler):
    widget, session = labeler.widget, labeler.session
    shown = [dict(widget.card), *widget.upcoming[:3]]
    messages = []
    widget.comm.send = lambda data=None, metadata=None, buffers=None: messages.append(data)
    answers = [
        {"action": "label", "key": shown[0]["key"], "token": None, "view": "v1", "seq": 1, "label": "bug",
         "suggested": None, "next": shown[1]["key"]},
        {"action": "skip", "key": shown[1]["key"], "token": None, "view": "v1", "seq": 2, "next": shown[2]["key"]},
        {"action": "label", "key": shown[2]["key"], "token": None, "view": "v1", "seq": 3, "label": "question",
         "suggested": None, "next": shown[3]["key"]},
        "not an answer", {"action": "retrain"},
    ]
    widget.handle_intent({"action": "answers", "answers": answers})
    assert widget.answered["v1"] == {"through": 3, "refused": []}
    position = session.dataset.position_of
    labeled = labeler.labeled["label"].to_dict()
    assert labeled == {session.dataset.index_value(position[shown[0]["key"]]): "bug",
                       session.dataset.index_value(position[shown[2]["key"]]): "question"}
    assert widget.card["key"] == shown[3]["key"]
    assert len([m for m in messages if m and m.get("method") == "update"]) == 1


@pytest.mark.parametrize("behind", [None, -3, True, "9", 2.5])
def test_a_page_that_says_nothing_or_nonsense_about_its_lag_gets_the_line_it_asked_for(labeler, behind):
    widget = labeler.widget
    page_answer(widget, "skip", widget.card, 1, next=widget.upcoming[0]["key"], behind=behind)
    assert len(widget.upcoming) == 7 and widget.answered["v1"]["through"] == 1


def test_the_lag_the_page_line_keeps_is_the_most_of_the_last_minute():
    from activelabel_widget.page_depth import PageDepth

    now = [0.0]
    depth = PageDepth(8, clock=lambda: now[0])
    for at, behind in [(0, 3), (10, 9), (20, 2), (50, 4)]:
        now[0] = at
        depth.note(behind)
    assert depth.records == 8 + 2 * 9
    now[0] = 71  # the 9 of t=10 is older than a minute: the most since is the 4 of t=50
    assert depth.records == 8 + 2 * 4
    now[0] = 111
    assert depth.records == 8


def test_answers_that_reach_the_kernel_out_of_order_are_applied_in_the_order_pressed(labeler):
    """The kernel may hand comm messages over out of order: an undo that overtakes the label it
    takes back waits for it, so the store ends as the presses say."""
    widget, session = labeler.widget, labeler.session
    shown = [dict(widget.card), *widget.upcoming[:2]]
    page_answer(widget, "label", shown[0], 1, label="bug", suggested=None, next=shown[1]["key"])
    page_answer(widget, "undo", shown[2], 4)  # pressed fourth (takes back the third), arrives second
    assert widget.answered["v1"]["through"] == 1 and len(labeler.labeled) == 1
    page_answer(widget, "label", shown[2], 3, label="question", suggested=None, next=None)
    assert widget.answered["v1"]["through"] == 1  # still waiting for 2
    page_answer(widget, "label", shown[1], 2, label="feature", suggested=None, next=shown[2]["key"])
    assert widget.answered["v1"] == {"through": 4, "refused": []}
    keys = {session.dataset.index_value(session.dataset.position_of[r["key"]]): r for r in shown}
    assert labeler.labeled["label"].to_dict() == {list(keys)[0]: "bug", list(keys)[1]: "feature"}
    page_answer(widget, "label", shown[0], 2, label="plot", suggested=None)  # a seq already settled: ignored
    assert widget.answered["v1"]["through"] == 4 and labeler.labeled.loc[list(keys)[0], "label"] == "bug"


def test_the_plots_are_drawn_only_while_the_insights_panel_is_open(labeler):
    import time as _time

    widget = labeler.widget
    for label in LABELS * 2:  # a fit
        intent(widget, "label", label=label)
    assert labeler.session.model_status.fits == 1
    _time.sleep(0.5)
    assert widget.confidence_png == b""  # nobody looked: nothing drawn
    intent(widget, "plots", open=True)
    deadline = _time.monotonic() + 60
    while widget.confidence_png == b"" and _time.monotonic() < deadline:
        _time.sleep(0.1)
    assert widget.confidence_png[:4] == b"\x89PNG" and widget.coverage_png[:4] == b"\x89PNG"
    intent(widget, "plots", open=False)
    assert widget._plots_wanted is False


def test_a_rounds_sync_during_an_answer_never_sends_the_answered_record_with_its_settlement(labeler, monkeypatch):
    """A round's thread that read the line before an answer was committed must not send that older
    view in the message that says the answer is settled (the page would show the answered record
    again, and the next press on it would be refused)."""
    import threading as _threading

    widget = labeler.widget
    sent = []
    original_send = widget._send
    widget._send = lambda message, buffers=None: (sent.append(dict(message.get("state", {}))),
                                                  original_send(message, buffers))
    card = dict(widget.card)
    sent.clear()
    round_read, answer_done = _threading.Event(), _threading.Event()
    original_ahead = widget._ahead

    def slow_for_the_round(record, accuracy, **kwargs):  # the round's thread pauses after reading the line
        if _threading.current_thread().name == "round":
            round_read.set()
            answer_done.wait(1.0)
        return original_ahead(record, accuracy, **kwargs)

    monkeypatch.setattr(widget, "_ahead", slow_for_the_round)
    round_thread = _threading.Thread(target=widget._sync, name="round")
    round_thread.start()
    round_read.wait(5)
    page_answer(widget, "label", card, 1, label="bug", suggested=None, next=None)
    answer_done.set()
    round_thread.join(5)
    page = {"card": card, "upcoming": [], "answered": {}}  # what the page's model holds, message after message
    settled = 0
    for state in sent:
        page.update(state)
        if page["answered"].get("v1", {}).get("through", 0) >= 1:
            settled += 1
            assert page["card"]["key"] != card["key"]
            assert card["key"] not in [record["key"] for record in page["upcoming"]]
    assert settled


# -- the recent answers and review on the card -----------------------------------------------------

def test_the_recent_answers_reach_the_card_newest_first_and_a_click_relabels_one_as_a_correction(labeler):
    widget, session = labeler.widget, labeler.session
    first = dict(widget.card)
    page_answer(widget, "label", first, 1, label="bug", suggested=None, next=widget.upcoming[0]["key"])
    second = dict(widget.card)
    page_answer(widget, "skip", second, 2, next=widget.upcoming[0]["key"])
    assert [(r["key"], r["action"], r["label"]) for r in widget.recent] == [(second["key"], "skip", None),
                                                                          (first["key"], "label", "bug")]
    assert widget.recent[1]["snippet"] and widget.recent[1]["open"] is True and widget.recent[1]["at"]
    json.dumps([widget.recent, widget.checks, widget.review])  # what the comm sends must be plain JSON
    labeling_card = widget.card["key"]

    widget.handle_intent({"action": "revisit", "key": first["key"], "token": None})
    assert widget.card["key"] == first["key"] and widget.card["review"] is True
    assert widget.card["given"]["label"] == "bug" and widget.review["total"] == 1
    events = len(session.store.events())
    page_answer(widget, "label", widget.card, 3, label="feature", review=True)
    assert len(session.store.events()) == events + 1 and session.store.events()[-1].source == "corrected"
    assert widget.answered["v1"] == {"through": 3, "refused": []}
    assert widget.review == {} and widget.card["key"] == labeling_card and widget.card["review"] is False
    assert widget.recent[0]["label"] == "feature" and widget.recent[0]["previous"] == "bug"
    row = session.dataset.index_value(session.dataset.position_of[first["key"]])
    assert (labeler.labeled.loc[row, "label"], labeler.labeled.loc[row, "previous_label"]) == ("feature", "bug")

    widget.handle_intent({"action": "revisit", "key": second["key"], "token": None})  # a skipped record: label it now
    assert widget.card["key"] == second["key"] and widget.card["review"] is False


def test_review_from_the_card_keeps_with_enter_corrects_with_a_key_and_walks_back_with_undo(labeler):
    widget, session = labeler.widget, labeler.session
    for label in LABELS * 2:
        intent(widget, "label", label=label)
    labeling_card = widget.card["key"]
    widget.handle_intent({"action": "review", "by": "time", "token": None})
    assert widget.review["by"] == "time" and widget.review["index"] == 1 and widget.review["total"] == 6
    assert all(record["review"] and record["given"] for record in widget.upcoming[:5])
    walk = [dict(widget.card), *widget.upcoming[:2]]
    events = len(session.store.events())
    page_answer(widget, "keep", walk[0], 1, review=True, next=walk[1]["key"])
    page_answer(widget, "label", walk[1], 2, label=walk[1]["given"]["label"], review=True, next=walk[2]["key"])
    assert len(session.store.events()) == events  # keeping (or the same label) saves nothing
    other = next(label for label in LABELS if label != walk[2]["given"]["label"])
    page_answer(widget, "label", walk[2], 3, label=other, review=True)
    assert session.store.events()[-1].source == "corrected" and widget.review["index"] == 4
    page_answer(widget, "undo", walk[2], 4)
    assert widget.answered["v1"]["refused"] == [] and widget.card["key"] == walk[2]["key"]
    assert widget.card["given"]["label"] == walk[2]["given"]["label"] and widget.card["previous_label"] == other
    page_answer(widget, "undo", walk[1], 5)  # a kept record: walked back with no event
    assert widget.card["key"] == walk[1]["key"] and widget.answered["v1"]["refused"] == []
    widget.handle_intent({"action": "review", "by": None, "token": None})
    assert widget.review == {} and widget.card["key"] == labeling_card


def test_undo_after_the_keep_that_ended_a_review_leaves_the_label_and_a_correction_still_lands(labeler):
    widget, session = labeler.widget, labeler.session
    intent(widget, "label", label="bug")
    intent(widget, "label", label="feature")
    kept = widget.recent[0]["key"]  # the record labeled "feature"
    widget.handle_intent({"action": "revisit", "key": kept, "token": None})
    card = dict(widget.card)
    assert card["key"] == kept and card["review"]
    page_answer(widget, "keep", card, 1, review=True)  # Enter: the label stands, the one-record walk ends
    assert session.reviewing is None
    page_answer(widget, "undo", card, 2, undoes="keep", review=True)
    assert "nothing to take back" in widget.answered["v1"]["refused"][-1][2]
    key = session.dataset.index_value(session.dataset.position_of[kept])
    assert session.label_of(key) == "feature"  # the label underneath the keep is not taken back
    page_answer(widget, "label", card, 3, label="question", review=True)  # the correction pressed right after
    assert session.label_of(key) == "question"


def test_undo_from_the_page_takes_back_its_answer_under_notes_saved_since_and_the_notes_stay(labeler):
    widget, session = labeler.widget, labeler.session
    first = dict(widget.card)
    page_answer(widget, "label", first, 1, label="bug", next=widget.upcoming[0]["key"])
    on_screen = dict(widget.card)
    widget.handle_intent({"action": "note", "key": on_screen["key"], "token": None, "text": "a duplicate?"})
    widget.handle_intent({"action": "note", "key": first["key"], "token": None, "text": "long one"})
    page_answer(widget, "undo", first, 2, undoes="label")
    assert widget.answered["v1"]["refused"] == []
    answered = session.dataset.index_value(session.dataset.position_of[first["key"]])
    shown = session.dataset.index_value(session.dataset.position_of[on_screen["key"]])
    assert session.label_of(answered) is None
    assert session.note_of(shown) == "a duplicate?" and session.note_of(answered) == "long one"
    page_answer(widget, "label", first, 3, label="feature")  # the correction pressed right after
    assert session.label_of(answered) == "feature" and widget.answered["v1"]["refused"] == []
    # a label saved after the page's answer (a cell) is not walked past: the undo is refused
    other = dict(widget.card)
    session.label(session.dataset.index_value(session.dataset.position_of[other["key"]]), "question")
    page_answer(widget, "undo", first, 4, undoes="label")
    assert "not the one for row" in widget.answered["v1"]["refused"][-1][2]
    assert session.label_of(answered) == "feature"


def test_undo_of_a_skip_that_saved_nothing_leaves_the_rejection_under_it(labeler):
    widget, session = labeler.widget, labeler.session
    card = dict(widget.card)
    page_answer(widget, "reject", card, 1)
    widget.handle_intent({"action": "revisit", "key": card["key"], "token": None})  # brought back, still rejected
    page_answer(widget, "skip", dict(widget.card), 2)  # answered already: the skip saves nothing
    page_answer(widget, "undo", card, 3, undoes="skip")
    assert "its skip saved nothing to take back" in widget.answered["v1"]["refused"][-1][2]
    assert session.progress["rejected"] == 1


def test_review_that_cannot_start_says_why_on_the_card_and_the_checks_follow_the_fits(labeler):
    widget = labeler.widget
    widget._on_intent(widget, {"action": "review", "by": "issues", "token": None})
    assert "no hand labels to review" in widget.error and widget.review == {}
    assert widget.checks["issues"] is None and "too few labels" in widget.checks["stop_message"]
    assert set(widget.review_orders) == {"issues", "disagreement", "label", "annotator", "time"}
    session = labeler.session
    for _ in range(12):
        intent(widget, "label", label=truth_of(session, session.current))
    session.retrain(wait=True)
    assert widget.checks["issues"] == len(labeler.label_issues())
