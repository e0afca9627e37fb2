"""The headless labeling session: data, store, line, models and rounds wired together.

Works in a script with no front end; the widget only mirrors its state. The click path
(:meth:`LabelingSession.label`, :meth:`skip`, :meth:`undo`) appends one event to the store,
updates a few arrays and takes the next record from the line: no work over the whole pool.
Fitting, scoring and ranking happen in background rounds (see :mod:`.training`).
"""

from __future__ import annotations

import getpass
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import models as _models
from .dataset import CardPayload, Dataset, displayable
from .errors import DataError, LabelError, ModelError
from .features import compute_embeddings, compute_features, validate_embeddings
from .queue import Line, RankedLine
from .store import LabelStore
from .training import BackgroundRunner

__all__ = ["LabelingSession", "ModelStatus", "default_store_path"]

#: How many records one ranking puts in the line; the line is refilled in the background when
#: fewer than ``_REFILL_BELOW`` remain.
_RANK_BATCH = 512
_REFILL_BELOW = 64
_HUMAN_SOURCES = ("hand", "suggestion-accepted", "suggestion-corrected")


def default_store_path(dataset: Dataset) -> Path:
    """Where labels go without ``store=``: next to the notebook, named after the data's fingerprint."""
    keys_hash, content_hash = dataset.fingerprint()
    return Path.cwd() / f"activelabel-{keys_hash[:8]}{content_hash[:4]}.labels.db"


@dataclass
class ModelStatus:
    """What the card says about the model."""

    state: str = "none"  # "none" | "training" | "ready" | "error"
    message: str = ""
    accuracy: float | None = None
    n_labels: int = 0
    fits: int = 0

    def as_dict(self) -> dict:
        return {"state": self.state, "message": self.message, "accuracy": self.accuracy, "n_labels": self.n_labels, "fits": self.fits}


@dataclass
class _RoundResult:
    committee: object = None
    proba: np.ndarray | None = None
    committee_proba: np.ndarray | None = None
    accuracy: float | None = None
    n_labels: int = 0
    ranked: RankedLine | None = None
    fitted: bool = False
    held_out: tuple | None = None  # (labeled positions, CrossValidated) of the fit
    seconds: float = 0.0
    fit_error: BaseException | None = None


@dataclass
class _FitRecord:
    n_labels: int
    accuracy: float | None
    seconds: float
    at: float = field(default_factory=time.time)


