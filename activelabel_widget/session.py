"""The headless labeling session: data, store, line and background rounds wired together.

Works in a script with no front end; the widget only mirrors :meth:`LabelingSession.snapshot`.
The click path (:meth:`~LabelingSession.label`, :meth:`~LabelingSession.skip`,
:meth:`~LabelingSession.undo`) commits one event to the store, applies it through the same state
machine a restart replays (:mod:`.events`), and takes the next record from the line: no work
over the whole pool. Fitting, scoring and ranking happen in background rounds (:mod:`.rounds`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from . import handoff, options, records
from . import models as _models
from .dataset import CardPayload, Dataset
from .errors import LabelError, ModelError, StoreMismatchError
from .events import LabelState, paused_gc
from .features import validate_embeddings
from .line import Line, RankedLine
from .rounds import FitRecord, FittedModel, ModelStatus, PreparedPool, RetrainPolicy, RoundInputs, RoundResult, run_round
from .runner import BackgroundRunner
from .sources import ACCEPTED, CORRECTED, HAND, HUMAN_SOURCES
from .store import LabelStore, default_store_path

__all__ = ["LabelingSession", "CardSnapshot"]

#: The line is ranked again in the background when fewer than this many ranked records remain.
_REFILL_BELOW = 64


#: Rows of the fixed sample on which the stop hint compares successive fits' predictions.
STOP_SET_SIZE = 1000

#: Why a record was picked before the pool was ready to rank.
RANDOM_WHILE_PREPARING = "random order while the embedding index is built"


@dataclass(frozen=True)
class CardSnapshot:
    """Everything the card shows, read at one instant (see :meth:`LabelingSession.snapshot`)."""

    token: int
    position: int | None
    key: str
    key_label: str
    payload: CardPayload | None
    reason: str
    previous_label: str | None
    suggestion: tuple[str, float] | None
    progress: dict
    model_status: dict
    strategy: str
    fits: int
    ahead: tuple = ()  # AheadRecord for the records after the card, in line order
    label_counts: tuple = ()  # hand labels per label, in label order


class AheadRecord(NamedTuple):
    """A record queued after the card: where it is, why it was picked, and the model's suggestion."""

    position: int
    key: str
    key_label: str
    reason: str
    suggestion: tuple[str, float] | None


