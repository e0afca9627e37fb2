"""The anywidget class: traitlets that mirror the session, handlers that turn intents into calls.

Nothing else lives here: no queue, no training, no layout. See ``docs/protocol.md`` for the
traits and intents.
"""

from __future__ import annotations

import pathlib
import re
import threading
from contextlib import contextmanager

import anywidget
import traitlets

from . import options
from .errors import ActiveLabelError
from .page_depth import MOST_TIMES, PageDepth
from .payload_cache import PayloadCache
from .session import LabelingSession
from .sources import ACCEPTED, CORRECTED, HAND

__all__ = ["LabelingWidget"]

_STATIC = pathlib.Path(__file__).parent / "static"

#: A suggestion whose confidence (1 - normalised entropy) is below this is weak: the card styles it
#: so, and Enter accepts it only when pressed a second time on the same record. With two labels, 0.3
#: is a top probability of about 81%; with three, about 73% (the rest split evenly).
WEAK_SUGGESTION_BELOW = 0.3

#: Intents that answer one record; each carries the page's ``view`` id and a ``seq`` number.
ANSWERS = ("label", "accept", "skip", "undo", "keep", "reject")

#: Recent answers the card lists (newest first).
RECENT_SHOWN = 6

#: Refusals kept per view in ``answered`` (the page shows those newer than what it has seen).
_REFUSALS_KEPT = 20

#: What a record of the page's line says that never changes: it travels once (docs/protocol.md).
_LINE_CONTENT = frozenset({"key_label", "kind", "text", "fields", "problem", "image"})


