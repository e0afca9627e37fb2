"""The embedding map, with no front end: the projection kept beside the store, the points' colours
and roles following the session, a selection queued first, a bulk label as one undo step, and the
hover preview as plain text or an image."""

import base64
import time

import numpy as np
import pandas as pd
import pytest

from activelabel_widget import ActiveLabeler, plots
from activelabel_widget import projection_cache
from activelabel_widget.embedding_map import NOT_SCORED, UNLABELED, point_frame
from activelabel_widget.errors import LabelError

from conftest import LABELS, ticket_frame


def two_clusters(small: int = 40, big: int = 160) -> pd.DataFrame:
    """Two well separated blobs of table rows: row keys "s0".. in the small one, "b0".. in the big one."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(np.vstack([rng.normal([-5, -5], 0.3, (small, 2)), rng.normal([5, 5], 0.3, (big, 2))]),
                         columns=["f1", "f2"])
    frame.index = [f"s{i}" for i in range(small)] + [f"b{i}" for i in range(big)]
    return frame


@pytest.fixture
def labeler(tmp_path):
    made = []

    def make(df=None, **options):
        options.setdefault("store", tmp_path / "labels.db")
        options.setdefault("background", False)
        if df is None:
            df, options = two_clusters(), {"features": ["f1", "f2"], "labels": ["small", "big"], **options}
        al = ActiveLabeler(df, **options)
        made.append(al)
        return al

    yield make
    for al in made:
        if getattr(al, "session", None) is not None:  # a test may have dropped it already
            al.close()


def counting_projections(monkeypatch) -> list:
    calls = []
    real = plots.project_2d

    def project(*args, **kwargs):
        calls.append(kwargs.get("method"))
        return real(*args, **kwargs)

    monkeypatch.setattr(plots, "project_2d", project)
    return calls


# -- the projection ------------------------------------------------------------------------------

def test_the_projection_is_computed_once_and_read_back_from_beside_the_store(labeler, tmp_path, monkeypatch):
    calls = counting_projections(monkeypatch)
    first = labeler()
    xy = first.map.wait(60).frame()[["x", "y"]].to_numpy()
    first.close()
    assert calls == ["pca"]
    assert (tmp_path / "labels.db.projection.npz").exists()

    again = labeler()
    np.testing.assert_array_equal(again.map.wait(60).frame()[["x", "y"]].to_numpy(), xy)
    assert calls == ["pca"], "reopening recomputed the projection"


def test_changed_data_or_a_damaged_cache_file_is_projected_again(labeler, tmp_path, monkeypatch):
    calls = counting_projections(monkeypatch)
    labeler().map.wait(60)
    changed = two_clusters()
    changed.iloc[0, 0] = 99.0  # one row's content changed: its point must move
    labeler(changed, features=["f1", "f2"], labels=["small", "big"]).map.wait(60)
    assert len(calls) == 2
    (tmp_path / "labels.db.projection.npz").write_bytes(b"PK\x03\x04 half a file")
    labeler(changed, features=["f1", "f2"], labels=["small", "big"]).map.wait(60)
    assert len(calls) == 3


def test_a_store_in_memory_keeps_no_projection_file(labeler, tmp_path):
    labeler(store=":memory:").map.wait(60)
    assert list(tmp_path.iterdir()) == []
    assert projection_cache.cache_path(":memory:") is None


def test_a_projection_that_fails_is_said_on_the_map_and_the_card_goes_on(labeler, monkeypatch):
    def broken(*args, **kwargs):
        raise MemoryError("no room for the map")

    monkeypatch.setattr(plots, "project_2d", broken)
    al = labeler()
    with pytest.raises(RuntimeError, match="no room for the map"):
        al.map.wait(60)
    assert "could not be computed" in al.map.widget.children[0].value
    al.session.label(al.session.current, "small")  # labeling is not held up by the map
    assert len(al.labeled) == 1


# -- what the points show ------------------------------------------------------------------------

def test_point_frame_gives_every_row_its_label_prediction_confidence_source_and_role():
    xy = np.arange(10, dtype=float).reshape(5, 2)
    codes = np.array([0, -1, 1, -1, -1])
    proba = np.array([[1, 0], [0.5, 0.5], [0, 1], [0.9, 0.1], [np.nan, np.nan]])
    frame = point_frame(xy, codes, ["a", "b"], proba, [(0, "hand"), (2, "bulk")], on_card=1, queued=[3])
    assert frame["label"].tolist() == ["a", UNLABELED, "b", UNLABELED, UNLABELED]
    assert frame["predicted"].tolist() == ["a", "a", "b", "a", NOT_SCORED]  # NaN: not scored, never a guess
    assert frame["confidence"].tolist() == ["0.8-1", "0-0.2", "0.8-1", "0.4-0.6", NOT_SCORED]
    assert frame["source"].tolist() == ["hand", UNLABELED, "bulk", UNLABELED, UNLABELED]
    assert frame["role"].tolist() == ["other", "on card", "other", "next", "other"]


def test_the_frame_follows_labels_and_marks_the_card_and_the_next_records(labeler):
    al = labeler()
    frame = al.map.wait(60).frame()
    assert frame.index.equals(al.session.dataset.df.index)
    assert (frame["role"] == "on card").sum() == 1 and frame.loc[al.session.current, "role"] == "on card"
    assert (frame["role"] == "next").sum() == 20
    key = al.session.current
    al.session.label(key, "small")
    frame = al.map.frame()
    assert frame.loc[key, ["label", "source"]].tolist() == ["small", "hand"]


def test_labels_reach_the_drawn_points_without_asking(labeler):
    al = labeler()
    al.map.refresh_interval = 0.0
    scatter_widget = al.map.wait(60).widget.children[0]
    before = scatter_widget.points.copy()
    for key in ["s0", "s1", "b0", "b1"]:
        al.session.label(key, "small" if key.startswith("s") else "big")
    deadline = time.monotonic() + 10
    while np.array_equal(scatter_widget.points, before) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not np.array_equal(scatter_widget.points, before), "the map did not redraw after labels"
    np.testing.assert_array_equal(scatter_widget.points[:, :2], before[:, :2])  # the points did not move


# -- selection, queue and bulk labels ------------------------------------------------------------

def test_a_selection_is_queued_first_in_its_order_after_the_card(labeler):
    al = labeler()
    on_card = al.session.current
    chosen = ["s5", "s3", "s9"]
    assert al.map.wait(60).select(chosen) == 3
    assert list(al.map.selection) == chosen
    assert al.session.current == on_card  # the record on screen never changes under the user
    al.session.skip()
    shown = [al.session.current]
    for _ in range(2):
        al.session.label(al.session.current, "small")
        shown.append(al.session.current)
    assert shown == chosen


def test_queued_records_keep_their_place_through_a_new_fit(labeler):
    al = labeler()
    al.map.wait(60)
    for key in ["s0", "s1", "b0", "b1"]:
        al.session.label(key, "small" if key.startswith("s") else "big")
    al.queue(["b50", "s30"])
    al.retrain(wait=True)
    assert list(al.session.dataset.df.index[al.session.queued(3)[1:]]) == ["b50", "s30"]


def test_queue_passes_labeled_records_over_and_refuses_unknown_keys_whole(labeler):
    al = labeler()
    al.session.label("s1", "small")
    assert al.queue(["s1", "s2", al.session.current]) == 1
    before = al.session.queued(5).tolist()
    with pytest.raises(LabelError, match="'nope' is not in the DataFrame's index"):
        al.queue(["s4", "nope"])
    assert al.session.queued(5).tolist() == before


def test_a_bulk_label_is_one_transaction_and_one_undo_step_and_keeps_hand_labels(labeler, tmp_path):
    al = labeler()
    al.session.label("s0", "big")  # a person's label inside the region stays as it is
    al.map.wait(60).select([f"s{i}" for i in range(40)])
    assert al.map.selection_summary()["unlabeled"] == 39
    assert al.map.label_selection("small", selection_id=al.map.selection_id) == 39
    labeled = al.labeled
    assert labeled.loc["s0", "label"] == "big" and labeled.loc["s0", "source"] == "hand"
    bulk = labeled[labeled["source"] == "bulk"]
    assert len(bulk) == 39 and set(bulk["label"]) == {"small"}
    events = al.session.store.events()
    batches = {e.batch for e in events if e.source == "bulk"}
    assert len(batches) == 1 and None not in batches  # one group in the log
    al.session.undo()
    assert al.labeled.index.tolist() == ["s0"]


def test_a_selection_changed_since_the_confirmation_is_never_labeled(labeler):
    al = labeler()
    al.map.wait(60).select(["s1", "s2"])
    confirmed = al.map.selection_id
    al.map.select(["b1", "b2", "b3"])
    with pytest.raises(LabelError, match="selection on the map changed"):
        al.map.label_selection("small", selection_id=confirmed)
    assert al.labeled.empty


def test_label_many_by_keys_from_code(labeler):
    al = labeler()
    assert al.label_many(["b1", "b2"], "big") == 2
    assert al.label_many(["b1", "b2"], "big") == 0  # already labeled: nothing saved twice
    assert set(al.labeled["source"]) == {"bulk"}
    with pytest.raises(LabelError):
        al.label_many(["b3"], "huge")
    with pytest.raises(LabelError, match="Nothing is selected"):
        al.label_many([], "big")


# -- the card's side -----------------------------------------------------------------------------

def test_the_card_shows_the_selection_and_labels_it_after_confirmation(labeler):
    al = labeler()
    widget = al.widget
    assert widget.map_selection == {}
    al.map.wait(60).select(["s1", "s2", "s3"])
    assert widget.map_selection == {"id": al.map.selection_id, "count": 3, "unlabeled": 3}
    widget.handle_intent({"action": "map_label", "label": "small", "selection": al.map.selection_id})
    assert "Labeled 3 records" in widget.notice
    assert widget.map_selection["unlabeled"] == 0
    widget.handle_intent({"action": "undo"})
    assert al.labeled.empty and widget.map_selection["unlabeled"] == 3
    widget.handle_intent({"action": "map_clear"})
    assert widget.map_selection == {} and list(al.map.selection) == []


def test_a_lasso_in_the_page_selects_and_queues(labeler):
    al = labeler()
    scatter_widget = al.map.wait(60).widget.children[0]
    scatter_widget.selection = np.arange(40)  # what the page sends after a lasso round the small blob
    assert list(al.map.selection) == [f"s{i}" for i in range(40)]
    assert set(al.session.dataset.df.index[al.session.queued(41)[1:]]) == {f"s{i}" for i in range(40)} - {al.session.current}


# -- the hover preview ---------------------------------------------------------------------------

def test_hovering_shows_the_record_as_text_never_markup(labeler):
    df = ticket_frame(30)
    df.loc[df.index[0], "body"] = "<img src=x onerror=alert(1)> crash " + "long " * 200
    al = labeler(df, text="body", labels=LABELS)
    preview = al.map.wait(60).preview(0)
    line, text = preview.split("\n", 1)
    assert line == "unlabeled, not scored yet"
    assert text.startswith("<img src=x onerror=alert(1)>") and len(text) <= 280
    sent = []
    scatter_widget = al.map.widget.children[0]
    scatter_widget.send = lambda message, buffers=None: sent.append(message)
    scatter_widget._handle_custom_msg({"type": "tooltip", "index": 0, "preview": "record", "properties": []}, [])
    assert sent[0]["preview"] == preview
    al.session.label(df.index[0], "bug")
    al.map._redraw()
    assert al.map.preview(0).startswith("labeled bug (hand)\n<img")


def test_hovering_an_image_shows_its_thumbnail(labeler):
    df = pd.DataFrame({"img": [np.eye(8) * 255, np.ones((8, 8)) * 128, np.zeros((8, 8))]})
    al = labeler(df, image="img", labels=["a", "b"])
    url = al.map.wait(60).preview(0)
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1])[:4] == b"\x89PNG"


def test_a_bulk_label_passes_rejected_records_over(labeler):
    al = labeler()
    al.session.reject("s2")
    assert al.label_many(["s1", "s2", "s3"], "small") == 2
    assert bool(al.labeled.loc["s2", "rejected"]) and pd.isna(al.labeled.loc["s2", "label"])


def test_records_queued_during_review_come_first_when_labeling_resumes(labeler):
    al = labeler()
    for key in ["s0", "b0"]:
        al.session.label(key, "small" if key.startswith("s") else "big")
    reached = al.session.current
    al.review("time")
    assert al.queue(["b7", "s9"]) == 2
    assert al.session.reviewing is not None  # the review's card stays
    al.end_review()
    shown = [al.session.current]
    for _ in range(2):
        al.session.skip()
        shown.append(al.session.current)
    assert shown == ["b7", "s9", reached]


def test_a_store_folder_that_refuses_the_projection_file_still_gives_a_map(labeler, tmp_path, monkeypatch):
    import os as os_module

    def refuse(*args, **kwargs):
        raise PermissionError("read-only folder")

    monkeypatch.setattr(os_module, "replace", refuse)
    frame = labeler().map.wait(60).frame()
    assert len(frame) == 200 and not (tmp_path / "labels.db.projection.npz").exists()
    assert not list(tmp_path.glob("*.tmp"))


def test_every_colouring_names_what_it_shows(labeler):
    al = labeler()
    for key in ["s0", "s1", "b0", "b1"]:
        al.session.label(key, "small" if key.startswith("s") else "big")
    al.retrain(wait=True)
    al.map.wait(60).widget
    for by in ["predicted", "confidence", "source", "label"]:
        al.map.color(by)
        assert al.map._scatter.widget.color_title == by
    picker = al.map.widget.children[1]  # the map's own "colour by" menu
    assert picker.value == "label"
    picker.value = "source"
    assert al.map.color_by == "source" and al.map._scatter.widget.color_title == "source"
    al.map.color("label")
    assert picker.value == "label"
    with pytest.raises(ValueError, match="use one of"):
        al.map.color("size")
    al.add_label("medium")  # a label added later gets the card's colour for it on the next redraw
    assert set(al.map._color_map("label")) == {"small", "big", "medium", UNLABELED}


_BULK_LABELER = """
import sys, numpy as np, pandas as pd
from activelabel_widget import ActiveLabeler
df = pd.DataFrame(np.random.default_rng(0).normal(size=({n}, 2)), columns=["f1", "f2"])
al = ActiveLabeler(df, labels=["a", "b"], store={store!r}, background=False)
print("OPEN", flush=True)
al.label_many(df.index, "a")
print("DONE", flush=True)
"""


def test_a_kernel_killed_during_a_bulk_label_keeps_all_of_it_or_none(tmp_path):
    """SIGKILL while 100,000 bulk labels are being saved: the store opens and holds the whole group or nothing."""
    import signal
    import sqlite3
    import subprocess
    import sys

    n = 100_000
    outcomes = []
    for delay in (0.0, 0.05, 0.2, 0.5):
        store = tmp_path / f"bulk-{delay}.db"
        worker = subprocess.Popen([sys.executable, "-c", _BULK_LABELER.format(n=n, store=str(store))],
                                  stdout=subprocess.PIPE, text=True)
        assert worker.stdout.readline().strip() == "OPEN"
        time.sleep(delay)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        with sqlite3.connect(store) as conn:
            saved = conn.execute("SELECT COUNT(*) FROM events WHERE source = 'bulk'").fetchone()[0]
        assert saved in (0, n), f"killed {delay} s in: {saved:,} of {n:,} bulk labels in the store"
        outcomes.append(saved)
        reopened = ActiveLabeler(pd.DataFrame(np.random.default_rng(0).normal(size=(n, 2)), columns=["f1", "f2"]),
                                 labels=["a", "b"], store=store, background=False)
        assert len(reopened.labeled) == saved
        reopened.close()
    assert outcomes[0] == 0  # killed at once: nothing half-saved


def test_the_map_takes_the_background_the_card_reports(labeler):
    al = labeler()
    widget = al.widget
    widget.notice = "3 labels restored"
    widget.handle_intent({"action": "theme", "background": "#212121"})
    assert widget.notice == "3 labels restored"  # said as the card is drawn: nothing else changes
    al.map.wait(60).widget
    assert al.map.scatter.widget.background_color[:3] == pytest.approx([33 / 255] * 3)
    widget.handle_intent({"action": "theme", "background": "url(javascript:alert(1))"})  # not a colour: ignored
    assert al.map.scatter.widget.background_color[:3] == pytest.approx([33 / 255] * 3)


def test_a_map_whose_labeler_was_replaced_lets_go_of_it_and_says_so(labeler, tmp_path):
    import gc
    import weakref

    first = labeler(background=True)
    first.map.wait(60).widget
    old_session = weakref.ref(first.session)
    old_map = first.map
    second = labeler(background=True)  # the cell run again: the newer labeler takes the store over
    deadline = time.monotonic() + 10
    while old_map._session is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "no longer follows labels" in old_map.error and "took over" in old_map.error
    assert old_map.error in old_map.widget.children[-1].value  # said under the map
    with pytest.raises(RuntimeError, match="no longer follows labels"):
        old_map.select(["s1"])
    old_map.scatter.widget.selection = np.arange(3)  # a lasso on the old picture changes nothing
    assert list(second.map.wait(60).selection) == []
    first.close()
    first.__dict__.clear()  # the user's `al` now names the newer labeler: only the old map's page views remain
    gc.collect()
    assert old_session() is None, "the replaced labeler's session (and its data) is still held"
