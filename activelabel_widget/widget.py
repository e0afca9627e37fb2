"""The anywidget class: traitlets that mirror the session, handlers that turn intents into calls.

Nothing else lives here: no queue, no training, no layout. See ``docs/protocol.md`` for the
traits and intents.
"""

from __future__ import annotations

import pathlib
import threading
import anywidget
import traitlets

from .errors import ActiveLabelError
from .session import LabelingSession

__all__ = ["LabelingWidget"]

_STATIC = pathlib.Path(__file__).parent / "static"

#: A suggestion whose confidence (1 - normalised entropy) is below this is weak: the card styles it
#: so, and Enter accepts it only when pressed a second time on the same card. With two labels, 0.3
#: is a top probability of about 81%; with three, about 73% (the rest split evenly).
WEAK_SUGGESTION_BELOW = 0.3


class LabelingWidget(anywidget.AnyWidget):
    """The labeling card for one :class:`~activelabel_widget.session.LabelingSession`."""

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    card = traitlets.Dict().tag(sync=True)
    """The record on the card: token, key, key_label, kind, text, fields, problem, reason, previous_label."""
    image = traitlets.Bytes(b"").tag(sync=True)
    """PNG bytes of the current record's image, empty when none."""
    labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
    """Label names in key order."""
    progress = traitlets.Dict().tag(sync=True)
    """``{labeled, total, session, skipped}``."""
    suggestion = traitlets.Dict().tag(sync=True)
    """``{}`` or ``{label, confidence, weak, accuracy}`` for the record on the card."""
    model_status = traitlets.Dict().tag(sync=True)
    """``{state, message, accuracy, n_labels, fits}``."""
    votes = traitlets.List().tag(sync=True)
    """``[[heuristic, label or None], ...]`` on the record on the card."""
    strategy = traitlets.Unicode("").tag(sync=True)
    """The query strategy in use."""
    strategies = traitlets.List(traitlets.Unicode()).tag(sync=True)
    """Strategies the user can switch to."""
    strategy_help = traitlets.Dict().tag(sync=True)
    """Strategy name -> one sentence on what it does (tooltips and the key map)."""
    store_path = traitlets.Unicode("").tag(sync=True)
    """Where every label is saved: relative to the notebook's folder when inside it."""
    error = traitlets.Unicode("").tag(sync=True)
    """The last user-facing error, empty when none."""
    notice = traitlets.Unicode("").tag(sync=True)
    """A short neutral message, empty when none."""
    confidence_png = traitlets.Bytes(b"").tag(sync=True)
    """The confidence-distribution plot for the insights panel."""
    coverage_png = traitlets.Bytes(b"").tag(sync=True)
    """The embedding-coverage plot for the insights panel."""

    def __init__(self, session: LabelingSession, *, votes_for=None, insights=None, **kwargs):
        """``votes_for(position)`` gives the heuristics' votes; ``insights`` draws the plots."""
        from .strategies import STRATEGIES, describe

        super().__init__(**kwargs)
        self.session = session
        self._votes_for = votes_for
        self._insights = insights
        self._shown_fits = 0
        self._render_lock = threading.Lock()
        self._sync_lock = threading.Lock()  # trait writes from the kernel and a round's thread stay apart
        self._armed_token = None  # the card on which Enter was pressed once on a weak suggestion
        self.labels = list(session.labels)
        self.strategies = list(STRATEGIES)
        self.strategy_help = {name: describe(name) for name in STRATEGIES}
        self.store_path = _display_path(session.store_path)
        self.on_msg(self._on_intent)
        self._unsubscribe = session.subscribe(self._sync)
        self._sync()

    # -- intents ---------------------------------------------------------------------------------
    def _on_intent(self, _widget, content, _buffers=None) -> None:
        """Handle one intent from the card; errors are shown on the card, never swallowed."""
        if not isinstance(content, dict):
            return
        with self.hold_sync():  # the intent's whole effect reaches the card as one message
            try:
                self.handle_intent(content)
            except ActiveLabelError as error:
                self.error = str(error)
            except Exception as error:  # an observer's exception would vanish in the comm layer: show it
                self.error = f"{type(error).__name__}: {error}"

    def handle_intent(self, content: dict) -> None:
        """Turn an intent into a session call (public so tests can drive it with no browser)."""
        action = content.get("action")
        session = self.session
        if session is None:
            self.error = "This card no longer labels: use the newest card of this labeler."
            return
        with self.hold_sync():
            if action in ("label", "accept", "skip", "undo") and not self._is_current(content):
                self.notice = "That card was already answered; nothing changed. The card now shows the next record."
                self._sync()
                return
            self.notice = ""
            self.error = ""
            if action == "label":
                session.label(session.current, str(content.get("label")))
            elif action == "accept":
                self._accept(content)
            elif action == "skip":
                session.skip()
            elif action == "undo":
                if session.undo() is None:
                    self.notice = "Nothing to undo."
            elif action == "retrain":
                session.retrain()
            elif action == "strategy":
                session.set_strategy(str(content.get("name")))
            else:
                self.notice = f"Unknown action {action!r} ignored."
            self._sync()

    def _accept(self, content: dict) -> None:
        """Enter accepts a strong suggestion at once; a weak one only when pressed again on the same card."""
        suggestion = self.suggestion
        if suggestion.get("weak") and self._armed_token != content.get("token"):
            self._armed_token = content.get("token")
            self.notice = (f"Weak suggestion ({suggestion['label']}, confidence {suggestion['confidence']:.2f}): "
                           "press Enter again to accept it, or press the key of the right label.")
            return
        self._armed_token = None
        self.session.accept()

    def _is_current(self, content: dict) -> bool:
        card = self.card
        return content.get("token") == card.get("token") and content.get("key") == card.get("key")

    # -- state -----------------------------------------------------------------------------------
    def _sync(self) -> None:
        """Mirror the session into the traits (after every change, from any thread).

        One consistent snapshot, written under ``hold_sync`` so the card gets one message per
        change: never the new record with the old suggestion, or an image before its card.
        """
        session = self.session
        if session is None:
            return
        if session.closed_because:
            self._retire(session.closed_because)
            return
        with self._sync_lock:
            view = session.snapshot()
            with self.hold_sync():
                if self.card.get("token") != view.token:
                    self._sync_card(view)
                elif self.card.get("reason") != view.reason:  # e.g. a fit or the index came since it was picked
                    self.card = {**self.card, "reason": view.reason}
                self.progress = view.progress
                suggestion = view.suggestion
                self.suggestion = {} if suggestion is None else {
                    "label": suggestion[0], "confidence": round(suggestion[1], 4),
                    "weak": suggestion[1] < WEAK_SUGGESTION_BELOW, "accuracy": view.model_status["accuracy"]}
                self.model_status = view.model_status
                self.strategy = view.strategy
                self.votes = self._votes_for(view.position) if self._votes_for and view.position is not None else []
        if self._insights is not None and view.fits != self._shown_fits:
            # after each fit (never on a click), drawn off the kernel's main thread
            self._shown_fits = view.fits
            threading.Thread(target=self.refresh_insights, name="activelabel-insights", daemon=True).start()

    def _retire(self, reason: str) -> None:
        """The session stopped (e.g. the cell was run again): say so on this card and let go of it."""
        with self.hold_sync():
            self.image = b""
            self.card = {"token": -1, "key": "", "key_label": "", "kind": "empty", "fields": [], "problem": "",
                         "reason": "", "previous_label": None,
                         "text": "This card no longer labels: use the newest card of this labeler."}
            self.error = f"This labeler stopped: {reason}. Nothing more is saved from this card."
        self._release()

    def _release(self) -> None:
        # the widget stays registered with the front end; the session, its data and models must not
        self._unsubscribe()
        self._unsubscribe = lambda: None
        self.session, self._votes_for, self._insights = None, None, None

    def refresh_insights(self) -> None:
        """Draw the confidence and coverage plots for the insights panel (blocking; see ``_sync``)."""
        insights = self._insights
        if insights is None:
            return
        with self._render_lock:
            try:
                confidence_png, coverage_png = insights.card_pngs()
            except Exception as error:  # a plot must never take the card down: say what went wrong
                self.notice = f"The insights plots could not be drawn: {type(error).__name__}: {error}"
                return
            with self.hold_sync():
                self.confidence_png, self.coverage_png = confidence_png, coverage_png

    def _sync_card(self, view) -> None:
        if view.position is None:
            total = view.progress["total"]
            done = view.progress["labeled"] == total
            text = (f"All {total:,} records are labeled. Use `.labeled` or `.to_frame()` on the labeler in the next cell."
                    if done else "Nothing left in the line right now.")
            self.image = b""
            self.card = {"token": view.token, "key": "", "key_label": "", "kind": "done" if done else "empty",
                         "text": text, "fields": [], "problem": "", "reason": "", "previous_label": None}
            return
        payload = view.payload
        self.image = payload.image
        self.card = {
            "token": view.token, "key": view.key, "key_label": view.key_label, "kind": payload.kind,
            "text": payload.text, "fields": payload.fields, "problem": payload.problem,
            "reason": view.reason, "previous_label": view.previous_label,
        }

    def close(self) -> None:
        self._release()
        super().close()


def _display_path(path: str) -> str:
    """The store's path as the user thinks of it: relative to the working folder when inside it."""
    try:
        return str(pathlib.Path(path).relative_to(pathlib.Path.cwd()))
    except ValueError:
        return path