class LabelingSession:
    """Label a DataFrame one record at a time, with a model that trains as you label.

    Parameters
    ----------
    df : pandas.DataFrame
        The records; the index is the row identity and must be unique.
    labels : list of str
        At least two distinct label names; keys ``1``..``9`` and ``0`` map to the first ten.
    text, image, features, show
        What to show and learn from; see :class:`~activelabel_widget.dataset.Dataset`.
    store : str or Path, optional
        SQLite file where every label is saved as it is made; ``":memory:"`` keeps nothing
        after :meth:`close`. Default: a file next to the notebook (see :attr:`store_path`).
    model : estimator or list of estimators, optional
        scikit-learn classifiers (or Pipelines) fitted on the features; a list is a committee.
        Never fitted in place. Default: :func:`~activelabel_widget.models.default_model`.
    strategy : str
        Query strategy, one of :data:`activelabel_widget.strategies.STRATEGIES` (default "hybrid").
    retrain_every : int
        Retrain after this many new labels (default 10); training first starts as soon as two
        labels have two examples each.
    embeddings : str or array (n, d), optional
        A column of vectors or an array in the DataFrame's order, for diversity and coverage.
    annotator : str, optional
        Who labels (default: the login name), saved with every label.
    fit_timeout : float, optional
        Seconds after which a background round is abandoned and the previous model kept.
    random_state : int
        Seed for every random choice.
    background : bool
        Run rounds in a background thread (default). ``False`` runs them inline (scripts, tests,
        simulations): every label that makes a fit due fits before it returns.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"body": ["app crashes", "add dark mode", "how do I log in?"]})
    >>> s = LabelingSession(df, text="body", labels=["bug", "feature", "question"], store=":memory:")
    >>> s.label(s.current, "bug"); len(s.labeled)
    1
    >>> s.close()
    """

    def __init__(self, df: pd.DataFrame, *, labels, text=None, image=None, features=None, show=None, store=None,
                 model=None, strategy: str = "hybrid", retrain_every: int = 10, embeddings=None,
                 annotator: str | None = None, fit_timeout: float | None = 600.0, random_state: int = 0,
                 background: bool = True):
        from .strategies import check_strategy

        self.labels = options.check_labels(labels)
        self.strategy = check_strategy(strategy)
        retrain_every = options.check_retrain_every(retrain_every)
        self.random_state = options.check_seed(random_state)
        self.dataset = Dataset(df, text=text, image=image, features=features, show=show)
        user_embeddings = validate_embeddings(embeddings, self.dataset) if embeddings is not None else None
        self._estimators = _models.check_estimators(model) or [_models.default_model(self.dataset.kind)]
        self.annotator = annotator or options.login_name()
        self._label_code = {name: code for code, name in enumerate(self.labels)}
        self.pool = PreparedPool(self.dataset, embeddings=user_embeddings, random_state=self.random_state)
        self.pool.on_progress = self._preparing

        n = len(self.dataset)
        self._lock = threading.RLock()
        self._state = LabelState()
        self._codes = np.full(n, -1, dtype=np.int32)  # hand label code by position, -1 = none
        self._has_label = np.zeros(n, dtype=bool)  # any label in force (hand or weak)
        self._line = Line()
        self._skipped: set[int] = set()  # positions of skipped records (in the line's back, or on the card)
        self._n_labeled = 0
        self._session_labels = 0
        self._listeners: list[Callable[[], None]] = []
        self._model: FittedModel | None = None
        self.model_status = ModelStatus(message="label two examples each of two labels to start training")
        self.fit_history: list[FitRecord] = []
        # a fixed sample the stop hint compares successive fits on (seeded: the same every restart)
        self._stop_set = np.sort(np.random.default_rng(self.random_state).permutation(n)[:STOP_SET_SIZE])
        self._stop_predictions: list[np.ndarray] = []  # per fit: the predicted label codes on the stop set
        self._policy = RetrainPolicy(retrain_every)
        self._refit_requested = False
        self._round_refits = False
        #: Optional ``() -> (n,) array in [0, 1] or None`` added to the strategy's ranking (conflicts).
        self.priority_boost: Callable[[], np.ndarray | None] | None = None
        self._background = background
        # rounds take at most about half the time while labels come fast: the card's answers share
        # the interpreter with them (see runner.py)
        self._runner = BackgroundRunner(self._round, on_done=self._swap_in, on_error=self._round_failed,
                                        time_limit=fit_timeout,
                                        rest=lambda result, seconds: seconds if result.fitted is not None else 0.0)
        self._current: int | None = None
        self._current_reason = ""
        self._picked_at_fit = 0
        self._previous_label: str | None = None
        self.card_token = 0
        #: Why this session no longer labels ("" while it does).
        self.closed_because = ""

        # the store is opened last: matching its labels to the data fills the arrays above
        if store is None:
            store = default_store_path()
        memory = str(store) == ":memory:"
        self.store_path = ":memory:" if memory else str(Path(store).expanduser().absolute())
        self.store = LabelStore(None if memory else self.store_path, labels=self.labels,
                                on_taken_over=self._taken_over, check=self._restore)

        # until the embedding index is built, explore in a seeded random order, never index order
        order = np.random.default_rng(self.random_state).permutation(n)
        self._line.replace_ranked(RankedLine(order, [RANDOM_WHILE_PREPARING] * n, "random"))
        if _models.ready_to_train(self.label_counts()):
            self._refit_requested = True
            self._policy.started(int((self._codes >= 0).sum()))
        self.request_rerank()
        if self._current is None:
            self._advance()

    @property
    def retrain_every(self) -> int:
        """Retrain after this many new labels."""
        return self._policy.every

    # -- reading ---------------------------------------------------------------------------------
    @property
    def current(self):
        """The index value of the record on the card, or None when nothing is left to label."""
        with self._lock:
            return None if self._current is None else self.dataset.index_value(self._current)

    @property
    def current_position(self) -> int | None:
        """The position (row number) of the record on the card, or None."""
        return self._current

    @property
    def current_reason(self) -> str:
        """Why the record on the card was picked."""
        return self._current_reason

    @property
    def previous_label(self) -> str | None:
        """The label the record on the card had before an undo brought it back."""
        return self._previous_label

    def current_payload(self) -> CardPayload | None:
        """What the card shows for the current record (None when done)."""
        position = self._current
        return None if position is None else self.dataset.payload(position)

    def snapshot(self, ahead: int = 0) -> CardSnapshot:
        """What the card shows, read consistently under the session's lock (the card's one read).

        ``ahead`` asks for that many records after the card too (the page's short line), with
        their reasons and suggestions from the same instant.
        """
        with self._lock:
            position = self._current
            return CardSnapshot(
                self.card_token, position,
                "" if position is None else self.dataset.keys[position],
                "" if position is None else self.dataset.key_label(position),
                None if position is None else self.dataset.payload(position),
                self._reason_now(), self._previous_label, self.suggestion, self.progress,
                self.model_status.as_dict(), self.strategy, self.model_status.fits,
                tuple(AheadRecord(p, self.dataset.keys[p], self.dataset.key_label(p), reason, self._suggestion_at(p))
                      for p, reason in self._line.peek_with_reasons(ahead, self._is_open)) if ahead > 0 else (),
                tuple(int(c) for c in self.label_counts()))

    def _reason_now(self) -> str:
        """Why the card's record was picked, marked when a fit has come since (the reason predates it)."""
        if self._current_reason == RANDOM_WHILE_PREPARING and self.pool.ready:
            return "random order (picked while the embedding index was being built)"
        if self._current is not None and self.model_status.fits > self._picked_at_fit:
            return f"{self._current_reason} · picked before the latest fit"
        return self._current_reason

    def queued(self, k: int) -> np.ndarray:
        """Positions of the record on the card and the next ``k - 1`` in the line."""
        with self._lock:
            head = [] if self._current is None else [self._current]
            return np.asarray(head + self._line.peek(k - len(head), self._is_open), dtype=np.int64)

    def skipped(self) -> list:
        """Index values of the skipped records, oldest skip first (the back of the line)."""
        with self._lock:
            return [self.dataset.index_value(self.dataset.position_of[key]) for key in self._state.skipped]

    def hand_codes(self) -> np.ndarray:
        """(n,) int64: each row's hand label code (index into :attr:`labels`), -1 where none."""
        with self._lock:
            return self._codes.astype(np.int64)

    def label_counts(self) -> np.ndarray:
        """Hand labels per label, (K,) ints."""
        with self._lock:
            return np.bincount(self._codes[self._codes >= 0], minlength=len(self.labels))

    def label_issues(self) -> pd.DataFrame:
        """Hand-labeled rows whose label is likely wrong, most likely first.

        Confident learning on the out-of-fold probabilities of the latest fit (see
        :mod:`activelabel_widget.label_issues` for the rule, which ``attrs["rule"]`` names). Columns:
        ``label`` (given), ``suggested`` (the model's label) and ``score`` (1 - the out-of-fold
        probability of the given label). Empty, with ``attrs["reason"]`` saying why, before the
        first fit or while there are too few labels per class to judge.
        """
        from .label_issues import RULE, find_label_issues, label_issue_frame

        with self._lock:
            model, codes = self._model, self._codes.copy()
        if model is None or model.held_out is None or model.held_out[1].proba is None:
            frame = pd.DataFrame({"label": [], "suggested": [], "score": []})
            frame.attrs.update(rule=RULE, reason="no cross-validated fit yet: label a few examples of each label first")
            return frame
        positions, checked = model.held_out
        still = codes[positions] >= 0  # labels undone since the fit are not judged
        issues = find_label_issues(codes[positions][still], checked.proba[still])
        keys = self.dataset.df.index[positions[still]]
        frame = label_issue_frame(keys, self.labels, issues)
        frame.attrs.update(rule=issues.rule, reason=issues.reason)
        return frame

    def stop_hint(self):
        """Whether more labels are unlikely to help much (:class:`~activelabel_widget.stopping.StopHint`).

        From the rounds themselves: successive fits' predictions on a fixed sample of
        :data:`STOP_SET_SIZE` rows agree (Cohen's kappa >= 0.99 three times running), the
        cross-validated accuracy has levelled off, and every label has at least five hand labels;
        see :mod:`activelabel_widget.stopping`.
        """
        from .stopping import stop_hint

        with self._lock:
            predictions = list(self._stop_predictions)
            accuracies = [record.accuracy for record in self.fit_history]
            counts = self.label_counts()
        return stop_hint(predictions, accuracies, counts, label_names=self.labels)

    def model_proba(self, *, held_out: bool = False):
        """The model's probabilities over the pool: (mean (n, K), each member (m, n, K) or None).

        With ``held_out=True`` the rows the model was trained on carry their out-of-fold
        probabilities instead (NaN where no fold scored them), so the model can be graded on its
        training labels honestly, e.g. as a heuristic. ``(None, None)`` before the first fit.
        """
        model = self._model
        if model is None:
            return None, None
        return model.held_out_proba() if held_out else (model.proba, model.committee_proba)

    @property
    def progress(self) -> dict:
        """``{labeled, total, session, skipped}`` for the progress line."""
        with self._lock:
            return {"labeled": self._n_labeled, "total": len(self.dataset), "session": self._session_labels,
                    "skipped": len(self._skipped)}

    @property
    def suggestion(self) -> tuple[str, float] | None:
        """The model's suggestion for the current record: (label, confidence), or None."""
        return None if self._current is None else self._suggestion_at(self._current)

    def _suggestion_at(self, position: int) -> tuple[str, float] | None:
        from .strategies import confidence

        model = self._model
        if model is None:
            return None
        row = model.proba[position : position + 1]
        return self.labels[int(row.argmax())], float(confidence(row)[0])

    def label_of(self, key) -> str | None:
        """The label in force on the row with index value ``key`` (hand or weak), or None."""
        position = self.dataset.position(key)
        with self._lock:
            if not self._has_label[position]:
                return None
            event = self._state.labels.get(self.dataset.keys[position])
            return None if event is None else event.label

    # -- actions ---------------------------------------------------------------------------------
    def label(self, key, label: str, *, source: str | None = None, confidence: float | None = None) -> None:
        """Label the row with index value ``key``; saved to the store before this returns.

        When ``key`` is the record on the card, the next record is shown. ``source`` defaults to
        "hand", or "suggestion-corrected" when the card suggested another label; only
        :meth:`accept` saves "suggestion-accepted".
        """
        label = options.check_label(label, self.labels)
        position = self.dataset.position(key)
        with self._lock:
            suggestion = self.suggestion if position == self._current else None
            if source is None:
                # a label typed by hand stays "hand" even when it agrees with the suggestion: only
                # accept() (Enter) records "suggestion-accepted", so rubber-stamping can be audited
                source = CORRECTED if suggestion is not None and suggestion[0] != label else HAND
            if confidence is None and suggestion is not None:
                confidence = suggestion[1]
            event = self.store.append("label", self.dataset.keys[position], label=label, annotator=self.annotator,
                                      source=source, confidence=confidence, content=self._content(position))
            self._reflect(self._state.apply(event))
            self._session_labels += 1
            # a fit that is due starts first: run inline (background=False) the next pick comes from it
            self._maybe_retrain()
            if position == self._current:
                self._advance()
        self._notify()

    def label_many(self, positions, labels, *, source: str, confidence=None) -> int:
        """Save labels for many rows (by position) in one transaction and one undo step; returns how many.

        Rows that already carry the same label from the same source are left as they are, so
        calling this twice with the same labels saves nothing the second time.
        """
        positions = np.asarray(positions, dtype=np.int64).ravel()
        labels = [options.check_label(label, self.labels) for label in labels]
        confidence = [None] * len(positions) if confidence is None else list(confidence)
        with self._lock:
            keys = [self.dataset.keys[p] for p in positions]
            fresh = [i for i, key in enumerate(keys)
                     if not ((event := self._state.labels.get(key)) is not None and self._has_label[positions[i]]
                             and event.label == labels[i] and event.source == source)]
            if not fresh:
                return 0
            events = self.store.append_labels([keys[i] for i in fresh], [labels[i] for i in fresh],
                                              annotators=self.annotator, sources=source,
                                              confidences=[confidence[i] for i in fresh],
                                              contents=[self._content(positions[i]) for i in fresh])
            self._apply_labels(events, positions[fresh])
            if self._current is not None and self._has_label[self._current]:
                self._advance()
        self._notify()
        return len(fresh)

    def accept(self) -> None:
        """Accept the model's suggestion for the record on the card."""
        with self._lock:
            suggestion, key = self.suggestion, self.current
        if suggestion is None:
            raise LabelError("There is no suggestion to accept yet: label by hand until the model has trained.")
        self.label(key, suggestion[0], source=ACCEPTED, confidence=suggestion[1])

    def skip(self, key=None) -> None:
        """Put a record at the back of the line (saved, so a restart keeps it there).

        ``key`` (an index value) skips that record; by default the one on the card.
        """
        with self._lock:
            position = self._current if key is None else self.dataset.position(key)
            if position is None:
                return
            event = self.store.append("skip", self.dataset.keys[position], annotator=self.annotator)
            self._reflect(self._state.apply(event))
            if position == self._current:
                self._advance()
        self._notify()

    def undo_target(self):
        """The index value of the record :meth:`undo` would take back now (the last of a group), or None."""
        with self._lock:
            step = self._state.last_step()
            if step is None:
                return None
            position = self.dataset.position_of.get(step[-1][0].key)
            return None if position is None else self.dataset.index_value(position)

    def show(self, key, reason: str = "") -> None:
        """Put the unlabeled record with index value ``key`` on the card now (the one before goes back
        to the head of the line). The card's page calls this with the record it shows next."""
        position = self.dataset.position(key)
        with self._lock:
            if position == self._current or not self._is_open(position):
                return
            if self._current is not None:
                self._line.push_front(self._current, self._current_reason)
            self._line.push_front(position, reason or "next in the page's line")
            self._advance()
        self._notify()

    def undo(self):
        """Take back the last label, skip or group of labels; a single record comes back on the card.

        Returns the key of the record taken back (the last of a group), or None when there is
        nothing to undo.
        """
        with self._lock:
            step = self._state.last_step()
            if step is None:
                return None
            last = step[-1][0]
            event = self.store.append("undo", last.key, annotator=self.annotator, undoes=last.id)
            self._reflect(self._state.apply(event))
            position = self.dataset.position_of.get(last.key)
            if last.action == "label" and last.source in HUMAN_SOURCES and self._session_labels > 0:
                self._session_labels -= 1
            if len(step) == 1 and position is not None:  # a group (promoted weak labels) leaves the card alone
                if self._current is not None and self._current != position:
                    self._line.push_front(self._current, self._current_reason)
                if self._is_open(position) or position == self._current:
                    self._line.push_front(position, "shown again after undo")
                    self._current = None
                self._advance(previous_label=last.label if last.action == "label" else None)
        self._notify()
        return last.key if position is None else self.dataset.index_value(position)

    def set_strategy(self, name: str) -> None:
        """Switch the query strategy; the line is rebuilt in the background."""
        from .strategies import check_strategy

        with self._lock:
            self.strategy = check_strategy(name)
        self.request_rerank()
        self._notify()

    def retrain(self, *, wait: bool = False, timeout: float | None = None) -> Future:
        """Fit the model(s) again now, in the background; ``wait=True`` blocks until the round ends."""
        with self._lock:
            self._refit_requested = True
            self._policy.started(int((self._codes >= 0).sum()))
        future = self.request_rerank()
        self._runner.hurry()  # asked for by the user: no pause before it
        if wait:
            future.result(timeout=timeout)
        return future

    def request_rerank(self) -> Future:
        """Rank the line again in the background (fitting first if a fit is due); resolves when done."""
        if self._background:
            return self._runner.request()
        future: Future = Future()
        try:
            self._swap_in(self._round())
        except Exception as error:  # same path as a failed background round
            self._round_failed(error)
        future.set_result(None)
        return future

    def remember_heuristic(self, name: str) -> None:
        """Record a heuristic's name in the store, so the summary knows it after a restart."""
        self.store.add_heuristic(name)

    def known_heuristics(self) -> list[str]:
        """Names of the heuristics recorded in the store, oldest first."""
        return self.store.heuristics()

    # -- hand-off --------------------------------------------------------------------------------
    @property
    def labeled(self) -> pd.DataFrame:
        """The hand-labeled rows: original columns plus label, labeled_at, annotator, source, confidence."""
        with self._lock:
            positions = np.flatnonzero(self._codes >= 0)
            events = [self._state.labels[self.dataset.keys[p]] for p in positions]
        return handoff.labeled_frame(self.dataset.df, positions, events, self.labels)

    def to_frame(self) -> pd.DataFrame:
        """Every row with label columns (missing where unlabeled) and the current model's prediction."""
        with self._lock:
            in_force = self._state.labels.get
            events = [in_force(key) if applies else None for key, applies in zip(self.dataset.keys, self._has_label)]
            model = self._model
        return handoff.full_frame(self.dataset.df, events, self.labels, None if model is None else model.proba)

    def missing_labels(self) -> pd.DataFrame:
        """Labels in the store whose records are no longer in the data (or whose content changed), by store key."""
        with self._lock:
            return records.missing_frame(self._state, self.restore_report, self.dataset, self._has_label, self.labels)

    def import_labels(self, path) -> str:
        """Bring in the labels of another store file (a colleague's copy, a recovered file).

        Labels whose record is in this data with the same content, and which have no label here,
        are saved as one undo step with their original annotator and source; rows labeled here
        already keep their label (conflicts are counted). Returns a one-line report.
        """
        from .store import read_labels

        other = read_labels(path)
        with self._lock:
            chosen, report = records.pick_imports(other, self._state, self.dataset, self._has_label, self.labels)
            if chosen:
                positions = np.array([p for p, _ in chosen], dtype=np.int64)
                events = self.store.append_labels(
                    [self.dataset.keys[p] for p in positions], [e.label for _, e in chosen],
                    annotators=[e.annotator for _, e in chosen], sources=[e.source for _, e in chosen],
                    confidences=[e.confidence for _, e in chosen], contents=[self._content(p) for p in positions])
                self._apply_labels(events, positions)
                if self._current is not None and self._has_label[self._current]:
                    self._advance()
        self._notify()
        return f"{len(chosen):,} labels imported from {path}; {report}"

    def fit_final(self):
        """Fit the model(s) on every hand label now (in this thread) and return the fitted estimator(s)."""
        with self._lock:
            labeled = np.flatnonzero(self._codes >= 0)
            y = self._codes[labeled].astype(np.int64)
        if not _models.ready_to_train(np.bincount(y, minlength=len(self.labels))):
            raise ModelError("Not enough labels to fit: label at least two examples each of two labels.")
        committee = _models.fit_committee(self._estimators, self.pool.features[labeled], y, n_classes=len(self.labels))
        return committee.estimators[0] if len(committee.estimators) == 1 else committee.estimators

    # -- internals -------------------------------------------------------------------------------
    def _restore(self, store: LabelStore) -> None:
        """Replay the store and apply every label whose record is still in the data as it was labeled."""
        self._state = store.replay()
        self.restore_report = records.match_labels(self._state, self.dataset, store_path=self.store_path)
        unknown = sorted(set(self.restore_report.labels) - set(self.labels))
        if unknown:
            raise StoreMismatchError(
                f"The label store {self.store_path} has labels {unknown} on records of this data that are not in "
                f"labels={self.labels}. Add them to labels= (you can relabel those rows later), or pass store= a new path.")
        report = self.restore_report
        positions = report.positions
        self._has_label[positions] = True
        self._n_labeled = len(positions)
        human = np.fromiter((source in HUMAN_SOURCES for source in report.sources), dtype=bool, count=len(positions))
        codes = np.fromiter(map(self._label_code.__getitem__, report.labels), dtype=np.int32, count=len(positions))
        self._codes[positions[human]] = codes[human]
        if self._background:  # build the event objects of a large snapshot off the kernel's thread
            threading.Thread(target=self._state.unpack, name="activelabel-restore", daemon=True).start()
        for key in self._state.skipped_keys():
            position = self.dataset.position_of.get(key)
            if position is not None and not self._has_label[position]:
                self._line.push_back(position)
                self._skipped.add(position)
        resume = self.dataset.position_of.get(store.card_key)
        if resume is not None and not self._has_label[resume]:
            self._line.push_front(resume, "where you stopped")

    def _reflect(self, keys) -> None:
        """Mirror the state machine's change to ``keys`` into the position-indexed arrays and the line."""
        hashes = self.dataset.record_hashes()
        for key in keys:
            position = self.dataset.position_of.get(key)
            if position is None:
                continue  # a record no longer in the data: its events stay in the store
            event = self._state.labels.get(key)
            applies = event is not None and records.label_applies(event, position, hashes)
            self._n_labeled += int(applies) - int(self._has_label[position])
            self._has_label[position] = applies
            self._codes[position] = self._label_code[event.label] if applies and event.source in HUMAN_SOURCES else -1
            if key in self._state.skipped:  # only a skip leaves its key skipped: it goes to the back
                self._line.push_back(position)
                self._skipped.add(position)
            else:
                self._line.remove_back(position)
                self._skipped.discard(position)

    def _content(self, position: int) -> int:
        return int(self.dataset.record_hashes()[position])

    def _taken_over(self) -> None:
        """A newer labeler opened our store (a re-run cell): stop, and let go of the data's memory."""
        self._runner.close()
        with self._lock:
            self._model = None
            self.pool = PreparedPool(self.dataset)
            self._line = Line()
            self._current = None
            self.closed_because = "a newer labeler on the same store took over (the cell was run again)"
        self._notify()

    def _apply_labels(self, events, positions: np.ndarray) -> None:
        """Apply many label events on this data's rows (just saved, content current) in one vectorised pass."""
        with paused_gc():
            for event in events:
                self._state.apply(event)
        self._n_labeled += int((~self._has_label[positions]).sum())
        self._has_label[positions] = True
        human = np.fromiter((e.source in HUMAN_SOURCES for e in events), dtype=bool, count=len(events))
        codes = np.fromiter((self._label_code[e.label] for e in events), dtype=np.int32, count=len(events))
        self._codes[positions] = np.where(human, codes, -1)
        for position in self._skipped.intersection(positions.tolist()):
            self._skipped.discard(position)
            self._line.remove_back(position)

    def _is_open(self, position: int) -> bool:
        return not self._has_label[position] and position != self._current

    def _advance(self, *, previous_label: str | None = None) -> None:
        """Show the next record from the line (O(1) amortised)."""
        self._current = None
        taken = self._line.pop(self._is_open)
        self._current, self._current_reason = (None, "") if taken is None else taken
        self._previous_label = previous_label
        self._picked_at_fit = self.model_status.fits
        self.card_token += 1
        self.store.note_card(None if self._current is None else self.dataset.keys[self._current])
        if self._line.remaining_ranked() < _REFILL_BELOW:
            self.request_rerank()

    def _maybe_retrain(self) -> None:
        n_hand = int((self._codes >= 0).sum())
        if self._policy.due(n_hand, self.label_counts()):
            self._refit_requested = True
            self._policy.started(n_hand)
            self.request_rerank()

    def _round(self) -> RoundResult:
        with self._lock:
            refit = self._refit_requested and _models.ready_to_train(self.label_counts())
            self._refit_requested = False
            labeled = np.flatnonzero(self._codes >= 0)
            inputs = RoundInputs(labeled, self._codes[labeled].astype(np.int64), len(self.labels), self._estimators,
                                 refit, self.strategy, self._has_label.copy(), self._model, self.priority_boost,
                                 self.random_state, on_fit_progress=partial(self._fitting, len(labeled)))
            self._round_refits = refit
            if refit and self.pool.ready:
                self.model_status = self.model_status.training(len(labeled), 0.0)
        self._notify()
        return run_round(inputs, self.pool)

    def _fitting(self, n_labels: int, done: float) -> None:
        """Progress of a fit on ``n_labels`` labels (from the round's thread), for the card's status line."""
        with self._lock:
            self.model_status = self.model_status.training(n_labels, done)
        self._notify()

    def _preparing(self, step: str, done: float) -> None:
        """Progress of the pool's preparation (from the round's thread), for the card's status line."""
        with self._lock:
            if step is not None:
                self.model_status = self.model_status.preparing(step, done, len(self.dataset))
            elif self._round_refits or (self._refit_requested and _models.ready_to_train(self.label_counts())):
                # this round fits next, or the round right after it does (no pause after preparing)
                self.model_status = self.model_status.training(int((self._codes >= 0).sum()), 0.0)
            else:
                self.model_status = self.model_status.idle(has_model=self._model is not None)
        self._notify()

    def _swap_in(self, result: RoundResult) -> None:
        """Replace model, scores and line with a round's results, atomically."""
        with self._lock:
            fitted = result.fitted
            if fitted is not None:
                self._model = fitted
                self.fit_history.append(FitRecord(fitted.n_labels, fitted.accuracy, result.seconds))
                self._stop_predictions.append(fitted.proba[self._stop_set].argmax(axis=1))
                self.model_status = self.model_status.after_fit(fitted)
            elif result.fit_error is not None:
                self.model_status = self.model_status.after_error(result.fit_error, has_model=self._model is not None)
            elif self.model_status.state in ("training", "preparing") and not self._refit_requested:
                self.model_status = self.model_status.idle(has_model=self._model is not None)
            if result.ranked is not None:
                self._line.replace_ranked(result.ranked)
            if self._current is None and not self._has_label.all():
                self._advance()
        self._notify()

    def _round_failed(self, error: BaseException) -> None:
        with self._lock:
            self.model_status = self.model_status.after_error(error, has_model=self._model is not None)
        self._notify()

    # -- plumbing --------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` after every change (from any thread); returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    def wait_idle(self, timeout: float | None = 60.0) -> None:
        """Block until no background round is running or pending (for scripts and tests)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._runner.busy:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("background rounds still running")
            time.sleep(0.01)

    def close(self) -> None:
        """Stop background rounds and close the store (keeping a snapshot for a fast reopen)."""
        self._runner.close()
        with self._lock:
            self.store.close(state=self._state)
            self.closed_because = self.closed_because or "it was closed"

    def __repr__(self) -> str:
        p = self.progress
        return (f"<LabelingSession {p['labeled']}/{p['total']} labeled, strategy={self.strategy!r}, "
                f"model={self.model_status.state}, store={self.store_path!r}>")
