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
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from . import handoff, options, records
from . import models as _models
from ._keys import key_text
from .dataset import CardPayload, Dataset, as_texts
from .errors import AlreadyAnsweredError, DataError, LabelError, ModelError, OptionError, StoreError
from .events import LabelState, paused_gc
from .features import validate_embeddings
from .line import Line, RankedLine
from .rounds import FitRecord, FittedModel, ModelStatus, PreparedPool, RetrainPolicy, RoundInputs, RoundResult, run_round
from .runner import BackgroundRunner, on_host
from .review import check_order, describe_order, review_order
from .sources import ACCEPTED, ADJUDICATED, CORRECTED, HAND, HUMAN_SOURCES, IMPORTED, RELABELED
from .store import LabelStore, default_store_path
from .team_store import is_server_url

__all__ = ["LabelingSession", "CardSnapshot"]

#: The line is ranked again in the background when fewer than this many ranked records remain.
_REFILL_BELOW = 64
#: Suggestions remembered for one model (the page's line asks for the same records answer after answer).
_SUGGESTIONS_KEPT = 4096
#: Team store: seconds between two looks at what the other annotators did (see follow_team).
TEAM_FOLLOW_SECONDS = 1.0

#: A fit's progress reaches the card at most this often (its start and the result always do): a
#: fit of a few tens of milliseconds reported eight steps, each a message for the page to take in.
FIT_PROGRESS_EVERY_SECONDS = 0.25


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
    reason: str
    previous_label: str | None
    suggestion: tuple[str, float] | None
    progress: dict
    model_status: dict
    strategy: str
    fits: int
    ahead: tuple = ()  # AheadRecord for the records after the card, in line order
    label_counts: tuple = ()  # hand labels per label, in label order
    given: "GivenLabel | None" = None  # the label the card's record carries (in review)
    review: dict | None = None  # {by, caption, index, total} while reviewing, else None
    labels: tuple = ()  # the label names, in button order
    note: str = ""  # the note on the card's record


class GivenLabel(NamedTuple):
    """The label a record carries now, and who gave it when."""

    label: str
    source: str | None
    annotator: str | None
    at: str


class AheadRecord(NamedTuple):
    """A record queued after the card: where it is, why it was picked, and the model's suggestion."""

    position: int
    key: str
    key_label: str
    reason: str
    suggestion: tuple[str, float] | None
    given: GivenLabel | None = None
    note: str = ""


class Answer(NamedTuple):
    """One entry of the recent answers (:meth:`LabelingSession.recent_answers`), newest first."""

    key: object  # the row's index value (None for a group)
    key_label: str
    snippet: str
    action: str  # "label", "skip" or "group" (many labels saved as one step, e.g. promoted weak labels)
    label: str | None
    previous: str | None  # the label this one replaced, if any
    source: str | None
    annotator: str | None
    at: str
    count: int  # events in the step (1 unless a group)
    open: bool  # the record can be brought back on the card (it is still in the data and labeled, skipped or rejected)
    note: str | None = None  # the text of a note


#: Review by these orders needs the out-of-fold probabilities of a cross-validated fit.
_NEEDS_FIT = ("issues", "disagreement")


@dataclass
class _Review:
    """A walk over labeled records: where it is, and what each answer did (for undo)."""

    by: str
    caption: str
    positions: list
    reasons: list
    oof: np.ndarray  # (len(positions), K) out-of-fold probabilities, NaN where none
    at: int = 0
    steps: list = field(default_factory=list)  # (index walked from, label event id or None for a keep)


def _check_embeddings_in_model(dataset, embeddings) -> None:
    """``embeddings_in_model=True`` applies to text with embeddings of at most 50 million values:
    anything else would be silently ignored, so it is refused with what to do instead."""
    from .rounds import MODEL_EMBEDDING_MAX_VALUES

    if embeddings is None:
        raise OptionError("embeddings_in_model=True needs embeddings=: pass your encoder's vectors "
                          "(an array in the DataFrame's order, or the name of a column of them).")
    if dataset.kind != "text":
        raise OptionError(f"embeddings_in_model=True is for text records; this pool holds {dataset.kind} records, "
                          "whose model reads their own features. Leave it out (embeddings= still serves "
                          "diversity and the map), or pass the vectors as feature columns.")
    if embeddings.size > MODEL_EMBEDDING_MAX_VALUES:
        raise OptionError(f"embeddings_in_model=True takes embeddings of up to {MODEL_EMBEDDING_MAX_VALUES:,} values "
                          f"(the model keeps a copy beside the words); these have {embeddings.size:,} "
                          f"({embeddings.shape[0]:,} rows x {embeddings.shape[1]:,}). Reduce their dimension "
                          "(e.g. PCA to 64), or leave the option out.")