class LabelingSession:
    """Label a DataFrame one record at a time, with a model that trains as you label.

    Parameters
    ----------
    df : pandas.DataFrame
        The records; the index is the row identity and must be unique.
    labels : list of str
        At least two distinct label names; keys ``1``..``9`` map to the first nine.
    text, image, features, show
        What to show and learn from; see :class:`~activelabel_widget.dataset.Dataset`.
    store : str or Path, optional
        SQLite file where every label is saved as it is made. Default: a file next to the
        notebook named after the data's fingerprint (see :attr:`store_path`).
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
        Run rounds in a background thread (default). ``False`` runs them inline, for tests.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"body": ["app crashes", "add dark mode", "how do I log in?"]})
    >>> s = LabelingSession(df, text="body", labels=["bug", "feature", "question"], store=":memory:")
    >>> s.label(s.current, "bug"); len(s.labeled)
    1
    """

    def __init__(self, df: pd.DataFrame, *, labels, text=None, image=None, features=None, show=None, store=None,
                 model=None, strategy: str = "hybrid", retrain_every: int = 10, embeddings=None,
                 annotator: str | None = None, fit_timeout: float | None = 600.0, random_state: int = 0,
                 background: bool = True):
        from . import strategies as _strategies

        self.labels = _check_labels(labels)
        if strategy not in _strategies.STRATEGIES:
            raise ValueError(f"strategy={strategy!r} is not known; choose one of {list(_strategies.STRATEGIES)}.")
        if not isinstance(retrain_every, int) or retrain_every < 1:
            raise ValueError(f"retrain_every must be a positive whole number of labels, got {retrain_every!r}.")
        self.dataset = Dataset(df, text=text, image=image, features=features, show=show)
        self._user_embeddings = validate_embeddings(embeddings, self.dataset) if embeddings is not None else None
        estimators = model if isinstance(model, (list, tuple)) else [model] if model is not None else []
        for estimator in estimators:
            if not hasattr(estimator, "fit"):
                raise ModelError(f"model= must be scikit-learn estimators with fit(); got {type(estimator).__name__}.")
            if not (hasattr(estimator, "predict_proba") or hasattr(estimator, "decision_function")):
                raise ModelError(
                    f"{type(estimator).__name__} has neither predict_proba nor decision_function, so it cannot suggest "
                    "labels or rank records; wrap it in sklearn.calibration.CalibratedClassifierCV or pass another model.")
        self._estimators = list(estimators) or [_models.default_model(self.dataset.kind)]
        self.strategy = strategy
        self.retrain_every = retrain_every
        self.annotator = annotator or _login_name()
        self.random_state = random_state
        self._label_code = {name: code for code, name in enumerate(self.labels)}

        if store is None:
            store = default_store_path(self.dataset)
        self.store_path = ":memory:" if str(store) == ":memory:" else str(Path(store).expanduser().resolve())
        self.store = LabelStore(
            _memory_path() if self.store_path == ":memory:" else self.store_path,
            fingerprint=self.dataset.fingerprint(), labels=self.labels, n_rows=len(self.dataset),
        )

        n = len(self.dataset)
        self._lock = threading.RLock()
        self._codes = np.full(n, -1, dtype=np.int16)  # hand labels by position, -1 = none
        self._events: dict[int, object] = {}  # position -> label event in force
        self._history: list = []  # undo stack: (event, previous label event or None)
        self._line = Line()
        self._session_labels = 0
        self._labels_at_last_request = 0
        self._listeners: list[Callable[[], None]] = []
        self.last_error = ""

        # model state, swapped atomically by background rounds
        self._features = None
        self._embeddings = None
        self._index = None
        self._committee = None
        self._proba: np.ndarray | None = None
        self._committee_proba: np.ndarray | None = None
        self._held_out: tuple | None = None
        self.model_status = ModelStatus(message="label two examples each of two labels to start training")
        self.fit_history: list[_FitRecord] = []
        self._refit_requested = False
        #: Optional ``() -> (n,) array in [0, 1] or None`` added to the strategy's ranking (conflicts).
        self.priority_boost: Callable[[], np.ndarray | None] | None = None
        self._prepare_lock = threading.Lock()
        self._background = background
        self._runner = BackgroundRunner(self._round, on_done=self._swap_in, on_error=self._round_failed, time_limit=fit_timeout)

        self._restore()
        rng = np.random.default_rng(random_state)
        # until the embedding index is built, explore in a seeded random order, never index order
        order = rng.permutation(n)
        self._line.replace_ranked(RankedLine(order, ["random order while the embedding index is built"] * n, "random"))
        self._current: int | None = None
        self._current_reason = ""
        self._previous_label: str | None = None
        self.card_token = 0
        if _models.ready_to_train(self.label_counts()):
            self._refit_requested = True
        self._request_round()
        if self._current is None:
            self._advance()

    # -- state -----------------------------------------------------------------------------------
    def _restore(self) -> None:
        replay = self.store.replay()
        unknown = []
        for key, event in replay.labels.items():
            position = self.dataset.position_of.get(key)
            if position is None:
                unknown.append(key)
                continue
            self._events[position] = event
            self._codes[position] = self._label_code[event.label] if event.source in _HUMAN_SOURCES else -1
        for event, previous in replay.history:
            self._history.append((event, previous))
        for key in replay.skipped:
            position = self.dataset.position_of.get(key)
            if position is not None and position not in self._events:
                self._line.push_back(position)
        if unknown:  # cannot happen with a matching fingerprint; say so rather than drop silently
            raise DataError(f"The store has labels for {len(unknown)} keys not in the DataFrame (e.g. {unknown[:3]}).")

    def _is_open(self, position: int) -> bool:
        return position not in self._events and position != self._current

    def _advance(self, *, previous_label: str | None = None) -> None:
        """Show the next record from the line (O(1) amortised)."""
        self._current = None
        taken = self._line.pop(self._is_open)
        if taken is None:
            self._current_reason = ""
        else:
            self._current, self._current_reason = taken
        self._previous_label = previous_label
        self.card_token += 1
        if self._line.remaining_ranked() < _REFILL_BELOW:
            self._request_round()

    @property
    def current(self):
        """The index value of the record on the card, or None when nothing is left to label."""
        with self._lock:
            return None if self._current is None else self.dataset.index_value(self._current)

    @property
    def current_position(self) -> int | None:
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

    def queued(self, k: int) -> np.ndarray:
        """Positions of the record on the card and the next ``k - 1`` in the line."""
        with self._lock:
            head = [] if self._current is None else [self._current]
            return np.asarray(head + self._line.peek(k - len(head), self._is_open), dtype=np.int64)

    def model_proba(self, *, held_out: bool = False):
        """The model's probabilities over the pool: (mean (n, K), each member (m, n, K) or None).

        With ``held_out=True`` the rows the model was trained on carry their out-of-fold
        probabilities instead (NaN where no fold scored them), so the model can be graded on its
        training labels honestly, e.g. as a heuristic. None before the first fit.
        """
        with self._lock:
            proba, each, held = self._proba, self._committee_proba, self._held_out
        if proba is None or not held_out:
            return (None, None) if proba is None else (proba, each)
        positions, checked = held
        proba = proba.copy()
        proba[positions] = checked.proba if checked.proba is not None else np.nan
        if each is not None:
            each = each.copy()
            each[:, positions] = checked.each if checked.each is not None else np.nan
        return proba, each

    def label_counts(self) -> np.ndarray:
        """Hand labels per label, (K,) ints."""
        codes = self._codes[self._codes >= 0]
        return np.bincount(codes, minlength=len(self.labels))

    @property
    def progress(self) -> dict:
        """``{labeled, total, session, skipped}`` for the progress line."""
        with self._lock:
            return {"labeled": len(self._events), "total": len(self.dataset), "session": self._session_labels,
                    "skipped": self._line.skipped_count()}

    @property
    def suggestion(self) -> tuple[str, float] | None:
        """The model's suggestion for the current record: (label, confidence), or None."""
        from .strategies import confidence

        with self._lock:
            position, proba = self._current, self._proba
        if position is None or proba is None:
            return None
        row = proba[position : position + 1]
        return self.labels[int(row.argmax())], float(confidence(row)[0])

    # -- actions ---------------------------------------------------------------------------------
    def _position(self, key) -> int:
        try:
            position = self.dataset.df.index.get_loc(key)
        except (KeyError, TypeError, pd.errors.InvalidIndexError):
            position = None
        if not isinstance(position, (int, np.integer)):
            raise LabelError(f"Row {key!r} is not in the DataFrame's index; pass the index value of a row (e.g. session.current).")
        return int(position)

    def _check_label(self, label) -> str:
        if not isinstance(label, str) and str(label) in self._label_code:
            return str(label)  # labels=[0, 1] are named "0" and "1"; label(key, 1) means "1"
        if label not in self._label_code:
            raise LabelError(f"{label!r} is not one of the labels {self.labels}; pass one of them (labels are case-sensitive).")
        return label

    def label(self, key, label: str, *, source: str | None = None, confidence: float | None = None) -> None:
        """Label the row with index value ``key``; saved to the store before this returns.

        When ``key`` is the record on the card, the next record is shown. ``source`` defaults to
        "hand", or "suggestion-corrected" when the card suggested another label; only
        :meth:`accept` saves "suggestion-accepted".
        """
        label = self._check_label(label)
        position = self._position(key)
        with self._lock:
            suggestion = self.suggestion if position == self._current else None
            if source is None:
                # a label typed by hand stays "hand" even when it agrees with the suggestion: only
                # accept() (Enter) records "suggestion-accepted", so rubber-stamping can be audited
                source = "suggestion-corrected" if suggestion is not None and suggestion[0] != label else "hand"
            if confidence is None and suggestion is not None:
                confidence = suggestion[1]
            event = self.store.append("label", self.dataset.keys[position], label=label, annotator=self.annotator,
                                      source=source, confidence=confidence)
            self._history.append((event, self._events.get(position)))
            self._events[position] = event
            self._codes[position] = self._label_code[label]
            self._line.remove_back(position)
            self._session_labels += 1
            self.last_error = ""
            if position == self._current:
                self._advance()
            self._maybe_retrain()
        self._notify()

    def label_many(self, positions, labels, *, source: str, confidence=None) -> int:
        """Save labels for many rows (by position) in one transaction; returns how many.

        Used to promote weak labels: rows with a hand label are left out by the caller.
        """
        positions = [int(p) for p in positions]
        labels = [self._check_label(label) for label in labels]
        if not positions:
            return 0
        with self._lock:
            events = self.store.append_labels([self.dataset.keys[p] for p in positions], list(labels),
                                              annotator=source, source=source, confidences=confidence)
            for position, event in zip(positions, events):
                self._history.append((event, self._events.get(position)))
                self._events[position] = event
                self._codes[position] = self._label_code[event.label] if source in _HUMAN_SOURCES else -1
                self._line.remove_back(position)
            if self._current is not None and self._current in set(positions):
                self._advance()
        self._notify()
        return len(positions)

    def accept(self) -> None:
        """Accept the model's suggestion for the record on the card."""
        with self._lock:
            suggestion, key = self.suggestion, self.current
        if suggestion is None:
            raise LabelError("There is no suggestion to accept yet: label by hand until the model has trained.")
        self.label(key, suggestion[0], source="suggestion-accepted", confidence=suggestion[1])

    def skip(self) -> None:
        """Put the record on the card at the back of the line (saved, so a restart keeps it there)."""
        with self._lock:
            position = self._current
            if position is None:
                return
            event = self.store.append("skip", self.dataset.keys[position], annotator=self.annotator)
            self._history.append((event, None))
            self._line.push_back(position)
            self._advance()
        self._notify()

    def undo(self) -> object | None:
        """Take back the last label or skip; the record comes back on the card. Returns its key or None."""
        with self._lock:
            if not self._history:
                return None
            event, previous = self._history[-1]
            self.store.append("undo", event.key, annotator=self.annotator, undoes=event.id)
            self._history.pop()
            position = self.dataset.position_of[event.key]
            previous_label = None
            if event.action == "label":
                previous_label = event.label
                if previous is None:
                    self._events.pop(position, None)
                    self._codes[position] = -1
                else:
                    self._events[position] = previous
                    self._codes[position] = self._label_code[previous.label] if previous.source in _HUMAN_SOURCES else -1
                if self._session_labels > 0:
                    self._session_labels -= 1
            else:
                self._line.remove_back(position)
            if self._current is not None and self._current != position:
                self._line.push_front(self._current, self._current_reason)
            if self._is_open(position) or position == self._current:
                self._line.push_front(position, "shown again after undo")
                self._current = None
            self._advance(previous_label=previous_label)
            self.last_error = ""
        self._notify()
        return self.dataset.index_value(position)

    # -- training --------------------------------------------------------------------------------
    def _maybe_retrain(self) -> None:
        n_hand = int((self._codes >= 0).sum())
        first = self._committee is None and not self._refit_requested and _models.ready_to_train(self.label_counts())
        if first or n_hand - self._labels_at_last_request >= self.retrain_every:
            self._refit_requested = True
            self._labels_at_last_request = n_hand
            self._request_round()

    def retrain(self, *, wait: bool = False, timeout: float | None = None) -> Future:
        """Fit the model(s) again now, in the background; ``wait=True`` blocks until the round ends."""
        with self._lock:
            self._refit_requested = True
            self._labels_at_last_request = int((self._codes >= 0).sum())
        future = self._request_round()
        if wait:
            future.result(timeout=timeout)
        return future

    def set_strategy(self, name: str) -> None:
        """Switch the query strategy; the line is rebuilt in the background."""
        from .strategies import STRATEGIES

        if name not in STRATEGIES:
            raise ValueError(f"strategy={name!r} is not known; choose one of {list(STRATEGIES)}.")
        with self._lock:
            self.strategy = name
        self._request_round()
        self._notify()

    def _request_round(self) -> Future:
        with self._lock:
            if self._committee is None and self._refit_requested:
                self.model_status.state = "training"
        if self._background:
            return self._runner.request()
        future: Future = Future()
        try:
            self._swap_in(self._round())
        except Exception as error:  # same path as a failed background round
            self._round_failed(error)
        future.set_result(None)
        return future

    def _prepare(self) -> None:
        """Features, embeddings and the embedding index: computed once, in the background."""
        from .strategies import build_embedding_index

        with self._prepare_lock:
            if self._features is None:
                self._features = compute_features(self.dataset)
            if self._embeddings is None:
                self._embeddings = self._user_embeddings if self._user_embeddings is not None else compute_embeddings(
                    self._features, random_state=self.random_state)
            if self._index is None:
                self._index = build_embedding_index(self._embeddings, random_state=self.random_state)

    def _round(self) -> _RoundResult:
        """One background round: prepare, maybe fit, score the pool, rank a batch of the line."""
        from .strategies import rank_pool

        started = time.perf_counter()
        self._prepare()
        with self._lock:
            refit = self._refit_requested and _models.ready_to_train(self.label_counts())
            self._refit_requested = False
            labeled = np.flatnonzero(self._codes >= 0)
            y = self._codes[labeled].astype(np.int64)
            strategy = self.strategy
            result = _RoundResult(committee=self._committee, proba=self._proba, committee_proba=self._committee_proba)
            if refit:
                self.model_status.state = "training"
                self.model_status.message = f"training on {len(labeled)} labels…"
        if refit:
            self._notify()
            try:
                X = self._features[labeled]
                committee = _models.fit_committee(self._estimators, X, y, n_classes=len(self.labels))
                proba, each = _models.predict_proba(committee, self._features)
                checked = _models.cross_validate(self._estimators, X, y, n_classes=len(self.labels),
                                                 random_state=self.random_state)
                result = _RoundResult(committee, proba, each, checked.accuracy, len(labeled), fitted=True,
                                      held_out=(labeled, checked))
            except ModelError as error:
                result.fit_error = error
        in_use = np.zeros(len(self.dataset), dtype=bool)
        with self._lock:
            in_use[list(self._events)] = True
        boost = self.priority_boost() if self.priority_boost is not None else None
        if boost is None:
            positions, _, reasons = rank_pool(strategy, k=_RANK_BATCH, labeled_mask=in_use, proba=result.proba,
                                              committee_proba=result.committee_proba, index=self._index,
                                              random_state=self.random_state)
        else:
            positions, reasons = self._rank_with_boost(strategy, boost, in_use, result)
        result.ranked = RankedLine(np.asarray(positions, dtype=np.int64), list(reasons), strategy)
        result.seconds = time.perf_counter() - started
        return result

    def _rank_with_boost(self, strategy, boost, in_use, result):
        """Rank by the strategy's score rank (0..1) plus ``boost`` (0..1), e.g. heuristics' conflicts."""
        from .strategies import score_pool, top_k

        scores = score_pool(strategy, labeled_mask=in_use, proba=result.proba, committee_proba=result.committee_proba,
                            index=self._index, random_state=self.random_state)
        finite = np.isfinite(scores)
        ranks = np.zeros(len(scores))
        ranks[finite] = scores[finite].argsort().argsort() / max(int(finite.sum()) - 1, 1)
        combined = np.where(finite, ranks + np.nan_to_num(boost), -np.inf)
        positions = top_k(combined, _RANK_BATCH)
        reasons = [f"heuristics disagree ({boost[p]:.2f}) + {strategy}" if boost[p] > 0 else f"{strategy} rank {ranks[p]:.2f}"
                   for p in positions]
        return positions, reasons

    def _swap_in(self, result: _RoundResult) -> None:
        """Atomically replace model, scores and line with a round's results."""
        with self._lock:
            if result.fitted:
                self._committee, self._proba, self._committee_proba = result.committee, result.proba, result.committee_proba
                self._held_out = result.held_out
                self.fit_history.append(_FitRecord(result.n_labels, result.accuracy, result.seconds))
                self.model_status = ModelStatus("ready", _ready_message(result), result.accuracy, result.n_labels,
                                                self.model_status.fits + 1)
            elif result.fit_error is not None:
                self._record_model_error(result.fit_error)
            elif self.model_status.state == "training" and not self._refit_requested:
                self.model_status.state = "ready" if self._committee is not None else "none"
            if result.ranked is not None:
                self._line.replace_ranked(result.ranked)
            if self._current is None and len(self._events) < len(self.dataset):
                self._advance()
        self._notify()

    def _record_model_error(self, error: BaseException) -> None:
        kept = "kept the previous model" if self._committee is not None else "no model yet"
        self.model_status = ModelStatus("error", f"{error} ({kept})", self.model_status.accuracy,
                                        self.model_status.n_labels, self.model_status.fits)

    def _round_failed(self, error: BaseException) -> None:
        with self._lock:
            self._record_model_error(error)
        self._notify()

    # -- hand-off --------------------------------------------------------------------------------
    @property
    def labeled(self) -> pd.DataFrame:
        """The hand-labeled rows: original columns plus label, labeled_at, annotator, source, confidence."""
        with self._lock:
            positions = sorted(p for p, e in self._events.items() if e.source in _HUMAN_SOURCES)
            events = [self._events[p] for p in positions]
        frame = self.dataset.df.iloc[positions].copy()
        _add_label_columns(frame, events, self.labels)
        return frame

    def to_frame(self) -> pd.DataFrame:
        """Every row with label columns (missing where unlabeled) and the current model's prediction."""
        with self._lock:
            events = dict(self._events)
            proba = self._proba
        frame = self.dataset.df.copy()
        _add_label_columns(frame, [events.get(p) for p in range(len(frame))], self.labels)
        if proba is not None:
            from .strategies import confidence

            frame["prediction"] = pd.Categorical.from_codes(proba.argmax(axis=1), categories=self.labels)
            frame["prediction_confidence"] = confidence(proba)
        else:
            frame["prediction"] = pd.Categorical([None] * len(frame), categories=self.labels)
            frame["prediction_confidence"] = np.nan
        return frame

    def fit_final(self):
        """Fit the model(s) on every hand label now (in this thread) and return the fitted estimator(s)."""
        with self._lock:
            labeled = np.flatnonzero(self._codes >= 0)
            y = self._codes[labeled].astype(np.int64)
        if not _models.ready_to_train(np.bincount(y, minlength=len(self.labels))):
            raise ModelError("Not enough labels to fit: label at least two examples each of two labels.")
        self._prepare()
        committee = _models.fit_committee(self._estimators, self._features[labeled], y, n_classes=len(self.labels))
        return committee.estimators[0] if len(committee.estimators) == 1 else committee.estimators

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
        """Stop background rounds and close the store."""
        self._runner.close()
        self.store.close()

    def __repr__(self) -> str:
        p = self.progress
        return (f"<LabelingSession {p['labeled']}/{p['total']} labeled, strategy={self.strategy!r}, "
                f"model={self.model_status.state}, store={self.store_path!r}>")


