"""The embedding map: every record of the pool as a point, linked to the labeling card.

``al.map`` draws the 2-D projection of the embeddings (:meth:`.Insights.map_2d`, computed once in
the background and kept beside the store) with jupyter-scatter, a WebGL scatter widget that draws
millions of points. Points are coloured by label, predicted label, confidence or source; the
record on the card is drawn largest and the next records in the line larger than the rest. The
map follows the session: labels appear as they are made, redrawn in the background at most every
quarter second, and never taking more than a tenth of the kernel's time from the card (a redraw
sends each point's colour and size again: about a second of work and 16 MB at a million points,
so there the map catches up every ten seconds or so).

A selection on the map (a click on a point, or a lasso: the lasso button of the map's toolbar, then
drag round the points; or a long press, then drag) is queued first in the line, in the order the
points were selected; the card shows how many are selected and offers to label all of them at once,
after a confirmation (``source="bulk"``, one undo step, one transaction). Hovering a point shows its record's text (as text, never HTML) or a
thumbnail of its image, fetched from the kernel for that one point.

Everything works without a front end: :attr:`~EmbeddingMap.selection`, :meth:`~EmbeddingMap.select`,
:meth:`~EmbeddingMap.frame`, :meth:`~EmbeddingMap.label_selection`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from .errors import LabelError
from .images import image_data_url
from .plots import label_colors
from .sources import BULK, SOURCES

__all__ = ["EmbeddingMap", "COLOR_BY", "point_frame"]

#: What the points can be coloured by.
COLOR_BY = ("label", "predicted", "confidence", "source")
#: The point's role, drawn as its size: the record on the card, the next in the line, the rest.
ROLES = ("on card", "next", "other")
_ROLE_SIZES = {"on card": 16, "next": 8, "other": 3}
UNLABELED = "unlabeled"
NOT_SCORED = "not scored"
#: Confidence (1 - normalised entropy) in five bins, so the legend reads as words.
CONFIDENCE_BINS = ("0-0.2", "0.2-0.4", "0.4-0.6", "0.6-0.8", "0.8-1")
_CONFIDENCE_COLORS = ("#d7301f", "#fc8d59", "#fdcc8a", "#9ecae1", "#2171b5")
_GREY = "#9aa0a6"
#: Characters of a record's text shown when its point is hovered.
PREVIEW_CHARS = 280
#: The columns behind a point's colour and size (its position never changes).
_ENCODED = ("label", "predicted", "confidence", "source", "role")
#: A redraw after labels waits at least this many times as long as the last one took.
REDRAW_SHARE = 10
#: How many records after the card's are marked as next.
NEXT_MARKED = 20


def point_frame(xy, codes, labels, proba, sources, on_card, queued) -> pd.DataFrame:
    """The map's columns for every row, as categoricals (cheap to send, readable in the legend).

    ``xy`` (n, 2); ``codes`` (n,) hand label codes, -1 where none; ``proba`` (n, K) or None
    (rows of NaN are not scored yet); ``sources`` (n,) object array of label sources (None where
    unlabeled); ``on_card`` a position or None; ``queued`` positions of the next records.
    """
    n = len(codes)
    labels = list(labels)
    label = pd.Categorical.from_codes(np.where(codes >= 0, codes, len(labels)), categories=[*labels, UNLABELED])
    if proba is None:
        scored = np.zeros(n, dtype=bool)
        predicted_codes = np.full(n, len(labels))
        bins = np.full(n, len(CONFIDENCE_BINS))
    else:
        from .strategies import confidence

        scored = np.isfinite(proba).all(axis=1)
        safe = np.where(scored[:, None], proba, 1.0 / proba.shape[1])
        predicted_codes = np.where(scored, safe.argmax(axis=1), len(labels))
        bins = np.where(scored, np.minimum((confidence(safe) * len(CONFIDENCE_BINS)).astype(np.int64),
                                           len(CONFIDENCE_BINS) - 1), len(CONFIDENCE_BINS))
    predicted = pd.Categorical.from_codes(predicted_codes, categories=[*labels, NOT_SCORED])
    confidence_bin = pd.Categorical.from_codes(bins, categories=[*CONFIDENCE_BINS, NOT_SCORED])
    source_codes = np.full(n, len(SOURCES))
    lookup = {name: code for code, name in enumerate(SOURCES)}
    for position, name in sources:
        source_codes[position] = lookup.get(name, len(SOURCES))
    source = pd.Categorical.from_codes(source_codes, categories=[*SOURCES, UNLABELED])
    role_codes = np.full(n, ROLES.index("other"))
    role_codes[np.asarray(queued, dtype=np.int64)] = ROLES.index("next")
    if on_card is not None:
        role_codes[on_card] = ROLES.index("on card")
    role = pd.Categorical.from_codes(role_codes, categories=list(ROLES))
    xy = np.asarray(xy, dtype=np.float32)
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "label": label, "predicted": predicted,
                         "confidence": confidence_bin, "source": source, "role": role})


class EmbeddingMap:
    """An interactive scatter of the whole pool, linked to the labeling card; see the module docstring.

    Created by :attr:`ActiveLabeler.map <activelabel_widget.ActiveLabeler.map>`; display it (last
    line of a cell), or :meth:`ActiveLabeler.show_map` for the map beside the card.
    """

    def __init__(self, session, insights, *, color_by: str = "label", height: int = 360):
        if color_by not in COLOR_BY:
            raise ValueError(f"color_by={color_by!r}: use one of {list(COLOR_BY)}.")
        self._session = session
        self.insights = insights
        self.color_by = color_by
        # the plot fits the data's height to its own: at least as wide as high, so no point is out of view
        self.height = int(height)
        #: Least seconds between two redraws that follow labels (and at least :data:`REDRAW_SHARE` times the
        #: last redraw's own time, so the map never takes more than a tenth of the kernel from the card).
        self.refresh_interval = 0.25
        #: Why the map could not be drawn ("" when it could).
        self.error = ""
        self._lock = threading.RLock()
        self._ready = threading.Event()
        self._selection = np.empty(0, dtype=np.int64)
        self._selection_id = 0
        self._queued_count = 0  # how many of the selection were queued (an echo of it gives the same count)
        self._listeners: list[Callable[[], None]] = []
        self._scatter = None
        self._box = None
        self._picker = None
        self._background = None  # the page's, once the card has said it (a dark theme gets a dark map)
        self._frame: pd.DataFrame | None = None
        self._dirty = threading.Event()
        self._closed = False
        self._unsubscribe = lambda: None
        threading.Thread(target=self._prepare, name="activelabel-map", daemon=True).start()

    @property
    def session(self):
        """The labeling session the map shows; a map that stopped (its labeler closed or was replaced) says why."""
        if self._session is None:
            raise RuntimeError(self.error or "This map is closed.")
        return self._session

    # -- the projection, in the background -------------------------------------------------------
    def _prepare(self) -> None:
        try:
            self.insights.map_2d()
        except Exception as error:  # shown where the map would be; the card goes on
            self.error = f"The map could not be computed: {type(error).__name__}: {error}"
            self._ready.set()
            self._show_status(self.error)
            return
        with self._lock:
            if self._closed:
                return
            self._frame = self._current_frame()
            self._unsubscribe = self.session.subscribe(self._dirty.set)
        self._ready.set()
        if self._box is not None:
            self._attach_scatter()
        threading.Thread(target=self._follow_session, name="activelabel-map-refresh", daemon=True).start()

    @property
    def ready(self) -> bool:
        """True once the projection exists (the map can be drawn and queried)."""
        return self._ready.is_set() and not self.error

    def wait(self, timeout: float | None = 300.0) -> "EmbeddingMap":
        """Block until the projection exists (for scripts and tests); raises when it could not be computed."""
        if not self._ready.wait(timeout):
            raise TimeoutError(f"the map's projection was not ready within {timeout} s")
        if self.error:
            raise RuntimeError(self.error)
        return self

    # -- what the map shows ----------------------------------------------------------------------
    def _current_frame(self) -> pd.DataFrame:
        session = self.session
        xy = self.insights.map_2d()
        codes = self._codes()
        proba, _ = session.model_proba()
        if proba is not None and session.multi_label:  # the least sure label's side is not one class: no colour
            proba = None
        on_card = session.current_position
        queued = session.queued(NEXT_MARKED + 1)  # the card's record first, when there is one
        positions, sources = session.label_sources()
        return point_frame(xy, codes, session.labels, proba, zip(positions.tolist(), sources),
                           on_card, queued[1:] if on_card is not None else queued)

    def _codes(self) -> np.ndarray:
        session = self.session
        if not session.multi_label:
            return session.hand_codes()
        sets = session.hand_sets()  # a labeled record takes the colour of the first label of its set
        return np.where(sets.any(axis=1), sets.argmax(axis=1), -1)

    def frame(self) -> pd.DataFrame:
        """Every row as the map shows it, indexed like the data: ``x``, ``y``, ``label``, ``predicted``,
        ``confidence`` (in bins), ``source`` and ``role`` ("on card", "next", "other")."""
        self.wait()
        frame = self._current_frame()
        frame.index = self.session.dataset.df.index
        return frame

    def color(self, by: str) -> None:
        """Colour the points by ``"label"``, ``"predicted"``, ``"confidence"`` or ``"source"``."""
        if by not in COLOR_BY:
            raise ValueError(f"color by {by!r}: use one of {list(COLOR_BY)}.")
        self.color_by = by
        if self._picker is not None:
            self._picker.value = by
        if self._scatter is not None:
            with self._lock:
                self._scatter._color_order = None  # the order kept for the other column's categories
                self._scatter.color(by=by, map=self._color_map(by))

    def _color_map(self, by: str) -> dict:
        labels = list(self.session.labels)
        if by == "confidence":
            return {**dict(zip(CONFIDENCE_BINS, _CONFIDENCE_COLORS)), NOT_SCORED: _GREY}
        if by == "source":
            from .plots import _SOURCE_COLORS

            return {**{name: _SOURCE_COLORS.get(name, _GREY) for name in SOURCES}, UNLABELED: _GREY}
        colors = dict(zip(labels, label_colors(len(labels))))  # the card's colours, for the labels of now
        missing = UNLABELED if by == "label" else NOT_SCORED
        return {**{name: colors.get(name, _GREY) for name in labels}, missing: _GREY}

    # -- the selection ---------------------------------------------------------------------------
    @property
    def selection(self) -> pd.Index:
        """The index values of the records selected on the map (a click or a lasso), in selection order."""
        with self._lock:
            return self.session.dataset.df.index[self._selection]

    @property
    def selection_id(self) -> int:
        """Changes with every new selection (the card's confirmation names the selection it confirms)."""
        return self._selection_id

    def select(self, keys) -> int:
        """Select these records (index values), as a lasso would: they are queued first; returns how many queued."""
        queued = self._selected(self.session.positions_of(keys))
        if self._scatter is not None:  # the page shows it; its echo of the same selection changes nothing
            self._scatter.selection(self._selection.tolist())
        return queued

    def clear_selection(self) -> None:
        """Select nothing (the records queued stay in the line)."""
        if self._scatter is not None:
            self._scatter.selection([])
        self._selected(np.empty(0, dtype=np.int64))

    def _selected(self, positions: np.ndarray) -> int:
        positions = np.asarray(positions, dtype=np.int64)
        with self._lock:
            if np.array_equal(positions, self._selection):
                return self._queued_count
            self._selection = positions
            self._selection_id += 1
        queued = self.session.queue_positions(positions, reason="selected on the map") if len(positions) else 0
        self._queued_count = queued
        for listener in list(self._listeners):
            listener()
        return queued

    def set_background(self, color: str) -> None:
        """Draw the map on ``color`` ("#rrggbb"), e.g. the notebook theme's (the card reports it)."""
        self._background = color
        with self._lock:
            if self._scatter is not None:
                _paint_background(self._scatter, color)

    @property
    def scatter(self):
        """The ``jscatter.Scatter`` behind the map (None until it is shown), for what jupyter-scatter offers
        beyond it, e.g. ``al.map.scatter.zoom(to=[...])`` or ``al.map.scatter.legend(position="bottom-right")``."""
        return self._scatter

    def selection_summary(self) -> dict:
        """What the card says of the selection: ``{id, count, unlabeled}``."""
        with self._lock:
            positions, selection_id = self._selection, self._selection_id
        unlabeled = int(self.session.open_to_label(positions).sum())
        return {"id": selection_id, "count": int(len(positions)), "unlabeled": unlabeled}

    def on_selection(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` after every change of the selection; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def label_selection(self, label: str, *, selection_id: int | None = None) -> int:
        """Label every unlabeled record of the selection ``label`` (``source="bulk"``): one transaction,
        one undo step. Records that already carry a label keep it; rejected records stay rejected.
        ``selection_id`` (from the card's confirmation) must name the current selection, so a selection
        changed since is never labeled. Returns how many records were labeled."""
        with self._lock:
            if selection_id is not None and selection_id != self._selection_id:
                raise LabelError("The selection on the map changed since you confirmed; nothing was labeled. "
                                 "Confirm the new selection to label it.")
            positions = self._selection
        return label_many(self.session, positions, label)

    # -- following the session -------------------------------------------------------------------
    def _follow_session(self) -> None:
        while not self._closed:
            self._dirty.wait()
            if self._closed:
                return
            self._dirty.clear()
            session = self._session
            if session is not None and session.closed_because:  # the cell was run again: let its data go
                self._retire(session.closed_because)
                return
            started = time.perf_counter()
            try:
                self._redraw()
            except Exception as error:  # a redraw that fails leaves the last picture; say why
                self.error = f"The map could not follow the labels: {type(error).__name__}: {error}"
            # the card's answers share the kernel: redraws take at most a tenth of its time (a redraw costs
            # about a second at a million points, milliseconds at a few thousand)
            spent = time.perf_counter() - started
            threading.Event().wait(max(self.refresh_interval, REDRAW_SHARE * spent))

    def _redraw(self) -> None:
        with self._lock:  # one thread at a time changes the scatter (a redraw, a new colouring)
            frame = self._current_frame()
            changed = [name for name in _ENCODED if self._frame is None or not frame[name].equals(self._frame[name])]
            self._frame = frame
            scatter = self._scatter
            if not changed or scatter is None:
                return
            # the points do not move: only the columns behind the colour and the size are given again, with
            # their maps (jscatter codes a categorical column by the categories present, so the order it kept
            # for the old ones would not fit); under hold_sync the points reach the page once
            with scatter.widget.hold_sync():
                for name in changed:
                    scatter._data[name] = frame[name]
                scatter._color_order = scatter._size_order = None
                scatter.color(by=self.color_by, map=self._color_map(self.color_by))
                scatter.size(by="role", map=_ROLE_SIZES)

    # -- the widget ------------------------------------------------------------------------------
    @property
    def widget(self):
        """The map as a widget: a note while the projection is computed, then the scatter."""
        import ipywidgets

        if self._box is None:
            self._status = ipywidgets.Label(f"computing the map of {len(self.session.dataset):,} records…")
            # at least as wide as high: the plot fits the data's height to its own, so no point is out of view
            self._box = ipywidgets.VBox([self._status], layout=ipywidgets.Layout(min_width=f"{self.height}px",
                                                                                 flex=f"1 1 {self.height}px"))
            self._box.add_class("al-map")
            if self.ready:
                self._attach_scatter()
            elif self.error:
                self._show_status(self.error)
        return self._box

    def _show_status(self, text: str) -> None:
        if self._box is not None:
            self._status.value = text
            if self._status not in self._box.children:  # under the map, which keeps its view
                self._box.children = (*self._box.children, self._status)

    def _attach_scatter(self) -> None:
        with self._lock:
            if self._scatter is None:
                self._scatter = self._make_scatter(self._frame)
        import ipywidgets

        picker = ipywidgets.Dropdown(options=list(COLOR_BY), value=self.color_by, description="colour by",
                                     layout=ipywidgets.Layout(width="220px"))
        picker.observe(lambda change: change["new"] != self.color_by and self.color(change["new"]), names="value")
        self._picker = picker
        self._box.children = (self._scatter.widget, picker)

    def _make_scatter(self, frame: pd.DataFrame):
        import jscatter

        preview_type = "image" if self.session.dataset.kind == "image" else "text"
        x_scale, y_scale = _square_view(frame["x"].to_numpy(), frame["y"].to_numpy())
        scatter = jscatter.Scatter(data=frame, x="x", y="y", x_scale=x_scale, y_scale=y_scale,
                                   height=self.height, axes=False, legend=True,
                                   color_by=self.color_by, color_map=self._color_map(self.color_by),
                                   size_by="role", size_map=_ROLE_SIZES,
                                   opacity_unselected=0.35, lasso_initiator=True)
        # only the colouring among the properties: each listed column costs a pass over every point (2.8 s at a
        # million); the preview says the rest
        scatter.tooltip(True, properties=["color"], preview_type=preview_type, preview_text_lines=8)
        scatter.widget.tooltip_preview = "record"  # no column of that name: the text comes from _on_tooltip
        if self._background is not None:
            _paint_background(scatter, self._background)
        widget = scatter.widget
        widget.show(["pan_zoom", "lasso", "divider", "full_screen", "reset"])  # the lasso is a button away
        # the hovered record's text or image comes from the session, for that point only (the scatter's data
        # holds no text, and no text becomes HTML: the tooltip sets textContent); the widget answers the
        # page's tooltip request in its own _handle_tooltip, which this instance attribute stands in for
        widget._handle_tooltip = lambda event: self._on_tooltip(widget, event)
        widget.observe(self._on_widget_selection, names="selection")
        return scatter

    def _on_widget_selection(self, change) -> None:
        if self._closed:
            return
        selected = change["new"]
        self._selected(np.empty(0, dtype=np.int64) if selected is None else np.asarray(selected, dtype=np.int64))

    def _on_tooltip(self, widget, event) -> None:
        if not isinstance(event, dict) or event.get("type") != "tooltip":
            return
        position = int(event["index"])
        widget.send({"type": "tooltip", "index": position, "preview": self.preview(position), "properties": {}})

    def describe(self, position: int) -> str:
        """One line on what the map knows of a point: its label and source, or the model's prediction."""
        frame = self._frame
        if frame is None or not 0 <= position < len(frame):
            return ""
        row = frame.iloc[position]
        if row["label"] != UNLABELED:
            return f"labeled {row['label']} ({row['source']})"
        if row["predicted"] == NOT_SCORED:
            return "unlabeled, not scored yet"
        return f"unlabeled · predicted {row['predicted']} (confidence {row['confidence']})"

    def preview(self, position: int) -> str:
        """What hovering a point shows: a line on its label or prediction, then the record's text (cut to
        :data:`PREVIEW_CHARS`); for images, the image as a data URL (base64 of the card's image bytes)."""
        dataset = self.session.dataset
        if dataset.kind == "image":
            payload = dataset.payload(position)
            if not payload.image:
                return ""
            return image_data_url(payload.image)
        line = self.describe(position)
        text = dataset.snippet(position, width=PREVIEW_CHARS)
        return f"{line}\n{text}" if line else text

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def close(self) -> None:
        """Stop following the session and let go of it (the picture stays in the page)."""
        self._retire("it was closed")

    def _retire(self, reason: str) -> None:
        self._closed = True
        self._unsubscribe()
        self._unsubscribe = lambda: None
        self.error = f"This map no longer follows labels: its labeler stopped ({reason})."
        self._dirty.set()
        with self._lock:
            if self._scatter is not None:  # hovering asks nothing more of the session
                self._scatter.widget._handle_tooltip = lambda event: None
            self._session, self.insights, self._frame = None, None, None
        self._show_status(self.error)

def label_many(session, positions, label: str) -> int:
    """Label the unlabeled rows among ``positions`` ``label`` with ``source="bulk"``, as one undo step."""
    positions = np.asarray(positions, dtype=np.int64)
    if not len(positions):
        raise LabelError("Nothing is selected: lasso a region of the map (or pass keys) to label it.")
    positions = positions[session.open_to_label(positions)]  # a label or a rejection already given stays
    if not len(positions):
        return 0
    return session.label_many(positions, [label] * len(positions), source=BULK)


def _paint_background(scatter, color: str) -> None:
    """``scatter.background(color)`` without its axes colour: jupyter-scatter 1.0 draws the axes on any change
    of their colour, even with the axes off."""
    from jscatter.utils import calculate_luminance
    from matplotlib.colors import to_rgba

    scatter._background_color = to_rgba(color)
    scatter._background_color_luminance = calculate_luminance(scatter._background_color)
    widget = scatter.widget
    with widget.hold_sync():
        widget.background_color = scatter._background_color
        widget.reticle_color = scatter.get_reticle_color()
        widget.legend_color = scatter.get_legend_color()
        widget.tooltip_color = scatter.get_tooltip_color()


def _square_view(x: np.ndarray, y: np.ndarray, margin: float = 0.08) -> tuple[tuple, tuple]:
    """Both axes' ranges: the same span (distances on the map mean the same across and down), round the
    data's centre, with a margin so the outermost points are not cut by the plot's edge."""
    if not len(x):
        return (-1.0, 1.0), (-1.0, 1.0)
    centre = ((x.min() + x.max()) / 2, (y.min() + y.max()) / 2)
    half = max(x.max() - x.min(), y.max() - y.min(), 1e-9) * (0.5 + margin)
    return ((float(centre[0] - half), float(centre[0] + half)), (float(centre[1] - half), float(centre[1] + half)))