class LabelingWidget(anywidget.AnyWidget):
    """The labeling card for one :class:`~activelabel_widget.session.LabelingSession`."""

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    card = traitlets.Dict().tag(sync=True)
    """The record on the card: token, key, key_label, kind, text, fields, problem, reason, previous_label."""
    image = traitlets.Bytes(b"").tag(sync=True)
    """PNG bytes of the current record's image, empty when none."""
    labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
    """Label names, in the order of the buttons."""
    key_map = traitlets.Dict().tag(sync=True)
    """Label name -> its key on the card (null: no key, click the button); see :mod:`activelabel_widget.keymap`."""
    label_colors = traitlets.Dict().tag(sync=True)
    """Label name -> its colour (hex), the same as in the plots (:func:`activelabel_widget.plots.label_colors`)."""
    guidelines = traitlets.Dict().tag(sync=True)
    """Label name -> a short guideline shown in the key map and on its button's tooltip."""
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
    upcoming = traitlets.List().tag(sync=True)
    """The records after the card, in line order, each with everything the card shows (the page's short line)."""
    answered = traitlets.Dict().tag(sync=True)
    """Per page view: ``{through, refused}``: the last answer committed, and recent refusals."""
    recent = traitlets.List().tag(sync=True)
    """The newest answers, newest first: ``{key, key_label, snippet, action, label, previous, source, annotator, at,
    count, open}``."""
    review = traitlets.Dict().tag(sync=True)
    """``{}`` while labeling; ``{by, caption, index, total}`` while walking labeled records again."""
    review_orders = traitlets.Dict().tag(sync=True)
    """Review order name -> how the card names it."""
    multi_label = traitlets.Bool(False).tag(sync=True)
    """Whether a record carries a set of labels: keys and buttons toggle labels, Enter saves the set."""
    checks = traitlets.Dict().tag(sync=True)
    """``{issues, stop_ready, stop_message}``: hand labels that look wrong (null before a cross-validated fit), and
    the stop hint."""
    map_selection = traitlets.Dict().tag(sync=True)
    """``{id, count, unlabeled}``: the records selected on the embedding map (queued first); ``{}`` when none."""
    preload = traitlets.Int(options.DEFAULT_PRELOAD, read_only=True).tag(sync=True)
    """How many records the page holds at least (the card's and the ones after it): the page gets the pictures
    of as many ready. Set when the labeler is made (``preload=``)."""

    def __init__(self, session: LabelingSession, *, votes_for=None, insights=None,
                 preload: int = options.DEFAULT_PRELOAD, key_map: dict | None = None, guidelines: dict | None = None,
                 **kwargs):
        """``votes_for(position)`` gives the heuristics' votes; ``insights`` draws the plots; ``preload`` is
        how many records the page holds (the card's and the ones after it); ``key_map`` is label -> key
        (default: :func:`~activelabel_widget.keymap.assign_keys` of the labels); ``guidelines`` is label ->
        a short guideline."""
        from .keymap import assign_keys

        from .review import REVIEW_ORDERS
        from .strategies import STRATEGIES, describe

        super().__init__(**kwargs)
        self.session = session
        self._votes_for = votes_for
        self._insights = insights
        self._shown_fits = 0  # the fit the plots were last drawn for
        self._plots_wanted = False  # the insights panel is open on the card: draw the plots after each fit
        self._render_lock = threading.Lock()
        # every batch of trait writes holds this lock: ipywidgets' hold_sync is one per widget, not per
        # thread, so without it a round's thread could send its older view of the line together with
        # an answer the kernel's thread has just settled (and the page would show that record again)
        self._sync_lock = threading.RLock()
        self._preload = options.check_preload(preload)
        self.set_trait("preload", self._preload)
        self._depth = PageDepth(self._preload)  # the records sent for the page's line: more while the kernel lags
        session.team_window = self._preload  # a team store leases what the page holds: the card and the next ones
        # payloads of the records the page holds and of the next ones, which a worker prepares ahead
        # for images (encoding one on the answer's path cost 10-50 ms)
        self._payloads = PayloadCache(session.dataset.payload, 2 * MOST_TIMES * self._preload)
        self._prepare_ahead = session.dataset.kind == "image"
        self._content_sent: set = set()  # keys of the records (the line's and the card's) whose content the page holds
        self._answered: dict = {}  # view -> {"through": seq, "refused": [[seq, key, message], ...]}
        self._waiting: dict = {}  # view -> {seq: (action, content)} that came before an earlier seq
        self._answers_lock = threading.Lock()
        self.labels = list(session.labels)
        self.multi_label = session.multi_label
        self.key_map = dict(key_map) if key_map is not None else assign_keys(session.labels)
        self.label_colors = _colors(session.labels)
        self.guidelines = dict(guidelines or {})
        self.strategies = list(STRATEGIES)
        self.strategy_help = {name: describe(name) for name in STRATEGIES}
        self.review_orders = dict(REVIEW_ORDERS)
        self.store_path = _display_path(session.store_path)
        self.on_msg(self._on_intent)
        self._handling = None  # the thread handling an intent: it syncs once at the end, not on every change
        self._unsubscribe = session.subscribe(self._on_session_change)
        if self._prepare_ahead:
            unsubscribe_changes, unsubscribe_ranking = self._unsubscribe, session.subscribe_ranking(self._new_ranking)
            self._unsubscribe = lambda: (unsubscribe_changes(), unsubscribe_ranking())
        self._map = None
        self._unlink_map = lambda: None
        self._background = None  # the page's background, as the card reports it
        self._sync()

    def _page_background(self, color) -> None:
        """Remember the page's background ("#rrggbb") and give it to the map, which draws its own."""
        if isinstance(color, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", color):
            self._background = color
            if self._map is not None:
                self._map.set_background(color)

    def link_map(self, embedding_map) -> None:
        """Show the embedding map's selection on the card and take its bulk label from there."""
        self._unlink_map()
        self._map = embedding_map
        if self._background is not None:
            embedding_map.set_background(self._background)
        self._unlink_map = embedding_map.on_selection(self._sync_map_selection)
        self._sync_map_selection()

    def _sync_map_selection(self) -> None:
        summary = self._map.selection_summary() if self._map is not None else {}
        with self._batch():
            self.map_selection = summary if summary.get("count") else {}

    # -- intents ---------------------------------------------------------------------------------
    def _on_intent(self, _widget, content, _buffers=None) -> None:
        """Handle one intent from the card; errors are shown on the card, never swallowed."""
        if not isinstance(content, dict):
            return
        with self._batch():  # the intent's whole effect reaches the card as one message
            try:
                self.handle_intent(content)
            except ActiveLabelError as error:
                self.error = str(error)
            except Exception as error:  # an observer's exception would vanish in the comm layer: show it
                self.error = f"{type(error).__name__}: {error}"

    def handle_intent(self, content: dict) -> None:
        """Turn an intent into a session call (public so tests can drive it with no browser)."""
        action = content.get("action")
        if action == "theme":  # the page's background (said once, as the card is drawn): no notice is cleared
            self._page_background(content.get("background"))
            return
        session = self.session
        if session is None:
            self.error = "This card no longer labels: use the newest card of this labeler."
            return
        with self._batch():
            self.notice = ""
            self.error = ""
            self._handling = threading.get_ident()
            try:
                if action in ANSWERS:
                    self._answer(action, content)
                elif action == "answers":  # pressed while earlier answers were on their way: sent together
                    for answer in content.get("answers") or []:
                        if isinstance(answer, dict) and answer.get("action") in ANSWERS:
                            self._answer(answer["action"], answer)
                elif action == "retrain":
                    session.retrain()
                elif action == "strategy":
                    session.set_strategy(str(content.get("name")))
                elif action == "review":
                    by = content.get("by")
                    if by:
                        session.review(str(by))
                    else:
                        session.end_review()
                elif action == "revisit":
                    self._revisit(session, content.get("key"))
                elif action == "note":
                    self._note(session, content)
                elif action == "map_label":
                    self._map_label(content)
                elif action == "map_clear":
                    if self._map is not None:
                        self._map.clear_selection()
                elif action == "line":  # a page that lacks the content of records in its line (a new view)
                    self._content_sent = set()
                elif action == "plots":
                    self._plots_wanted = bool(content.get("open"))
                    if self._plots_wanted and self._shown_fits != session.model_status.fits:
                        self._draw_plots(session.model_status.fits)
                else:
                    self.notice = f"Unknown action {action!r} ignored."
            finally:
                self._handling = None
                self._sync()

    def _answer(self, action: str, content: dict) -> None:
        """Apply answers from the page's line in the order they were pressed (``seq``), to the
        record each names (the one the user saw).

        The kernel may hand comm messages to their handler out of order (ipykernel dispatches a
        comm message that arrives while another is being handled at once), so an answer that
        comes before the one pressed before it waits here until that one has come. One the
        session cannot take (the record is already labeled, e.g. by an earlier answer; a key
        not in the data) changes nothing: it is listed under ``answered[view]["refused"]`` and
        said in ``notice``. Either way its ``seq`` becomes the view's ``through``, so the page
        knows it is settled.
        """
        view, seq = str(content.get("view") or ""), content.get("seq")
        if not view or not isinstance(seq, int):  # a caller with no page line (scripts, tests)
            self._settle(action, content)
            return
        self._depth.note(content.get("behind"))
        with self._answers_lock:
            entry = self._answered.get(view, {"through": 0, "refused": []})
            waiting = self._waiting.setdefault(view, {})
            if seq > entry["through"]:
                waiting[seq] = (action, content)
            refused = list(entry["refused"])
            while entry["through"] + 1 in waiting:
                next_seq = entry["through"] + 1
                next_action, next_content = waiting.pop(next_seq)
                refusal = self._settle(next_action, next_content)
                if refusal:
                    refused.append([next_seq, str(next_content.get("key") or ""), refusal])
                entry = {"through": next_seq, "refused": refused[-_REFUSALS_KEPT:]}
            self._answered[view] = entry
            self.answered = {name: dict(value) for name, value in self._answered.items()}

    def _map_label(self, content: dict) -> None:
        """The card confirmed labeling the map's selection: label it (one undo step) and say how many."""
        if self._map is None:
            self.error = "No map is linked to this card: open it with al.show_map()."
            return
        label = str(content.get("label"))
        labeled = self._map.label_selection(label, selection_id=content.get("selection"))
        self.notice = f"Labeled {labeled:,} records from the map {label!r} (one undo step: z takes them all back)."
        self._sync_map_selection()

    def _settle(self, action: str, content: dict) -> str:
        """Do one answer; return why it was refused ("" when it was saved)."""
        try:
            refusal = self._apply_answer(self.session, action, content)
        except ActiveLabelError as error:
            refusal = str(error)
            self.error = refusal
        if refusal:
            self.notice = self.notice or refusal
        return refusal

    def _apply_answer(self, session: LabelingSession, action: str, content: dict) -> str:
        """The session calls for one answer, then the session's card follows the page's next record."""
        if action == "undo":
            return self._undo(session, content)
        if content.get("review") or action == "keep":
            return self._apply_review_answer(session, action, content)
        refusal = self._apply_label_or_skip(session, action, content)
        shown_next = session.dataset.position_of.get(content.get("next"))
        if shown_next is not None:  # the page shows this record now: the session's card follows it
            session.show(session.dataset.index_value(shown_next), self._reason_ahead(content.get("next")))
        return refusal

    def _undo(self, session: LabelingSession, content: dict) -> str:
        expected = session.dataset.position_of.get(content.get("key")) if content.get("seq") is not None else None
        if expected is not None:
            # the page walks back its answers: notes saved since (the note field) stay
            undoes = content.get("undoes") if content.get("undoes") in ANSWERS else None
            if content.get("review") and undoes in ("keep", "skip"):
                undoes = "keep"  # in review, a skip keeps the label too
            if session.undo_answer(session.dataset.index_value(expected), undoes):
                return ""
            row = session.dataset.key_label(expected)
            if undoes == "keep":  # the keep ended the review and saved nothing: the label underneath stays
                return f"Row {row} kept its label in the review that ended; there was nothing to take back."
            if undoes == "skip":  # a skip of a record answered already (brought back) saved nothing
                return f"Row {row} was answered already, so its skip saved nothing to take back."
            return f"The last saved answer is not the one for row {row}, so nothing was undone."
        if session.undo() is None:
            return "Nothing to undo."
        return ""

    def _apply_review_answer(self, session: LabelingSession, action: str, content: dict) -> str:
        """An answer on a record shown in review: another label corrects it, anything else keeps it."""
        position = session.dataset.position_of.get(content.get("key"))
        if position is None:
            return "That record is not in the data any more; nothing changed."
        index = session.dataset.index_value(position)
        if session.label_of(index) is None:
            return f"Row {session.dataset.key_label(position)} has no label any more (it was taken back); nothing changed."
        if action == "label":
            session.label(index, content.get("label") if session.multi_label else str(content.get("label")))
        elif action == "reject":
            session.reject(index)
        elif session.reviewing is not None:
            session.keep(index)
        return ""

    def _note(self, session: LabelingSession, content: dict) -> None:
        position = session.dataset.position_of.get(content.get("key"))
        if position is None:
            self.notice = "That record is not in the data any more; the note was not saved."
            return
        session.note(session.dataset.index_value(position), str(content.get("text") or ""))

    def _revisit(self, session: LabelingSession, key) -> None:
        """Bring a record from the recent answers back on the card: a labeled one to relabel (a
        one-record review), a skipped one to label now."""
        position = session.dataset.position_of.get(key)
        if position is None:
            self.notice = "That record is not in the data any more."
            return
        index = session.dataset.index_value(position)
        if session.label_of(index) is not None:
            session.review(keys=[index])
        else:
            session.end_review()
            session.show(index, "brought back from the recent answers")

    def _reason_ahead(self, key) -> str:
        return next((record["reason"] for record in self.upcoming if record["key"] == key), "")

    def _apply_label_or_skip(self, session: LabelingSession, action: str, content: dict) -> str:
        position = session.dataset.position_of.get(content.get("key"))
        if position is None:
            return "That record is not in the data any more; nothing changed."
        index = session.dataset.index_value(position)
        row = session.dataset.key_label(position)
        already = session.label_of(index)
        if already is not None:
            return f"Row {row} already has the label {already!r} (from an earlier answer); nothing changed."
        if action == "skip":
            session.skip(index)
            return ""
        if action == "reject":
            session.reject(index)
            return ""
        shown = content.get("suggested")  # the suggestion the user saw for this record, if any
        confidence = content.get("confidence")
        confidence = float(confidence) if isinstance(confidence, (int, float)) else None
        if action == "accept":
            label = content.get("label", shown)
            if label is None:
                if position != session.current_position or session.suggestion is None:
                    return "There was no suggestion on that record to accept; press the key of its label."
                label, confidence = session.suggestion
            session.label(index, label if session.multi_label else str(label), source=ACCEPTED, confidence=confidence)
            return ""
        label = content.get("label") if session.multi_label else str(content.get("label"))
        if "suggested" in content:  # the page says what it showed: the source follows from that
            differs = (set(shown) != set(label) if session.multi_label and isinstance(shown, list)
                       and isinstance(label, list) else shown != label)
            source = CORRECTED if shown is not None and differs else HAND
            session.label(index, label, source=source, confidence=confidence if shown is not None else None)
        else:
            session.label(index, label)
        return ""

    @contextmanager
    def _batch(self):
        """Trait writes that reach the card as one message, with no other thread's writes mixed in."""
        with self._sync_lock, self.hold_sync():
            yield

    def _on_session_change(self) -> None:
        # changes made by the intent being handled are synced once when it is done; a round's
        # thread syncs its own changes at once
        if self._handling != threading.get_ident():
            self._sync()

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
        depth = self._depth.records
        if self._prepare_ahead:
            self._prepare_line(session, depth)
        with self._batch():
            session.team_window = depth
            view = session.snapshot(ahead=depth - 1)
            if list(self.labels) != list(view.labels):  # a label added, removed or renamed: keys stay where they were
                from .keymap import assign_keys

                keep, guidelines = dict(self.key_map), dict(self.guidelines)
                renamed = _renamed(self.labels, view.labels)
                if renamed is not None:  # the new name takes the old one's key and guideline
                    old, new = renamed
                    keep[new] = keep.pop(old, None)
                    if old in guidelines:
                        guidelines[new] = guidelines.pop(old)
                self.key_map = assign_keys(view.labels, keep=keep)
                self.guidelines = guidelines
                self.label_colors = _colors(view.labels)
                self.labels = list(view.labels)
            accuracy = view.model_status["accuracy"]
            if self.card.get("token") != view.token or (self.card.get("same") and view.key not in self._content_sent):
                self._sync_card(view)  # a new card, or one named by key to a page that asked for the content again
            elif self.card.get("reason") != view.reason or self.card.get("note") != view.note:
                # a fit or the index came since it was picked, or a note was saved on it
                self.card = {**self.card, "reason": view.reason, "note": view.note}
            self.progress = {**view.progress, "per_label": list(view.label_counts)}
            self.suggestion = self._suggestion(view.suggestion, accuracy, view.position)
            self.model_status = view.model_status
            self.strategy = view.strategy
            self.votes = self._votes(view.position)
            self.upcoming = self._line_ahead(view.ahead, accuracy)
            if view.position is not None:  # the page holds the card's content too (as its copy or by key)
                self._content_sent.add(view.key)
            self.review = view.review or {}
            self.recent = self._recent(session)
            issues, hint = session.checks()
            self.checks = {"issues": issues, "stop_ready": bool(hint.ready), "stop_message": hint.message}
            if self.map_selection:  # labels change how many of the map's selection are still unlabeled
                self._sync_map_selection()
        if self._plots_wanted and view.fits != self._shown_fits:
            self._draw_plots(view.fits)

    def _draw_plots(self, fits: int) -> None:
        """Draw the insights plots for this fit off the kernel's main thread. Only while the panel is
        open: matplotlib holds the interpreter for a while, and the card's answers share it."""
        if self._insights is None:
            return
        self._shown_fits = fits
        threading.Thread(target=self.refresh_insights, name="activelabel-insights", daemon=True).start()

    def _retire(self, reason: str) -> None:
        """The session stopped (e.g. the cell was run again): say so on this card and let go of it."""
        with self._batch():
            self.image = b""
            self.card = {"token": -1, "key": "", "key_label": "", "kind": "empty", "fields": [], "problem": "",
                         "reason": "", "previous_label": None, "review": False, "given": None, "note": "",
                         "text": "This card no longer labels: use the newest card of this labeler."}
            self.error = f"This labeler stopped: {reason}. Nothing more is saved from this card."
        self._release()

    def _release(self) -> None:
        # the widget stays registered with the front end; the session, its data and models must not
        self._payloads.close()
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
                with self._batch():
                    self.notice = f"The insights plots could not be drawn: {type(error).__name__}: {error}"
                return
            with self._batch():
                self.confidence_png, self.coverage_png = confidence_png, coverage_png

    def _votes(self, position: int | None) -> list:
        return self._votes_for(position) if self._votes_for and position is not None else []

    def _line_ahead(self, records, accuracy) -> list:
        """The page's line after the card. A record's content (text, fields, image) never changes, so
        it travels once: a record that was in the line sent before comes as ``same: true`` with only
        what may have changed (reason, suggestion, votes, review), and the page keeps its content.
        Each answer then costs the page a few small records, not the whole line with its images."""
        sent = self._content_sent
        entries = [self._ahead(record, accuracy, content=record.key not in sent) for record in records]
        self._content_sent = {record.key for record in records}
        if all(entry.get("same") for entry in entries) and _what_may_change(entries) == _what_may_change(self.upcoming):
            # the line sent last, now named by key only: the page holds it already, so nothing is sent
            # (without this every answer's top-up cost the page a second message a moment later)
            return self.upcoming
        return entries

    def _ahead(self, record, accuracy, content: bool = True) -> dict:
        """One record of the page's line: what the card shows for it, with its content (its image as
        bytes) or, when the page holds that already, ``same: true``."""
        entry = {"key": record.key, "reason": record.reason,
                 "suggestion": self._suggestion(record.suggestion, accuracy, record.position),
                 "votes": self._votes(record.position), "review": record.given is not None,
                 "given": self._given(record.given), "note": record.note}
        if not content:
            entry["same"] = True
            return entry
        payload = self._payload(record.position)
        entry.update(key_label=record.key_label, kind=payload.kind, text=payload.text, fields=payload.fields,
                     problem=payload.problem, image=payload.image)
        return entry

    def _given(self, given) -> dict | None:
        """The label a record shown in review carries, as the card reads it."""
        if given is None:
            return None
        shown = {**given._asdict(), "label": self._shown_label(given.label)}
        if self.multi_label:
            from .multilabel import decode_set, is_label_set

            shown["labels"] = decode_set(given.label) if is_label_set(given.label) else []
        return shown

    def _shown_label(self, label: str | None) -> str | None:
        """A stored label as the card names it (a label set as "a + b", or "no label")."""
        if label is None or not self.multi_label:
            return label
        from .multilabel import display_set, is_label_set

        return display_set(label) if is_label_set(label) else label

    def _suggestion(self, suggestion, accuracy: float | None, position: int | None) -> dict:
        """The suggestion as the card reads it: ``{}`` or ``{label, confidence, weak, accuracy}``; for label sets
        also ``labels`` (the suggested names) and ``per_label`` (label -> probability)."""
        shown = _suggestion(suggestion, accuracy)
        if shown and self.multi_label:
            from .multilabel import decode_set, display_set

            session = self.session
            probabilities = session.label_probabilities(position) if session is not None and position is not None else None
            shown.update(labels=decode_set(suggestion[0]), label=display_set(suggestion[0]),
                         per_label={} if probabilities is None else
                         {name: round(p, 4) for name, p in zip(session.labels, probabilities)})
        return shown

    def _recent(self, session: LabelingSession) -> list:
        dataset = session.dataset
        return [{"key": None if a.key is None else dataset.keys[dataset.position(a.key)], "key_label": a.key_label,
                 "snippet": a.snippet, "action": a.action, "label": self._shown_label(a.label),
                 "previous": self._shown_label(a.previous),
                 "source": a.source, "annotator": a.annotator, "at": a.at, "count": a.count, "open": a.open,
                 "note": a.note}
                for a in session.recent_answers(RECENT_SHOWN)]

    def _payload(self, position: int):
        """The record's payload, kept for the records the page holds (images are encoded once)."""
        return self._payloads.get(position)

    def _new_ranking(self, positions) -> None:
        """A fit ranked the pool anew: prepare the images of the line it brings before it replaces the
        old one (on the round's thread), so the answers after a fit find them ready."""
        session = self.session
        if session is None or session.reviewing is not None:
            return
        depth = self._depth.records
        self._prepare(session.first_open(positions, depth + max(depth, self._preload)), depth)

    def _prepare_line(self, session: LabelingSession, depth: int) -> None:
        """Prepare the images of the page's line, and have the worker prepare as many records after
        it as the line holds: the next answers bring them into the line, a whole burst of them at
        once while the kernel lags, and the line itself grows then.

        Done before the sync takes the lock the answers wait for: after a fit a round's thread
        may find a line of new records, and encodes them without holding up an answer. On an
        answer's path the line's records were prepared ahead and are only looked up.
        """
        if session.reviewing is not None:
            return  # a review walks its own order; its records are prepared as they come
        self._prepare([int(p) for p in session.queued(depth + max(depth, self._preload))], depth)

    def _prepare(self, line: list[int], depth: int) -> None:
        """Prepare the first ``depth`` records of ``line`` now and have the worker prepare the rest."""
        self._payloads.prepare(line[depth:])
        for position in line[:depth]:
            self._payloads.get(position)

    def _sync_card(self, view) -> None:
        if view.position is None:
            total, labeled, rejected = (view.progress[name] for name in ("total", "labeled", "rejected"))
            done = labeled + rejected >= total  # a rejected record is answered too
            everything = (f"All {total:,} records are labeled" if not rejected else
                          f"All {total:,} records are answered ({labeled:,} labeled, {rejected:,} rejected)")
            text = (f"{everything}. Use `.labeled` or `.to_frame()` on the labeler in the next cell."
                    if done else "Nothing left in the line right now.")
            self.image = b""
            self.card = {"token": view.token, "key": "", "key_label": "", "kind": "done" if done else "empty",
                         "text": text, "fields": [], "problem": "", "reason": "", "previous_label": None,
                         "review": False, "given": None, "note": ""}
            return
        card = {"token": view.token, "key": view.key, "reason": view.reason,
                "previous_label": self._shown_label(view.previous_label), "review": view.given is not None,
                "given": self._given(view.given), "note": view.note}
        if view.key in self._content_sent:
            # the page was sent this record's content in its line and shows it from there: the card
            # names it, and its text and image (up to 0.5 MB of PNG) do not cross the wire again
            self.image = b""
            self.card = {**card, "same": True}
            return
        payload = self._payload(view.position)
        self.image = payload.image
        self.card = {**card, "key_label": view.key_label, "kind": payload.kind, "text": payload.text,
                     "fields": payload.fields, "problem": payload.problem}

    def close(self) -> None:
        self._unlink_map()
        self._release()
        super().close()


def _renamed(before, after) -> tuple[str, str] | None:
    """``(old, new)`` when ``after`` is ``before`` with one name changed in place, else None."""
    if len(before) != len(after):
        return None
    changed = [(old, new) for old, new in zip(before, after) if old != new]
    return changed[0] if len(changed) == 1 and changed[0][1] not in before else None


def _what_may_change(entries) -> list:
    """The page's line without the records' content (sent once) and how it is named: what a new
    line must differ in to be worth a message."""
    return [{name: value for name, value in entry.items() if name not in _LINE_CONTENT and name != "same"}
            for entry in entries]


def _colors(labels) -> dict:
    """Each label's colour, the one the plots give it."""
    from .plots import label_colors

    return dict(zip(labels, label_colors(len(labels))))


def _suggestion(suggestion: tuple[str, float] | None, accuracy: float | None) -> dict:
    """The suggestion as the card reads it: ``{}`` or ``{label, confidence, weak, accuracy}``."""
    if suggestion is None:
        return {}
    return {"label": suggestion[0], "confidence": round(suggestion[1], 4), "weak": suggestion[1] < WEAK_SUGGESTION_BELOW,
            "accuracy": accuracy}


def _display_path(path: str) -> str:
    """The store's path as the user thinks of it: relative to the working folder when inside it."""
    try:
        return str(pathlib.Path(path).relative_to(pathlib.Path.cwd()))
    except ValueError:
        return path