class LabelingSession:
    """Label a DataFrame one record at a time, with a model that trains as you label.

    For label sets (a record may carry several labels, or none) see
    :class:`~activelabel_widget.multisession.MultiLabelSession`.

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
        A ``postgresql://`` URL labels as one of a team on a shared server
        (:mod:`~activelabel_widget.team_store`): every record goes to one annotator at a time,
        and everyone's labels reach every annotator's model.
    model : estimator or list of estimators, optional
        scikit-learn classifiers (or Pipelines) fitted on the features; a list is a committee.
        Never fitted in place. Default: :func:`~activelabel_widget.models.default_model`.
    strategy : str
        Query strategy, one of :data:`activelabel_widget.strategies.STRATEGIES` (default "hybrid").
    retrain_every : int
        Retrain after this many new labels (default 10); training first starts as soon as two
        labels have two examples each.
    embeddings : str or array (n, d), optional
        A column of vectors or an array in the DataFrame's order (e.g. from your own encoder), for
        diversity and coverage.
    embeddings_in_model : bool
        Text only: the model reads ``embeddings`` beside the words (unit rows; pools of up to 50
        million values). With a good encoder its suggestions are far more accurate from few labels;
        the query order then serves a model that reads the embeddings, and measured with a model of
        words alone the labels were worth less (``benchmarks/README.md``). Default False.
    annotator : str, optional
        Who labels (default: the login name), saved with every label.
    fit_timeout : float, optional
        Seconds after which a background round is abandoned and the previous model kept.
    random_state : int
        Seed for every random choice.
    background : bool
        Run rounds in a background thread (default). ``False`` runs them inline (scripts, tests,
        simulations): every label that makes a fit due fits before it returns.
    lease_seconds : float, optional
        Team store only: how long a record on the card (or in the page's line) stays yours
        without an answer before it goes back to the pool (default 300).
    overlap : int, optional
        Team store only: how many annotators answer each record (default 1), each at most once;
        :meth:`answers` and :meth:`agreement` compare their answers.
    initial_labels : str, optional
        A column of earlier labels (missing where none): rows with no label in the store get
        theirs, saved with ``source="imported"`` as one undo step (again on every start, so rows
        added to the column later come in; a label given here since is never overwritten).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"body": ["app crashes", "add dark mode", "how do I log in?"]})
    >>> s = LabelingSession(df, text="body", labels=["bug", "feature", "question"], store=":memory:")
    >>> s.label(s.current, "bug"); len(s.labeled)
    1
    >>> s.close()
    """

    #: Whether a record carries a set of labels (see :class:`~activelabel_widget.multisession.MultiLabelSession`).
    multi_label = False

    def __init__(self, df: pd.DataFrame, *, labels, text=None, image=None, features=None, show=None, store=None,
                 model=None, strategy: str = "hybrid", retrain_every: int = 10, embeddings=None,
                 embeddings_in_model: bool = False,
                 annotator: str | None = None, fit_timeout: float | None = 600.0, random_state: int = 0,
                 background: bool = True, initial_labels: str | None = None,
                 lease_seconds: float | None = None, overlap: int | None = None):
        from .strategies import check_strategy

        self.labels = options.check_labels(labels)
        self.strategy = check_strategy(strategy)
        retrain_every = options.check_retrain_every(retrain_every)
        self.random_state = options.check_seed(random_state)
        self.dataset = Dataset(df, text=text, image=image, features=features, show=show)
        earlier = self._initial_labels(initial_labels)  # checked before the store is opened
        user_embeddings = validate_embeddings(embeddings, self.dataset) if embeddings is not None else None
        self._estimators = self._wrap_estimators(
            _models.check_estimators(model) or [_models.default_model(self.dataset.kind)])
        self.annotator = annotator or options.login_name()
        self._label_code = {name: code for code, name in enumerate(self.labels)}
        if not isinstance(embeddings_in_model, bool):
            raise OptionError(f"embeddings_in_model must be True or False, got {embeddings_in_model!r}.")
        if embeddings_in_model:
            _check_embeddings_in_model(self.dataset, user_embeddings)
        self.pool = PreparedPool(self.dataset, embeddings=user_embeddings, random_state=self.random_state,
                                 embeddings_in_model=embeddings_in_model)
        self.pool.on_progress = lambda step, done: on_host(partial(self._preparing, step, done))

        n = len(self.dataset)
        self._lock = threading.RLock()
        self._state = LabelState()
        self._codes = np.full(n, -1, dtype=np.int32)  # hand label code by position, -1 = none
        self._hand_cache: np.ndarray | None = None  # positions with a hand label; None after a write
        self._init_answers(n)
        self._has_label = np.zeros(n, dtype=bool)  # any label in force (hand or weak)
        self._rejected = np.zeros(n, dtype=bool)  # rejected: unusable, out of training and out of the line
        self._n_rejected = 0
        self._line = Line()
        self._skipped: set[int] = set()  # positions of skipped records (in the line's back, or on the card)
        self._n_labeled = 0
        self._session_labels = 0
        self._counted_ids: set[int] = set()  # the label events _session_labels counts: an undo uncounts only these
        self._listeners: list[Callable[[], None]] = []
        self._ranking_listeners: list[Callable[[np.ndarray], None]] = []
        self._model: FittedModel | None = None
        self._suggestions: tuple = (None, [], {})  # (model, labels, position -> suggestion) for the page's line
        self.model_status = ModelStatus(message="label two examples each of two labels to start training")
        self.fit_history: list[FitRecord] = []
        # a fixed sample the stop hint compares successive fits on (seeded: the same every restart)
        self._stop_set = np.sort(np.random.default_rng(self.random_state).permutation(n)[:STOP_SET_SIZE])
        self._stop_predictions: list[np.ndarray] = []  # per fit: the predicted label codes on the stop set
        self._policy = RetrainPolicy(retrain_every)
        self._refit_requested = False
        self._round_refits = False
        self._fit_progress_told = -float("inf")  # when the card last heard of a fit's progress (monotonic s)
        self._round_labels: tuple = ()
        #: Optional ``() -> (boost, why) or None``: ``boost`` an (n,) array in [0, 1] added to the strategy's
        #: ranking, ``why`` what it stands for on the card (the labeler sets it: votes for labels with no
        #: example yet, conflicts).
        self.priority_boost: Callable[[], tuple[np.ndarray, str] | None] | None = None
        self._background = background
        # rounds take at most about half the time while labels come fast: the card's answers share
        # the interpreter with them (see runner.py)
        self._runner = BackgroundRunner(self._round, on_done=self._swap_in, on_error=self._round_failed,
                                        time_limit=fit_timeout,
                                        rest=lambda result, seconds: seconds if result.fitted is not None else 0.0)
        self._current: int | None = None
        self._review: _Review | None = None  # set while walking labeled records again (review mode)
        self._checks: tuple = (None, None)  # (what they were computed on, (issue count, stop hint)) for the card
        self._relabels = 0  # corrections and undos so far: they change what the latest fit's labels say
        self._current_reason = ""
        self._picked_at_fit = 0
        self._previous_label: str | None = None
        self.card_token = 0
        #: Why this session no longer labels ("" while it does).
        self.closed_because = ""

        # the store is opened last: matching its labels to the data fills the arrays above
        if store is None:
            store = default_store_path()
        self._team = is_server_url(store)
        self._unavailable = np.zeros(n, dtype=bool)  # team store: records others hold or answered
        self._seen_event_id = 0  # team store: the newest event applied from the server's log
        self._team_annotators: set[str] = set()  # team store: everyone who has answered
        self._my_answers: dict[str, str] = {}  # team store with overlap: record key -> your answer in force
        self._short_of_answers = 0  # team store with overlap: records that still need another answer
        #: Team store: how many records this annotator holds at once (the card and the page's line).
        self.team_window = 8
        if self._team:
            from .team_store import DEFAULT_LEASE_SECONDS, TeamStore, shown_url

            if self.multi_label:
                raise OptionError("A team store holds single labels for now; label sets need a file store (store='labels.db').")
            if initial_labels is not None:
                self._refuse_on_team("initial_labels=", "import them into a file store and move it with copy_store() "
                                     "before the team starts")
            self.store_path = shown_url(store)
            self.overlap = 1 if overlap is None else overlap
            self.store = TeamStore(store, labels=self.labels, annotator=self.annotator, check=self._restore,
                                   on_taken_over=self._taken_over,
                                   lease_seconds=DEFAULT_LEASE_SECONDS if lease_seconds is None else lease_seconds,
                                   overlap=self.overlap)
        else:
            if lease_seconds is not None or overlap is not None:
                raise OptionError("lease_seconds= and overlap= are for a team store (store='postgresql://...'); a file "
                                  "store has one annotator and no leases.")
            self.overlap = 1
            memory = str(store) == ":memory:"
            self.store_path = ":memory:" if memory else str(Path(store).expanduser().resolve())
            self.store = LabelStore(None if memory else self.store_path, labels=self.labels, multi_label=self.multi_label,
                                    on_taken_over=self._taken_over, check=self._restore)

        if earlier is not None:
            self._import_frame(earlier, annotator="imported")
        # until the embedding index is built, explore in a seeded random order, never index order
        order = np.random.default_rng(self.random_state).permutation(n)
        self._line.replace_ranked(RankedLine(order, [RANDOM_WHILE_PREPARING] * n, "random"))
        if _models.ready_to_train(self.label_counts()):
            self._refit_requested = True
            self._policy.started(len(self._hand_positions()))
        self.request_rerank()
        if self._current is None:
            self._advance()
        self._stop_following = threading.Event()
        if self._team and self._background:
            threading.Thread(target=self._follow_loop, args=(self._stop_following,), name="activelabel-team",
                             daemon=True).start()

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
            review = self._review
            if review is None:
                queued = self._line.peek_with_reasons(ahead, self._is_open) if ahead > 0 else []
            else:
                queued = [(review.positions[i], review.reasons[i]) for i in self._review_ahead(ahead)]
            return CardSnapshot(
                self.card_token, position,
                "" if position is None else self.dataset.keys[position],
                "" if position is None else self.dataset.key_label(position),
                self._reason_now(), self._previous_label, self.suggestion, self.progress,
                self.model_status.as_dict(), self.strategy, self.model_status.fits,
                tuple(AheadRecord(p, self.dataset.keys[p], self.dataset.key_label(p), reason, self._suggestion_at(p),
                                  self._given(p) if review is not None else None, self._note_at(p))
                      for p, reason in queued),
                tuple(int(c) for c in self.label_counts()),
                self._given(position) if review is not None and position is not None else None,
                None if review is None else {"by": review.by, "caption": review.caption,
                                             "index": min(review.at, len(review.positions) - 1) + 1,
                                             "total": len(review.positions)},
                tuple(self.labels), "" if position is None else self._note_at(position))

    def _note_at(self, position: int) -> str:
        event = self._state.notes.get(self.dataset.keys[position])
        return "" if event is None else event.note

    def _given(self, position: int) -> GivenLabel | None:
        event = self._state.labels.get(self.dataset.keys[position]) if self._has_label[position] else None
        return None if event is None else GivenLabel(event.label, event.source, event.annotator, event.at)

    def _review_ahead(self, k: int) -> list[int]:
        """Indices into the review of the next ``k`` records after the card that still carry a label."""
        review = self._review
        found = []
        for index in range(review.at + 1, len(review.positions)):
            if len(found) >= k:
                break
            if self._has_label[review.positions[index]]:
                found.append(index)
        return found

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

    def open_to_label(self, positions) -> np.ndarray:
        """For each position, whether the row has no label and was not rejected (what a bulk label may take)."""
        positions = np.asarray(positions, dtype=np.int64)
        with self._lock:
            return ~self._has_label[positions] & ~self._rejected[positions]

    def label_sources(self) -> tuple[np.ndarray, list[str]]:
        """The hand-labeled rows' positions (sorted) and where each label came from ("hand", "bulk", ...)."""
        with self._lock:
            positions = self._hand_positions().copy()
            return positions, [self._state.labels[self.dataset.keys[p]].source for p in positions.tolist()]

    def label_counts(self) -> np.ndarray:
        """Hand labels per label, (K,) ints."""
        with self._lock:
            return np.bincount(self._codes[self._hand_positions()], minlength=len(self.labels))

    def _hand_positions(self) -> np.ndarray:
        """Positions with a hand label, sorted (read-only), scanned again only after the codes change:
        the card asks several times per answer, and a scan costs a millisecond at a million rows."""
        with self._lock:
            if self._hand_cache is None:
                self._hand_cache = np.flatnonzero(self._codes >= 0)
                self._hand_cache.flags.writeable = False
            return self._hand_cache

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
        training labels honestly, e.g. as a heuristic. ``(None, None)`` before the first fit. Right
        after a first fit on a large text pool, rows outside the scored sample are NaN for the few
        seconds until every row's features are computed.
        """
        model = self._model
        if model is None:
            return None, None
        return model.held_out_proba() if held_out else (model.proba, model.committee_proba)

    @property
    def progress(self) -> dict:
        """``{labeled, total, session, skipped, rejected}`` for the progress line; with a team store also
        ``annotators`` (people who have answered), ``with_others`` (records others hold now) and, with
        ``overlap`` > 1, ``need_another`` (records with some answers but fewer than ``overlap``, as of
        the last :meth:`follow_team`)."""
        with self._lock:
            progress = {"labeled": self._n_labeled, "total": len(self.dataset), "session": self._session_labels,
                        "skipped": len(self._skipped), "rejected": self._n_rejected}
            if self._team:  # how many people have answered, and how many records others hold right now
                progress.update(annotators=len(self._team_annotators), with_others=int(self._unavailable.sum()),
                                need_another=self._short_of_answers if self.overlap > 1 else None)
            return progress

    @property
    def suggestion(self) -> tuple[str, float] | None:
        """The model's suggestion for the current record: (label, confidence), or None."""
        return None if self._current is None else self._suggestion_at(self._current)

    def _suggestion_at(self, position: int) -> tuple[str, float] | None:
        """The model's label for a row and its confidence; in review, the out-of-fold one where a fold
        scored the row (the model trained on the row's label, so its own prediction would echo it)."""
        from .strategies import confidence

        model = self._model
        if model is None:
            return None
        review = self._review
        # the page's line asks for the same records after every answer: remember them per model
        memo_model, memo_labels, memo = self._suggestions
        if review is None and memo_model is model and memo_labels == self.labels:
            if position in memo:
                return memo[position]
        elif review is None:
            memo = {}
            self._suggestions = (model, list(self.labels), memo)
        row = self._proba_row(model, position)
        if row is None:
            return None
        row = row[None]
        if review is not None:
            index = self._review_index(position)
            if index is not None and np.isfinite(review.oof[index]).all():
                row = review.oof[index : index + 1]
        suggestion = self.labels[int(row.argmax())], float(confidence(row)[0])
        if review is None:
            if len(memo) >= _SUGGESTIONS_KEPT:
                memo.clear()
            memo[position] = suggestion
        return suggestion

    def _proba_row(self, model: FittedModel, position: int) -> np.ndarray | None:
        """The model's probabilities for one row, scored now when its fit scored a sample only (a
        millisecond: the row is featurised on its own); None if the model cannot score it."""
        row = model.proba[position]
        if model.scored is None or model.scored[position]:
            return row
        try:
            return _models.predict_proba(model.committee, self.pool.features_of([position]))[0][0]
        except ModelError:
            return None

    def _review_index(self, position: int) -> int | None:
        review = self._review
        if review is None:
            return None
        if review.at < len(review.positions) and review.positions[review.at] == position:
            return review.at
        try:
            return review.positions.index(position, review.at)
        except ValueError:
            return None

    def label_of(self, key) -> str | None:
        """The label in force on the row with index value ``key`` (hand or weak), or None."""
        position = self.dataset.position(key)
        with self._lock:
            if not self._has_label[position]:
                return None
            event = self._state.labels.get(self.dataset.keys[position])
            return None if event is None else event.label

    def recent_answers(self, limit: int = 8) -> list[Answer]:
        """The newest ``limit`` answers still in force (what :meth:`undo` would take back, in that order).

        Each :class:`Answer` recalls the record (a one-line snippet), its label and the label it
        replaced, who gave it and when; many labels saved as one step (promoted weak labels, an
        import) are one ``"group"`` entry.
        """
        with self._lock:
            steps = self._state.recent_steps(limit)
            answers = []
            for size, event, previous in steps:
                position = self.dataset.position_of.get(event.key)
                if size > 1:
                    answers.append(Answer(None, "", f"{size:,} labels saved together", "group", event.label, None,
                                          event.source, event.annotator, event.at, size, False, None))
                    continue
                shown = position is not None
                answers.append(Answer(
                    self.dataset.index_value(position) if shown else None,
                    self.dataset.key_label(position) if shown else str(event.key),
                    self.dataset.snippet(position) if shown else "(no longer in the data)",
                    event.action, event.label, None if previous is None else previous.label, event.source,
                    event.annotator, event.at, 1,
                    bool(shown and (self._has_label[position] or position in self._skipped or self._rejected[position])),
                    event.note))
            return answers

    def label_history(self, key) -> pd.DataFrame:
        """Every event the store holds for the row with index value ``key``, oldest first, undone ones
        included: ``at``, ``action``, ``label``, ``source``, ``annotator``, ``undone`` (taken back later)."""
        store_key = self.dataset.keys[self.dataset.position(key)]
        mine = [e for e in self.store.events(key=store_key) if e.action != "undo"]
        with self._lock:  # every event not taken back is in the undo history (a group's undo names only its last key)
            live = {e.id for step in self._state.history for e, _ in step if e.key == store_key}
        undone = {e.id for e in mine} - live
        return pd.DataFrame({
            "at": pd.to_datetime([e.at for e in mine], utc=True, format="ISO8601"),
            "action": [e.action for e in mine], "label": [e.label for e in mine],
            "source": [e.source for e in mine], "annotator": [e.annotator for e in mine],
            "note": [e.note for e in mine], "undone": [e.id in undone for e in mine],
        })

    def checks(self) -> tuple[int | None, "object"]:
        """``(how many hand labels look wrong or None before a cross-validated fit, the stop hint)``
        for the card: computed once per fit and label change."""
        from .stopping import MIN_PER_CLASS

        with self._lock:
            # new labels are not among the fit's rows: only a fit, a correction or an undo changes the count;
            # the hint also waits on every label reaching its minimum
            key = (self.model_status.fits, self._relabels, tuple(np.minimum(self.label_counts(), MIN_PER_CLASS)))
            if self._checks[0] == key:
                return self._checks[1]
        issues = self.label_issues()
        value = (None if issues.attrs.get("reason") else len(issues), self.stop_hint())
        with self._lock:
            self._checks = (key, value)
        return value

    # -- actions ---------------------------------------------------------------------------------
    def label(self, key, label: str, *, source: str | None = None, confidence: float | None = None) -> None:
        """Label the row with index value ``key``; saved to the store before this returns.

        When ``key`` is the record on the card, the next record is shown. ``source`` defaults to
        "hand", or "suggestion-corrected" when the card suggested another label; only
        :meth:`accept` saves "suggestion-accepted". On a row that already has a hand label this
        is a correction: a new event with ``source="corrected"`` (the earlier label stays in the
        log, and :meth:`undo` brings it back); the same label again saves nothing.
        """
        label = self._stored_label(label)
        position = self.dataset.position(key)
        try:
            self._label(position, label, source, confidence)
        except AlreadyAnsweredError:
            self.follow_team()  # another annotator's answer arrives here: the card moves on
            raise
        self._notify()

    def _label(self, position: int, label: str, source: str | None, confidence: float | None) -> None:
        with self._lock:
            on_card = position == self._current
            key = self.dataset.keys[position]
            if self.overlap > 1:  # others' answers on the record are theirs: only yours is corrected
                relabel = key in self._my_answers
                same = self._my_answers.get(key) == label and source != ADJUDICATED  # a settlement is always saved
            else:
                relabel = self._codes[position] >= 0
                same = relabel and self._state.labels[key].label == label
            if same:
                if on_card and self._review is not None:  # the label stands: review moves on
                    self._review.steps.append((self._review.at, None))
                    self._review_next()
            else:
                suggestion = self.suggestion if on_card else None
                if source is None:
                    # a label typed by hand stays "hand" even when it agrees with the suggestion: only
                    # accept() (Enter) records "suggestion-accepted", so rubber-stamping can be audited
                    source = RELABELED if relabel else CORRECTED if suggestion is not None and suggestion[0] != label else HAND
                if confidence is None and suggestion is not None:
                    confidence = suggestion[1]
                event = self.store.append("label", self.dataset.keys[position], label=label, annotator=self.annotator,
                                          source=source, confidence=confidence, content=self._content(position))
                self._team_annotators.add(self.annotator)
                if self.overlap > 1:
                    self._unavailable[position] = True  # answered here: never offered to you again
                    self._my_answers[key] = label
                self._reflect(self._state.apply(event))
                self._session_labels += 1
                self._counted_ids.add(event.id)
                self._relabels += int(relabel)
                # a fit that is due starts first: run inline (background=False) the next pick comes from it
                self._maybe_retrain()
                if on_card and self._review is not None:
                    self._review.steps.append((self._review.at, event.id))
                    self._review_next()
                elif on_card:
                    self._advance()

    def label_many(self, positions, labels, *, source: str, confidence=None) -> int:
        """Save labels for many rows (by position) in one transaction and one undo step; returns how many.

        Rows that already carry the same label from the same source are left as they are, so
        calling this twice with the same labels saves nothing the second time. A row listed twice
        gets the last label given for it. Labels that no person gave (``source="weak"``) never
        replace a rejection.
        """
        positions = np.asarray(positions, dtype=np.int64).ravel()
        labels = [options.check_label(label, self.labels) for label in labels]
        confidence = [None] * len(positions) if confidence is None else list(confidence)
        _, last_of_row = np.unique(positions[::-1], return_index=True)
        once = np.sort(positions.size - 1 - last_of_row)
        positions, labels, confidence = positions[once], [labels[i] for i in once], [confidence[i] for i in once]
        with self._lock:
            keys = [self.dataset.keys[p] for p in positions]
            fresh = [i for i, key in enumerate(keys)
                     if not ((event := self._state.labels.get(key)) is not None and self._has_label[positions[i]]
                             and event.label == labels[i] and event.source == source)
                     and (source in HUMAN_SOURCES or not self._rejected[positions[i]])]
            if not fresh:
                return 0
            events = self.store.append_labels([keys[i] for i in fresh], [labels[i] for i in fresh],
                                              annotators=self.annotator, sources=source,
                                              confidences=[confidence[i] for i in fresh],
                                              contents=[self._content(positions[i]) for i in fresh])
            self._apply_labels(events, positions[fresh])
            self._advance_if_card_labeled()
        self._notify()
        return len(fresh)

    def accept(self) -> None:
        """Accept the model's suggestion for the record on the card."""
        with self._lock:
            suggestion, key = self.suggestion, self.current
        if key is None:
            raise LabelError("There is no record on the card to accept a suggestion for (every record is answered, "
                             "or the line is empty for now).")
        if suggestion is None:
            raise LabelError("There is no suggestion to accept yet: label by hand until the model has trained.")
        self.label(key, suggestion[0], source=ACCEPTED, confidence=suggestion[1])

    def skip(self, key=None) -> None:
        """Put a record at the back of the line (saved, so a restart keeps it there).

        ``key`` (an index value) skips that record; by default the one on the card. A record that is
        answered already (labeled, or rejected and brought back) keeps its answer and only leaves the
        card: it has no place in the line to go back to.
        """
        with self._lock:
            position = self._current if key is None else self.dataset.position(key)
            if position is None:
                return
            if self._review is not None and position == self._current:
                self.keep()  # in review, skip moves on and keeps the label
                return
            if self.overlap > 1 or not (self._has_label[position] or self._rejected[position]):
                event = self.store.append("skip", self.dataset.keys[position], annotator=self.annotator)
                self._reflect(self._state.apply(event))
            if position == self._current:
                self._advance()
        self._notify()

    def reject(self, key=None) -> None:
        """Mark a record unusable (garbled, off-topic, a duplicate): saved, out of training and out of the
        line; a label it had is taken off (undo brings it back). ``key``: by default the record on the card."""
        with self._lock:
            position = self._current if key is None else self.dataset.position(key)
            if position is None:
                return
            event = self.store.append("reject", self.dataset.keys[position], annotator=self.annotator,
                                      content=self._content(position))
            self._reflect(self._state.apply(event))
            self._relabels += 1
            if position == self._current:
                if self._review is not None:
                    self._review.steps.append((self._review.at, event.id))
                    self._review_next()
                else:
                    self._advance()
        self._notify()

    def note(self, key, text: str) -> None:
        """Save a free-text note on a record (an empty text clears it); it does not move the card."""
        position = self.dataset.position(key)
        with self._lock:
            event = self.store.append("note", self.dataset.keys[position], annotator=self.annotator,
                                      note=str(text).strip())
            self._state.apply(event)
        self._notify()

    def note_of(self, key) -> str:
        """The note on the row with index value ``key`` ("" when none)."""
        position = self.dataset.position(key)
        with self._lock:
            return self._note_at(position)

    def undo_answer(self, key, action: str | None = None) -> bool:
        """Take back the newest answer, which the caller says is on the row with index value ``key``
        (and, with ``action``, was that answer: "label", "accept", "skip", "reject", or "keep" in a review), even when
        notes were saved after it (the card's note field): those notes are taken back first and
        saved again after, so each keeps its text. Returns False, with nothing changed, when the
        newest step that is not a note is not that answer.
        """
        saved_as = {"accept": "label"}.get(action, action)
        with self._lock:
            if self._review is not None:
                answer_here = self.undo_target() == key
            elif action == "keep":  # a keep saves nothing: with its review over there is nothing to walk back
                answer_here = False
            else:
                notes, answer = [], None
                for step in reversed(self._state.history):
                    if self._undo_annotator is not None and step[-1][0].annotator != self._undo_annotator:
                        continue
                    if len(step) == 1 and step[0][0].action == "note":
                        notes.append(step[0][0].key)
                        continue
                    answer = step
                    break
                position = None if answer is None else self.dataset.position_of.get(answer[-1][0].key)
                answer_here = (position is not None and self.dataset.index_value(position) == key
                               and saved_as in (None, answer[-1][0].action) and not self._why_not_undoable(answer)
                               and all(k in self.dataset.position_of for k in notes))
                kept = [] if not answer_here else [
                    (self.dataset.index_value(self.dataset.position_of[k]), self._note_at(self.dataset.position_of[k]))
                    for k in dict.fromkeys(notes)]
        if not answer_here:
            return False
        if self._review is not None:
            return self.undo() is not None
        for _ in notes:
            self.undo()
        self.undo()
        for index, text in kept:
            self.note(index, text)
        return True

    def undo_target(self):
        """The index value of the record :meth:`undo` would take back now (the last of a group), or None."""
        with self._lock:
            review = self._review
            if review is not None and review.steps:
                return self.dataset.index_value(review.positions[review.steps[-1][0]])
            step = self._state.last_step(self._undo_annotator)
            if step is None:
                return None
            position = self.dataset.position_of.get(step[-1][0].key)
            return None if position is None else self.dataset.index_value(position)

    def show(self, key, reason: str = "") -> None:
        """Put the unlabeled (or rejected) record with index value ``key`` on the card now (the one before
        goes back to the head of the line). The card's page calls this with the record it shows next; the
        recent answers call it to bring back a skipped or rejected record."""
        position = self.dataset.position(key)
        with self._lock:
            rejected = bool(self._rejected[position]) and not self._has_label[position]
            if self._review is not None or position == self._current or not (self._is_open(position) or rejected):
                return  # in review the card follows the review's order
            if self._current is not None:
                self._line.push_front(self._current, self._current_reason)
            if rejected:  # the line passes rejected records over: put it on the card directly
                self._current, self._current_reason = position, reason or "rejected earlier: label it to use it"
                self._previous_label = None
                self._picked_at_fit = self.model_status.fits
                self.card_token += 1
            else:
                self._line.push_front(position, reason or "next in the page's line")
                self._advance()
        self._notify()

    def positions_of(self, keys) -> np.ndarray:
        """Row positions of many index values at once; :class:`LabelError` names the first that is not a row."""
        keys = list(keys)
        try:
            positions = self.dataset.df.index.get_indexer(keys)
        except (TypeError, ValueError):  # keys pandas cannot look up together: one at a time, for the message
            return np.array([self.dataset.position(key) for key in keys], dtype=np.int64)
        missing = np.flatnonzero(positions < 0)
        if len(missing):
            self.dataset.position(keys[missing[0]])  # raises with the message for one key
            raise LabelError(f"Row {keys[missing[0]]!r} is not in the DataFrame's index.")
        return positions.astype(np.int64)

    def queue(self, keys, reason: str = "queued from the map") -> int:
        """Put records first in the line, in the order given, right after the one on the card.

        ``keys`` are index values (e.g. a selection on the embedding map). Records already labeled
        or rejected, and the one on the card, are passed over; a later ``queue`` comes before an
        earlier one. A fit's new ranking does not move them. Returns how many were queued; a key
        that is not a row raises :class:`LabelError` and queues nothing.
        """
        return self.queue_positions(self.positions_of(keys), reason)

    def queue_positions(self, positions, reason: str = "queued from the map") -> int:
        """:meth:`queue` by row positions (the map holds positions: no round trip through the index)."""
        positions = list(dict.fromkeys(np.asarray(positions, dtype=np.int64).tolist()))
        with self._lock:  # in review they wait at the head of the line until labeling resumes
            opened = [position for position in positions if self._is_open(position)]
            for position in reversed(opened):
                self._line.push_front(position, reason)
            if self._current is None and opened:
                self._advance()
        self._notify()
        return len(opened)

    def undo(self):
        """Take back the last label, skip or group of labels; a single record comes back on the card.

        Returns the key of the record taken back (the last of a group), or None when there is
        nothing to undo.
        """
        with self._lock:
            taken_back = self._undo_in_review()
        if taken_back is not None:
            self._notify()
            return self.dataset.index_value(taken_back)
        with self._lock:
            self._end_review()
            step = self._state.last_step(self._undo_annotator)
            if step is None:
                return None
            renamed = self._rename_taken_back(step)
            refusal = self._why_not_undoable(step, renamed=renamed is not None)
            if refusal:
                raise LabelError(refusal)
            last = step[-1][0]
            event = self.store.append("undo", last.key, annotator=self.annotator, undoes=last.id)
            if renamed is not None:  # the old name goes back into its place, key and model column
                self._set_label_names([renamed[1] if label == renamed[0] else label for label in self.labels])
            # an undo never strands a label: one the step's rows had before comes back
            for name in dict.fromkeys(p.label for _, p in step if p is not None and p.action == "label"):
                if (not self.multi_label and name not in self._known_labels()
                        and name not in self.restore_report.retired):
                    self._add_label(name)
            self._reflect(self._state.apply(event))
            if self.overlap > 1:
                for undone, previous in step:
                    if previous is not None and previous.annotator == self.annotator and previous.action == "label":
                        self._my_answers[undone.key] = previous.label
                    else:
                        self._my_answers.pop(undone.key, None)
                        position = self.dataset.position_of.get(undone.key)
                        if position is not None:
                            self._unavailable[position] = False  # yours to answer again
            self._relabels += 1
            position = self.dataset.position_of.get(last.key)
            if len(step) == 1:
                self._uncount(last.id)
            if len(step) == 1 and position is not None and self._has_label[position] and last.action == "label":
                # a correction taken back: the record still has its earlier label, so it comes back as a
                # one-record review (the card shows that label; Enter keeps it, a key changes it again)
                if self._current is not None:
                    self._line.push_front(self._current, self._current_reason)
                self._review = _Review("keys", "shown again after undo", [position], ["shown again after undo"],
                                       self._oof_rows(np.array([position])))
                self._show_review_card(previous_label=last.label)
            elif len(step) == 1 and position is not None:  # a group (promoted weak labels) leaves the card alone
                if self._current is not None and self._current != position:
                    self._line.push_front(self._current, self._current_reason)
                if self._is_open(position) or position == self._current:
                    self._line.push_front(position, "shown again after undo")
                    self._current = None
                self._advance(previous_label=last.label if last.action == "label" else None)
            elif self._current is None and self._review is None:  # a group taken back when all was done
                self._advance()
        self._notify()
        return last.key if position is None else self.dataset.index_value(position)

    def _why_not_undoable(self, step, *, renamed: bool | None = None) -> str:
        """Why ``step`` cannot be taken back on this data, or "".

        An undo never changes a label (or a note) the card cannot show: taking back an answer on a
        row that is gone from the data, or whose content changed, would delete (or turn back) what
        is kept for that record in silence. A skip there loses nothing, and a rename taken back
        gives those rows their earlier label, so both go through (``renamed``: :meth:`_rename_taken_back`
        found a rename in ``step``, when the caller knows).
        """
        renamed = len(step) > 1 and (self._rename_taken_back(step) is not None if renamed is None else renamed)
        for undone, _ in step:
            if undone.action == "skip" or renamed:
                continue
            position = self.dataset.position_of.get(undone.key)
            if position is not None and (undone.action == "note"
                                         or records.label_applies(undone, position, self.dataset)):
                continue
            why = "which is not in this data any more" if position is None else "whose content changed since"
            kept = ("Its note stays in the store" if undone.action == "note"
                    else "Its label stays in the store (see missing_labels())")
            return (f"Undo stops here: the last answer is on row {key_text(undone.key)}, {why}. {kept}; to take it "
                    f"back, open the labeler on data with that row as it was.")
        return ""

    def _rename_taken_back(self, step) -> tuple[str, str] | None:
        """``(new, old)`` when undoing ``step`` takes back a rename: every row of it goes from ``new`` (a
        label) back to ``old`` (no longer one), and no other row carries ``new``."""
        if self.multi_label or any(u.action != "label" or p is None or p.action != "label" for u, p in step):
            return None
        # a rename copies each row's answer but its name (rename_label): a relabel by hand or in bulk does not
        if any((u.source, u.annotator, u.confidence, u.content) != (p.source, p.annotator, p.confidence, p.content)
               for u, p in step):
            return None
        pairs = {(undone.label, previous.label) for undone, previous in step}
        if len(pairs) != 1:
            return None
        new, old = pairs.pop()
        if new not in self.labels or old in self._known_labels() or old in self.restore_report.retired:
            return None
        keys = {undone.key for undone, _ in step}
        if any(event.label == new and key not in keys for key, event in self._state.labels.items()):
            return None  # rows of its own carry the new name: it stays, and the old one is added
        return new, old

    def _uncount(self, event_id: int) -> None:
        """An undo took back the label event ``event_id``: "this session" goes down if it counted it."""
        if event_id in self._counted_ids:
            self._counted_ids.discard(event_id)
            self._session_labels -= 1

    def _set_label_names(self, labels: list[str]) -> None:
        """Name the labels anew, each in its place (its key, colour and model column stay)."""
        self.labels = labels
        self._label_code = {label: code for code, label in enumerate(labels)}

    # -- the label list --------------------------------------------------------------------------
    def add_label(self, name: str) -> None:
        """Add a label now: the card shows it at once and the model learns it from the next round.

        Rows whose stored label has this name (kept while it was not in ``labels=``) have it again.
        """
        with self._lock:
            self._add_label(name)
        self._notify()

    def _add_label(self, name: str) -> None:
        labels = options.check_labels([*self.labels, str(name)])
        added = labels[-1]
        self.labels = labels
        self._label_code[added] = len(labels) - 1
        if self._model is not None:
            self._model = self._model.with_columns([*range(len(labels) - 1), None])
        if self._review is not None and self._review.oof.shape[1] == len(labels) - 1:
            self._review.oof = np.pad(self._review.oof, ((0, 0), (0, 1)))  # nobody gave it yet: probability 0
        came_back = self.restore_report.retired.pop(added, [])
        self._reflect(came_back)
        self._relabels += 1

    def rename_label(self, old: str, new: str) -> int:
        """Give a label a new name; returns how many rows were relabeled.

        Every row that carries ``old`` gets a label event with ``new`` (one undo step, keeping each
        row's source, annotator, confidence and content), so the log still holds what was given
        under the old name (:meth:`label_history`) and the model keeps learning from those rows.
        The label keeps its place, key and colour on the card. :meth:`undo` right after takes the
        rename back, ``old`` in its place again (a label no row carries leaves no step to take back:
        rename it again). Restart with ``new`` in ``labels=``: a list that still says
        ``old`` reports the renamed rows as not in ``labels=`` and applies none of them.

        Raises
        ------
        LabelError
            ``old`` is not a label, or ``new`` is empty or already a label.
        """
        self._refuse_on_team("rename_label()", "rename it on a file store (copy_store there and back)")
        with self._lock:
            old = options.check_label(old, self.labels)
            labels = options.check_labels([str(new) if label == old else label for label in self.labels])
            new = labels[self.labels.index(old)]
            carried = [event for event in self._state.labels.values() if event.label == old]
            events = self.store.append_labels([e.key for e in carried], [new] * len(carried),
                                              annotators=[e.annotator for e in carried],
                                              sources=[e.source for e in carried],
                                              confidences=[e.confidence for e in carried],
                                              contents=[e.content for e in carried])
            self._set_label_names(labels)
            changed = [key for event in events for key in self._state.apply(event)]
            self._reflect(changed + self.restore_report.retired.pop(new, []))
            self._relabels += 1
        self._notify()
        return len(events)

    def remove_label(self, name: str) -> None:
        """Take a label off the card; only one no row carries now (relabel its rows first, e.g. in review).

        Raises
        ------
        LabelError
            ``name`` is not a label, rows still carry it, or only one label would be left.
        """
        with self._lock:
            name = options.check_label(name, self.labels)
            code = self._label_code[name]
            carriers = [event for key, event in self._state.labels.items() if event.label == name
                        and (position := self.dataset.position_of.get(key)) is not None and self._has_label[position]]
            if carriers:
                weak = sum(event.source not in HUMAN_SOURCES for event in carriers)
                how = []
                if len(carriers) > weak:
                    how.append(f"{len(carriers) - weak:,} labeled by people: al.review(by='label') walks them")
                if weak:
                    how.append(f"{weak:,} promoted weak label{'s' if weak != 1 else ''}: undo the promotion or "
                               f"label {'them' if weak != 1 else 'it'} by hand")
                raise LabelError(f"{len(carriers):,} rows carry the label {name!r}; relabel them first "
                                 f"({'; '.join(how)}), then remove it.")
            labels = options.check_labels([label for label in self.labels if label != name])
            self._set_label_names(labels)
            self._codes[self._codes > code] -= 1
            if self._model is not None:
                self._model = self._model.with_columns([c for c in range(len(labels) + 1) if c != code])
            self._stop_predictions = [np.where(p > code, p - 1, p) for p in self._stop_predictions]
            if self._review is not None:  # its suggestions are per label too
                self._review.oof = np.delete(self._review.oof, code, axis=1)
            self._relabels += 1
        self._notify()

    # -- review ----------------------------------------------------------------------------------
    def review(self, by: str = "issues", *, keys=None) -> int:
        """Walk hand-labeled records again, in order ``by``; returns how many are in the walk.

        ``by`` is one of :data:`activelabel_widget.review.REVIEW_ORDERS`: ``"issues"`` (likely label
        errors first), ``"disagreement"`` (the out-of-fold prediction differs from the label),
        ``"label"``, ``"annotator"`` or ``"time"`` (newest first). ``keys`` (index values) walks
        those records instead, in that order (the card's recent answers use it). The card shows
        each record with its label: :meth:`label` with another label saves a correction
        (``source="corrected"``), :meth:`keep` (Enter) or the same label moves on, :meth:`undo`
        walks back. When the walk ends, or on :meth:`end_review`, labeling goes on where it was.

        Raises
        ------
        LabelError
            Nothing to review in that order (no labels yet, no cross-validated fit for
            "issues" and "disagreement", or no record the order picks), or an unknown order.
        """
        with self._lock:
            if keys is not None:
                positions = [self.dataset.position(key) for key in keys]
                unlabeled = [self.dataset.key_label(p) for p in positions if not self._has_label[p]]
                if unlabeled or not positions:
                    raise LabelError(f"Only labeled records can be reviewed; row(s) {unlabeled[:5]} have no label: "
                                     "label them on the card." if unlabeled else "review(keys=[]) names no record.")
                by, caption = "keys", "chosen records"
                reasons = ["chosen to review"] * len(positions)
                oof = self._oof_rows(np.asarray(positions, dtype=np.int64))
            else:
                by = check_order(by)
                positions, reasons, oof = self._review_order(by)
                caption = describe_order(by)
            if self._review is None and self._current is not None:
                self._line.push_front(self._current, self._current_reason)  # labeling goes on here afterwards
            self._review = _Review(by, caption, list(positions), list(reasons), oof)
            self._show_review_card()
        self._notify()
        return len(positions)

    def keep(self, key=None) -> None:
        """In review: keep the label of the record on the card and show the next one."""
        with self._lock:
            review = self._review
            if review is None:
                raise LabelError("keep() moves on in review; start one with review() (on the card: the review menu).")
            if key is not None and self.dataset.position(key) != self._current:
                return  # an answer for a record the walk has left
            review.steps.append((review.at, None))
            self._review_next()
        self._notify()

    def end_review(self) -> None:
        """Leave review: the card shows the record labeling had reached."""
        with self._lock:
            if self._review is None:
                return
            self._end_review()
        self._notify()

    @property
    def reviewing(self) -> dict | None:
        """``{by, caption, index, total}`` while reviewing (``index`` is 1-based), else None."""
        return self.snapshot().review

    def _review_order(self, by: str) -> tuple[np.ndarray, list, np.ndarray]:
        positions = np.flatnonzero(self._codes >= 0)
        if not len(positions):
            raise LabelError("There are no hand labels to review yet: label a few records first.")
        events = [self._state.labels[self.dataset.keys[p]] for p in positions]
        oof = self._oof_rows(positions)
        if by in _NEEDS_FIT and not np.isfinite(oof).all(axis=1).any():
            raise LabelError(f"Review by {describe_order(by)} needs a cross-validated model: label a few examples of "
                             "each label and let it train (or press r), or review by label, annotator or time.")
        order, reasons = review_order(by, codes=self._codes[positions], ids=np.array([e.id for e in events]),
                                      oof_proba=oof, annotators=[e.annotator for e in events],
                                      label_names=self.labels)
        if not len(order):
            raise LabelError(f"No label to review by {describe_order(by)}: the model agrees with every hand label "
                             "it could check. Review by label, annotator or time to walk them all.")
        return positions[order], reasons, oof[order]

    def _oof_rows(self, positions: np.ndarray) -> np.ndarray:
        """(len(positions), K) out-of-fold probabilities of the latest fit, NaN where no fold scored the row."""
        oof = np.full((len(positions), len(self.labels)), np.nan)
        model = self._model
        if model is None or model.held_out is None or model.held_out[1].proba is None:
            return oof
        fitted, checked = model.held_out
        where = {int(p): i for i, p in enumerate(fitted.tolist())}
        for row, position in enumerate(positions.tolist()):
            i = where.get(position)
            if i is not None:
                oof[row] = checked.proba[i]
        return oof

    def _show_review_card(self, *, previous_label: str | None = None) -> None:
        """Put the review's record at ``at`` on the card (or end the walk when none is left)."""
        review = self._review
        while review.at < len(review.positions) and not self._has_label[review.positions[review.at]]:
            review.at += 1  # its label was taken back meanwhile: nothing to review
        if review.at >= len(review.positions):
            self._end_review()
            return
        self._current = review.positions[review.at]
        self._current_reason = review.reasons[review.at]
        self._previous_label = previous_label
        self._picked_at_fit = self.model_status.fits
        self.card_token += 1

    def _review_next(self) -> None:
        self._review.at += 1
        self._show_review_card()

    def _end_review(self) -> None:
        if self._review is None:
            return
        self._review = None
        self._current = None
        self._advance()

    def _undo_in_review(self) -> int | None:
        """Walk the review back one answer (a kept label: no event; a correction: undone in the store).

        Returns the position brought back on the card, or None when the review has nothing to walk
        back (not reviewing, no answers yet, or something else was saved since the last one).
        """
        review = self._review
        if review is None or not review.steps:
            return None
        index, event_id = review.steps[-1]
        previous = None
        if event_id is not None:
            step = self._state.last_step()
            if step is None or len(step) != 1 or step[-1][0].id != event_id:
                return None  # something else was saved after the correction: a plain undo takes that back
            corrected = step[-1][0]
            event = self.store.append("undo", corrected.key, annotator=self.annotator, undoes=corrected.id)
            self._reflect(self._state.apply(event))
            self._relabels += 1
            self._uncount(corrected.id)
            previous = corrected.label
        review.steps.pop()
        review.at = index
        self._show_review_card(previous_label=previous)
        return review.positions[index]

    def _advance_if_card_labeled(self) -> None:
        """Labels saved in bulk may have labeled the card's record: labeling moves on (a review does not)."""
        if self._review is None and self._current is not None and (self._has_label[self._current] or self._rejected[self._current]):
            self._advance()

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
            self._policy.started(len(self._hand_positions()))
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
        """The hand-labeled and the rejected rows: original columns plus label, labeled_at, annotator, source,
        confidence, previous_label (the label a correction replaced; missing for a first label), rejected
        (True for a rejected row, whose label is missing: keep ``labeled[~labeled.rejected]`` to train) and
        note (the note on the row, missing when none)."""
        return self._labeled_frame(self.labels)

    def answers(self) -> pd.DataFrame:
        """Every answer in force: one row per record and annotator (several per record when
        ``overlap`` > 1), index the record's index value, with ``label``, ``annotator``,
        ``labeled_at`` and ``source``. An answer its annotator took back is not here; an
        adjudication (:meth:`adjudicate`) settles records and is not an answer."""
        rows = []
        for (key, annotator), event in _answers_in_force(self.store.events()).items():
            position = self.dataset.position_of.get(key)
            if position is not None and event.action == "label":
                rows.append((self.dataset.index_value(position), event.label, annotator, event.at, event.source))
        frame = pd.DataFrame(rows, columns=["key", "label", "annotator", "labeled_at", "source"])
        frame["labeled_at"] = pd.to_datetime(frame["labeled_at"], utc=True, format="ISO8601")
        return frame.set_index("key").rename_axis(self.dataset.df.index.name).sort_values(["labeled_at"])

    def agreement(self) -> dict:
        """How far the annotators agree on the records several of them answered (see
        :func:`activelabel_widget.agreement.agreement_table`): ``overall`` (Krippendorff's alpha,
        Fleiss' kappa, Cohen's kappa for two), ``annotators`` and ``label_pairs``."""
        from .agreement import agreement_table

        return agreement_table(self.answers(), list(self.labels))

    def disagreements(self) -> pd.DataFrame:
        """The records whose annotators gave different labels, with their labels and who gave them
        (settle each with :meth:`adjudicate`); records already adjudicated are left out."""
        from .agreement import disagreements

        split = disagreements(self.answers())
        with self._lock:
            settled = {self.dataset.index_value(p) for p in (self.dataset.position_of.get(k) for k, e in
                       self._state.labels.items() if e.source == ADJUDICATED) if p is not None}
        return split[~split.index.isin(settled)]

    def adjudicate(self, key, label: str) -> None:
        """Settle a record annotators answered differently: ``label`` with ``source="adjudicated"``,
        the label :attr:`labeled` and the model use from now on."""
        self.label(key, label, source=ADJUDICATED)

    def _labeled_frame(self, categories: list | None) -> pd.DataFrame:
        """:attr:`labeled`, its label columns categorical over ``categories`` (None: the stored texts)."""
        with self._lock:
            positions = np.flatnonzero((self._codes >= 0) | self._rejected)
            keys = [self.dataset.keys[p] for p in positions]
            rejected = self._rejected[positions]
            events = [self._state.rejected[key] if out else self._state.labels[key] for key, out in zip(keys, rejected)]
            replaced = self._replaced_labels({e.id for e in events if e.source == RELABELED})
            notes = self._state.notes
            noted = [notes[key].note if key in notes else None for key in keys]
        return handoff.labeled_frame(self.dataset.df, positions, events, categories,
                                     previous=[replaced.get(e.id) for e in events], rejected=rejected, notes=noted)

    def _replaced_labels(self, ids: set) -> dict:
        """Event id -> the label it replaced, for the label events ``ids`` in force (newest steps first)."""
        found: dict = {}
        if not ids:
            return found
        for step in reversed(self._state.history):
            for event, previous in step:
                if event.id in ids:
                    found[event.id] = None if previous is None else previous.label
            if len(found) == len(ids):
                break
        return found

    def to_frame(self) -> pd.DataFrame:
        """Every row with label columns (missing where unlabeled) and the current model's prediction."""
        with self._lock:
            positions = np.flatnonzero(self._has_label)
            in_force, keys = self._state.labels, self.dataset.keys
            events = [in_force[keys[p]] for p in positions]
            model = self._model
        return handoff.full_frame(self.dataset.df, positions, events, self.labels,
                                  None if model is None else model.proba)

    def missing_labels(self) -> pd.DataFrame:
        """Labels in the store whose records are no longer in the data (or whose content changed), by store key."""
        with self._lock:
            return records.missing_frame(self._state, self.restore_report, self.dataset, self._has_label, self.labels)

    def import_labels(self, path, *, format: str | None = None) -> str:
        """Bring in the labels of another store file (a colleague's copy, a recovered file), or of a
        file :meth:`export` wrote (Parquet, CSV, JSONL, Prodigy, Label Studio).

        Labels whose record is in this data with the same content, and which have no label here,
        are saved as one undo step (a store's with their original annotator and source, an exported
        file's with ``source="imported"``); rows labeled here already keep their label. Returns a
        one-line report.
        """
        from .store import read_labels

        if not _is_store_file(path):
            return self._import_exported(path, format)

        other = read_labels(path)
        with self._lock:
            chosen, report = records.pick_imports(other, self._state, self.dataset, self._has_label, self.labels,
                                                   rejected=self._rejected)
            if chosen:
                positions = np.array([p for p, _ in chosen], dtype=np.int64)
                events = self.store.append_labels(
                    [self.dataset.keys[p] for p in positions], [e.label for _, e in chosen],
                    annotators=[e.annotator for _, e in chosen], sources=[e.source for _, e in chosen],
                    confidences=[e.confidence for _, e in chosen], contents=[self._content(p) for p in positions])
                self._apply_labels(events, positions)
                self._advance_if_card_labeled()
        self._notify()
        return f"{len(chosen):,} labels imported from {path}; {report}"

    def export(self, path=None, *, format: str | None = None):
        """Write the hand-labeled rows to ``path`` in ``format`` (from the suffix by default: .parquet,
        .csv, .jsonl, .json for Label Studio; or "prodigy", "huggingface"); see
        :mod:`activelabel_widget.exchange`. Returns the path (a ``datasets.Dataset`` for "huggingface")."""
        from .exchange import format_for, write_labels

        format = "huggingface" if path is None and format is None else format_for(path, format)
        if path is None and format != "huggingface":
            raise DataError(f"export(format={format!r}) needs a path to write to.")
        return write_labels(self.labeled, path, format=format, labels=self.labels, kind=self.dataset.kind,
                            content=self._exchange_content)

    def _exchange_content(self, key):
        """What an exchange task shows for a row: its text, its image as PNG, or its fields as lines."""
        position = self.dataset.position(key)
        payload = self.dataset.payload(position)
        if payload.kind == "image" and payload.image:
            return "image", payload.image
        if payload.kind == "text":
            return "text", str(self.dataset.cell(position, self.dataset.text_column))
        return "text", "\n".join(f"{name}: {value}" for name, value in payload.fields)

    def _task_shows_record(self, text: str, position: int) -> bool:
        """Whether an exchange task's ``text`` (:meth:`_exchange_content` at export) shows the row at
        ``position`` as the data has it now: the same text, or a line ``name: value`` for each of a
        table row's features as it reads now (the ``show=`` lines beside them are context)."""
        if self.dataset.kind == "text":
            return str(self.dataset.cell(position, self.dataset.text_column)) == text
        features = self.dataset.payload(position).fields[:len(self.dataset.feature_columns)]  # show= lines after
        framed = f"\n{text}\n"
        return all(f"\n{name}: {value}\n" in framed for name, value in features)

    def _initial_labels(self, column) -> pd.DataFrame | None:
        """The earlier labels in column ``column`` as ``key, label`` rows (checked: names must be labels)."""
        if column is None:
            return None
        frame = self.dataset.df
        if column not in frame.columns:
            from .dataset import _column_error

            raise _column_error(column, frame.columns, "initial_labels")
        values = frame[column]
        given = values.notna().to_numpy()
        names = as_texts(values[given])
        unknown = sorted(set(names) - set(self.labels))
        if unknown:
            raise LabelError(f"initial_labels={column!r} has labels {unknown[:10]} that are not in labels={self.labels}; "
                             "add them to labels= or map them first, e.g. df[column].replace({'old': 'new'}).")
        return pd.DataFrame({"position": np.flatnonzero(given), "label": names, "annotator": None})

    def _import_frame(self, rows: pd.DataFrame, *, annotator: str) -> tuple[int, int]:
        """Save ``rows`` (position, label, annotator, and optionally rejected) on rows with no label or
        rejection in force, as one undo step with ``source="imported"``; returns (saved, kept: rows
        already answered here)."""
        self._refuse_on_team("Importing labels (initial_labels=, import_labels())",
                             "import them into a file store and move it with copy_store() before the team starts")
        with self._lock:
            positions = rows["position"].to_numpy(dtype=np.int64)
            open_rows = ~self._has_label[positions] & ~self._rejected[positions]
            chosen = rows[open_rows]
            if len(chosen):
                positions = chosen["position"].to_numpy(dtype=np.int64)
                who = [a if isinstance(a, str) and a else annotator for a in chosen["annotator"]]
                out = chosen["rejected"].to_numpy(dtype=bool) if "rejected" in chosen else np.zeros(len(chosen), bool)
                events = self.store.append_labels([self.dataset.keys[p] for p in positions], chosen["label"].tolist(),
                                                  annotators=who, sources=IMPORTED,
                                                  contents=[self._content(p) for p in positions],
                                                  actions=np.where(out, "reject", "label").tolist())
                self._apply_labels([e for e, o in zip(events, out) if not o], positions[~out])
                for event in (e for e, o in zip(events, out) if o):
                    self._reflect(self._state.apply(event))
                self._advance_if_card_labeled()
        self._notify()
        return len(chosen), int((~open_rows).sum())

    def fit_final(self):
        """Fit the model(s) on every hand label now (in this thread) and return the fitted estimator(s)."""
        with self._lock:
            labeled = np.flatnonzero(self._codes >= 0)
            y = self._training_targets(labeled)
            counts = self.label_counts()
        if not _models.ready_to_train(counts):
            raise ModelError("Not enough labels to fit: label at least two examples each of two labels.")
        committee = _models.fit_committee(self._estimators, self.pool.features_of(labeled), y,
                                          n_classes=len(self.labels))
        return committee.estimators[0] if len(committee.estimators) == 1 else committee.estimators

    def _import_exported(self, path, format: str | None) -> str:
        from .exchange import match_keys, read_labels_file, same_record

        columns = [name for name in self.dataset.content_columns() if name != self.dataset.image_column]
        rows, record = read_labels_file(path, format, columns=columns)
        positions = match_keys(rows["key"], self.dataset.df.index)
        known = rows["label"].isna().to_numpy() | rows["label"].astype(str).isin(self.labels).to_numpy()
        found = np.flatnonzero(positions >= 0)
        # a label comes in only onto the record it was made on: the file's values of the record's
        # columns (our files) or the text its task showed (Prodigy, Label Studio) as this data has them
        same_record_now = np.ones(len(rows), dtype=bool)
        if len(record.columns):
            same_record_now[found] = same_record(record.iloc[found], self.dataset.df.iloc[positions[found]])
        elif self.dataset.kind != "image":
            for i in found:
                text = rows["text"].iat[i]
                if isinstance(text, str):
                    same_record_now[i] = self._task_shows_record(text, int(positions[i]))
        rejected = rows["rejected"].to_numpy(dtype=bool)
        usable = (positions >= 0) & known & same_record_now & (rows["label"].notna().to_numpy() | rejected)
        frame = pd.DataFrame({"position": positions[usable],
                              "label": [None if out else str(label) for label, out in
                                        zip(rows["label"][usable], rejected[usable])],
                              "annotator": rows["annotator"][usable].to_numpy(), "rejected": rejected[usable]})
        frame = frame.drop_duplicates("position", keep="last")
        saved, kept = self._import_frame(frame, annotator="imported")
        n_rejected = int(frame["rejected"].sum())
        what = f"{saved:,} labels" if not n_rejected else f"{saved:,} labels and rejections"
        rows_kept = (f"{kept:,} rows labeled or rejected here kept their answer" if kept != 1 else
                     "1 row labeled or rejected here kept its answer")
        return (f"{what} imported from {path}; {rows_kept}; "
                f"{int((positions < 0).sum()):,} not in this data; {int((~known).sum()):,} with a label not in "
                f"labels=; {int((~same_record_now & (positions >= 0)).sum()):,} whose record changed")

    # -- internals -------------------------------------------------------------------------------
    def _restore(self, store: LabelStore) -> None:
        """Replay the store and apply every label whose record is still in the data as it was labeled."""
        self._state = store.replay()
        self._seen_event_id = getattr(store, "last_replayed_id", 0)
        if self._team:
            keys, _, _, _ = self._state.in_force()
            self._team_annotators = {self._state.labels[key].annotator for key in keys}
            self._my_answers = {key: event.label for key, event in self._answers_of(self.annotator, store).items()}
        # labels whose name is no longer in labels= stay in the store, not applied (the report says so)
        self.restore_report = records.match_labels(self._state, self.dataset, store_path=self.store_path,
                                                   labels=self._known_labels())
        report = self.restore_report
        positions = report.positions
        self._has_label[positions] = True
        self._n_labeled = len(positions)
        human = np.fromiter((source in HUMAN_SOURCES for source in report.sources), dtype=bool, count=len(positions))
        self._write_codes(positions[human], [label for label, h in zip(report.labels, human) if h])
        if self._background:  # build the event objects of a large snapshot off the kernel's thread
            threading.Thread(target=self._state.unpack, name="activelabel-restore", daemon=True).start()
        for key, content in zip(*self._state.rejected_in_force()):
            position = self.dataset.position_of.get(key)
            if position is not None and self.dataset.content_matches(content, position):
                self._rejected[position] = True
        self._n_rejected = int(self._rejected.sum())
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
        for key in keys:
            position = self.dataset.position_of.get(key)
            if position is None:
                continue  # a record no longer in the data: its events stay in the store
            event = self._state.labels.get(key)
            applies = (event is not None and event.label in self._known_labels()
                       and records.label_applies(event, position, self.dataset))
            self._n_labeled += int(applies) - int(self._has_label[position])
            self._has_label[position] = applies
            rejection = self._state.rejected.get(key)
            rejected = rejection is not None and records.label_applies(rejection, position, self.dataset)
            self._n_rejected += int(rejected) - int(self._rejected[position])
            self._rejected[position] = rejected
            self._write_codes(np.array([position]), [event.label if applies and event.source in HUMAN_SOURCES else None])
            if key in self._state.skipped:  # only a skip leaves its key skipped: it goes to the back
                self._line.push_back(position)
                self._skipped.add(position)
            else:
                self._line.remove_back(position)
                self._skipped.discard(position)

    def _wrap_estimators(self, estimators: list) -> list:
        """The estimators as fitted here (a multi-label session wraps them one-vs-rest)."""
        return estimators

    def _init_answers(self, n: int) -> None:
        """Arrays that hold answers besides the label codes (a multi-label session's label sets)."""

    def _training_targets(self, positions: np.ndarray) -> np.ndarray:
        """What the model is fitted on for the hand-labeled rows at ``positions``: label codes (m,)."""
        return self._codes[positions].astype(np.int64)

    def _stored_label(self, label) -> str:
        """An answer as the store saves it (checked: a :class:`LabelError` says what to pass instead)."""
        return options.check_label(label, self.labels)

    def _stop_prediction(self, proba: np.ndarray) -> np.ndarray:
        """A fit's predictions on the stop set, as the stop hint compares them between fits."""
        return proba.argmax(axis=1)

    def _known_labels(self):
        """What a stored label must be in to apply here (the label names; label sets in a multi-label session)."""
        return self._label_code

    def _write_codes(self, positions: np.ndarray, labels: list) -> None:
        """Set the hand label of the rows at ``positions`` to ``labels`` (stored label texts; None: no hand label)."""
        self._codes[positions] = np.fromiter((-1 if label is None else self._label_code[label] for label in labels),
                                             dtype=np.int32, count=len(labels))
        self._hand_cache = None

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
            self._review = None
            self.closed_because = "a newer labeler on the same store took over (the cell was run again)"
        self._notify()

    def _apply_labels(self, events, positions: np.ndarray) -> None:
        """Apply many label events on this data's rows (just saved, content current) in one vectorised pass."""
        with paused_gc():
            for event in events:
                self._state.apply(event)
        self._n_labeled += int((~self._has_label[positions]).sum())
        self._has_label[positions] = True
        self._n_rejected -= int(self._rejected[positions].sum())  # a label replaces a rejection
        self._rejected[positions] = False
        self._write_codes(positions, [e.label if e.source in HUMAN_SOURCES else None for e in events])
        for position in self._skipped.intersection(positions.tolist()):
            self._skipped.discard(position)
            self._line.remove_back(position)

    def _is_open(self, position: int) -> bool:
        if self.overlap > 1:  # others' answers do not close a record: answered by you or by enough people does
            return not self._unavailable[position] and position != self._current
        return (not self._has_label[position] and not self._rejected[position] and position != self._current
                and not self._unavailable[position])

    def _advance(self, *, previous_label: str | None = None) -> None:
        """Show the next record from the line (O(1) amortised; a team store leases it first)."""
        self._current = None
        if self._team:
            self._claim_window()
        taken = self._line.pop(self._is_open)
        self._current, self._current_reason = (None, "") if taken is None else taken
        self._previous_label = previous_label
        self._picked_at_fit = self.model_status.fits
        self.card_token += 1
        self.store.note_card(None if self._current is None else self.dataset.keys[self._current])
        if self._line.remaining_ranked() < _REFILL_BELOW:
            self.request_rerank()

    def _answers_of(self, annotator: str, store) -> dict:
        """Record key -> the label or rejection event of ``annotator`` in force."""
        return {key: event for (key, who), event in _answers_in_force(store.events()).items() if who == annotator}

    def _refuse_on_team(self, what: str, instead: str) -> None:
        """Some changes rewrite other annotators' answers: not on a shared server while they label."""
        if self._team:
            raise OptionError(f"{what} is not available on a team store: it would change other annotators' answers "
                              f"while they label; {instead}.")

    @property
    def _undo_annotator(self) -> str | None:
        """Whose steps undo takes back: in a team, only this annotator's; alone, every step."""
        return self.annotator if self._team else None

    def _claim_window(self) -> None:
        """Team store: lease the next records of the line to this annotator (the card and the page's
        line, :attr:`team_window` of them); records another annotator holds are passed over until
        their lease lapses (:meth:`follow_team` notices)."""
        while True:
            candidates = self._line.peek(3 * self.team_window, self._is_open)
            if not candidates:
                return
            keys = [self.dataset.keys[p] for p in candidates]
            on_card = [] if self._current is None else [self.dataset.keys[self._current]]
            try:  # the card's record and the next ones: team_window records in all
                held = set(self.store.claim(keys, want=self.team_window - len(on_card), keep=on_card))
            except StoreError:
                # the server is away: go on with the line as it is (an answer on a record someone
                # else answered meanwhile is refused when it is saved, never counted twice)
                return
            # the store walks the keys in order until it holds enough: those it passed over before the
            # last one it took are someone else's (the ones after it were not asked about)
            last = max((i for i, key in enumerate(keys) if key in held), default=len(keys) - 1)
            for position, key in zip(candidates[:last + 1], keys[:last + 1]):
                if key not in held:
                    self._unavailable[position] = True
            if held:
                return
            if self.overlap > 1:  # the others filled many records since the last look: see which, at once
                try:
                    closed = self.store.closed_to_me()
                except StoreError:
                    return
                for key in closed:
                    position = self.dataset.position_of.get(key)
                    if position is not None and position != self._current:
                        self._unavailable[position] = True

    def follow_team(self) -> bool:
        """Team store: apply the labels, skips and undos other annotators saved since the last call,
        and see which records others hold now. Returns whether anything changed. A background thread
        calls this every :data:`TEAM_FOLLOW_SECONDS`; call it yourself in scripts and tests.

        Raises
        ------
        StoreError
            The server is not answering (nothing changes here; the next call tries again).
        """
        if not self._team:
            return False
        events = self.store.events(after=self._seen_event_id)
        held_elsewhere = self.store.closed_to_me() if self.overlap > 1 else self.store.leased_by_others()
        short = self.store.short_of_answers()
        changed = False
        with self._lock:
            for event in events:
                if event.id <= self._seen_event_id:
                    continue  # another call of follow_team applied it meanwhile
                self._seen_event_id = event.id
                if event.id in self.store.written_ids:
                    continue  # applied when this session wrote it
                if event.action in ("label", "reject"):
                    self._team_annotators.add(event.annotator)
                self._reflect(self._state.apply(event))
                changed = True
            unavailable = np.zeros(len(self.dataset), dtype=bool)
            positions = [self.dataset.position_of.get(key) for key in held_elsewhere]
            unavailable[[p for p in positions if p is not None]] = True
            taken_from_card = self._current is not None and bool(unavailable[self._current])
            changed = changed or not np.array_equal(unavailable, self._unavailable) or short != self._short_of_answers
            self._short_of_answers = short
            for position in np.flatnonzero(self._unavailable & ~unavailable):  # back in the pool (a lease lapsed)
                if self._is_open(int(position)):
                    self._line.push_back(int(position), "back from another annotator")
            self._unavailable = unavailable
            if self._review is None and (self._current is None or taken_from_card
                                         or (self.overlap == 1 and self._has_label[self._current])):
                # someone else answered the record on the card or holds it now (its lease had lapsed),
                # or records others held came back to the pool while this card had none
                self._advance()
            if changed:
                self._maybe_retrain()
        if changed:
            self._notify()
        return changed

    def _follow_loop(self, stop: threading.Event) -> None:
        while not stop.wait(TEAM_FOLLOW_SECONDS):
            try:
                self.follow_team()
            except StoreError:  # the server is away: try again next time
                continue
            except Exception:  # never let the thread die on one bad poll
                continue

    def _maybe_retrain(self) -> None:
        n_hand = len(self._hand_positions())
        if self._policy.due(n_hand, self.label_counts()):
            self._refit_requested = True
            self._policy.started(n_hand)
            self.request_rerank()

    def _round(self) -> RoundResult:
        # the snapshot and the reports run on the round's host thread, at the kernel's priority:
        # they take the session's lock, which the card's answers wait for (see runner.py)
        inputs = on_host(self._round_inputs, wait=True)
        on_host(self._notify)
        return run_round(inputs, self.pool)

    def _round_inputs(self) -> RoundInputs:
        with self._lock:
            refit = self._refit_requested and _models.ready_to_train(self.label_counts())
            self._refit_requested = False
            labeled = self._hand_positions()
            inputs = RoundInputs(labeled, self._training_targets(labeled), len(self.labels), self._estimators,
                                 refit, self.strategy, self._never_ranked(), self._model, self.priority_boost,
                                 self.random_state,
                                 batch=self._policy.every,
                                 on_fit_progress=lambda done, n=len(labeled): on_host(partial(self._fitting, n, done)),
                                 score_also=self._stop_set)
            self._round_refits = refit
            self._round_labels = tuple(self.labels)  # a label added or removed meanwhile is mapped at swap-in
            if refit and self.pool.ready:
                self.model_status = self.model_status.training(len(labeled), 0.0)
        return inputs

    def _never_ranked(self) -> np.ndarray:
        """Rows the line leaves out: labeled ones; with ``overlap`` > 1 those you answered or enough
        people did (a record others answered once still needs yours)."""
        return (self._unavailable if self.overlap > 1 else self._has_label).copy()

    def _fitting(self, n_labels: int, done: float) -> None:
        """Progress of a fit on ``n_labels`` labels (from the round's thread), for the card's status line."""
        with self._lock:
            self.model_status = self.model_status.training(n_labels, done)
            now = time.monotonic()
            if done > 0.0 and now - self._fit_progress_told < FIT_PROGRESS_EVERY_SECONDS:
                return  # the status is kept: the next message the card gets carries it
            self._fit_progress_told = now
        self._notify()

    def _preparing(self, step: str, done: float) -> None:
        """Progress of the pool's preparation (from the round's thread), for the card's status line."""
        with self._lock:
            if step is not None:
                self.model_status = self.model_status.preparing(step, done, len(self.dataset))
            elif self._round_refits or (self._refit_requested and _models.ready_to_train(self.label_counts())):
                # this round fits next, or the round right after it does (no pause after preparing)
                self.model_status = self.model_status.training(len(self._hand_positions()), 0.0)
            else:
                self.model_status = self.model_status.idle(has_model=self._model is not None)
        self._notify()

    def _swap_in(self, result: RoundResult) -> None:
        """Replace model, scores and line with a round's results, atomically."""
        if result.ranked is not None:
            for listener in list(self._ranking_listeners):  # the old line serves the card meanwhile
                try:
                    listener(result.ranked.positions)
                except Exception:  # noqa: BLE001 - preparing ahead only saves time; the round must land
                    pass
        with self._lock:
            fitted = self._with_current_labels(result.fitted)
            if fitted is not None:
                self._model = fitted
                self.fit_history.append(FitRecord(fitted.n_labels, fitted.accuracy, result.seconds))
                self._stop_predictions.append(self._stop_prediction(fitted.proba[self._stop_set]))
                self.model_status = self.model_status.after_fit(fitted)
            elif result.rescored is not None and self._model is not None \
                    and self._model.committee is result.rescored.committee:
                self._model = self._with_current_labels(result.rescored)  # the same fit, every row scored now
            if result.fit_error is not None:
                self.model_status = self.model_status.after_error(result.fit_error, has_model=self._model is not None)
            elif self.model_status.state in ("training", "preparing") and not self._refit_requested:
                self.model_status = self.model_status.idle(has_model=self._model is not None)
            if result.ranked is not None:
                self._line.replace_ranked(result.ranked)
                if self._team:  # the next records changed: lease them
                    self._claim_window()
            if self._current is None and not self._has_label.all():
                self._advance()
        self._notify()
        if result.pool_pending:  # ranked before the embedding index: build it now and rank again
            self.request_rerank()

    def _with_current_labels(self, model: FittedModel | None) -> FittedModel | None:
        """A round's model with its columns mapped onto the labels now (one was added or removed meanwhile)."""
        if model is None or tuple(self.labels) == self._round_labels:
            return model
        before = list(self._round_labels)
        return model.with_columns([before.index(label) if label in before else None for label in self.labels])

    def _round_failed(self, error: BaseException) -> None:
        with self._lock:
            self.model_status = self.model_status.after_error(error, has_model=self._model is not None)
        self._notify()

    # -- plumbing --------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` after every change (from any thread); returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def subscribe_ranking(self, listener: Callable[[np.ndarray], None]) -> Callable[[], None]:
        """Call ``listener(positions)`` with a round's new ranking (best first, labeled records included)
        before it replaces the line, on the round's thread; returns an unsubscribe function. A card
        prepares what it will show next there while the old line still serves (see
        :meth:`first_open`)."""
        self._ranking_listeners.append(listener)
        return lambda: self._ranking_listeners.remove(listener) if listener in self._ranking_listeners else None

    def first_open(self, positions, k: int) -> list[int]:
        """The first ``k`` of ``positions`` the line would still show (not labeled, rejected or on the card)."""
        found = []
        for position in positions:
            if len(found) >= k:
                break
            if self._is_open(int(position)):
                found.append(int(position))
        return found

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
        """Stop background rounds and close the store (keeping a snapshot for a fast reopen; a team
        store gives this annotator's records back)."""
        self._stop_following.set()
        self._runner.close()
        with self._lock:
            self.store.close(state=self._state)
            self.closed_because = self.closed_because or "it was closed"

    def __repr__(self) -> str:
        p = self.progress
        return (f"<LabelingSession {p['labeled']}/{p['total']} labeled, strategy={self.strategy!r}, "
                f"model={self.model_status.state}, store={self.store_path!r}>")


def _answers_in_force(events: list) -> dict:
    """(record key, annotator) -> that annotator's label or rejection in force: their newest answer that no
    undo took back (whoever's undo, whole groups included: the log's own replay decides)."""
    undone = LabelState.replay(events).undone_ids
    found: dict = {}
    for event in events:  # an adjudication settles answers; it is not one
        if event.action in ("label", "reject") and event.id not in undone and event.source != ADJUDICATED:
            found[(event.key, event.annotator)] = event
    return found


def _is_store_file(path) -> bool:
    """Whether ``path`` starts like an SQLite file (a label store) rather than an exported file."""
    try:
        with open(path, "rb") as file:
            return file.read(16) == b"SQLite format 3\x00"
    except OSError:
        return True  # let the store reader say what is wrong with it