def _ready_message(result: _RoundResult) -> str:
    if result.accuracy is None:
        return f"trained on {result.n_labels} labels (too few for a cross-validated estimate)"
    return f"{result.accuracy:.0%} cross-validated accuracy on {result.n_labels} labels"


def _add_label_columns(frame: pd.DataFrame, events: list, labels: list[str]) -> None:
    frame["label"] = pd.Categorical([e.label if e else None for e in events], categories=labels)
    frame["labeled_at"] = pd.to_datetime([e.at if e else None for e in events], utc=True, format="ISO8601")
    frame["annotator"] = pd.Series([e.annotator if e else None for e in events], index=frame.index, dtype="object")
    frame["source"] = pd.Series([e.source if e else None for e in events], index=frame.index, dtype="object")
    frame["confidence"] = np.array([e.confidence if e and e.confidence is not None else np.nan for e in events], dtype=float)


def _check_labels(labels) -> list[str]:
    if isinstance(labels, str) or labels is None:
        raise LabelError("labels= must be a list of at least two label names, e.g. labels=['bug', 'feature'].")
    labels = list(labels)
    if len(labels) < 2:
        raise LabelError(f"labels= needs at least two labels to choose from; got {labels}.")
    names = [str(label) for label in labels]
    if any(displayable(name) != name for name in names):
        raise LabelError("labels= contains a name with a lone surrogate (half an emoji?); fix the label's text.")
    if any(not name.strip() for name in names):
        raise LabelError("labels= contains an empty name; give every label a visible name.")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise LabelError(f"labels= lists {duplicates} more than once; each label must appear once.")
    return names


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _memory_path() -> str:
    """A private temporary file standing in for ``store=":memory:"`` (SQLite WAL needs a file)."""
    import tempfile

    handle = tempfile.NamedTemporaryFile(prefix="activelabel-", suffix=".db", delete=False)
    handle.close()
    Path(handle.name).unlink()
    return handle.name
