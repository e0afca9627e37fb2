"""One background round: fit the model(s) if asked, score the pool, rank the next batch of the line.

:func:`run_round` takes everything it needs as arguments (a :class:`RoundInputs` and the
:class:`PreparedPool`) and returns a :class:`RoundResult`; it never touches a session. The
session starts rounds (through :class:`~activelabel_widget.runner.BackgroundRunner`) and swaps
their results in under its lock. :class:`RetrainPolicy` decides when a new fit is due.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from . import models as _models
from .errors import ModelError
from .features import TextFeaturizer, compute_embeddings, compute_features
from .line import RankedLine

__all__ = ["ModelStatus", "FitRecord", "FittedModel", "PreparedPool", "RoundInputs", "RoundResult", "run_round",
           "RetrainPolicy", "RANK_BATCH"]

#: How many records one round puts in the line.
RANK_BATCH = 512
#: Text pools above this many rows are featurised in two stages: a first fit scores the labeled rows
#: and the text featurizer's sample (:data:`~activelabel_widget.features.SAMPLE_ROWS` rows, hashed
#: once for the IDF and scored from there), the next round featurises
#: every row (about 30 s per million short texts) and scores them all. Below it one pass takes a few
#: seconds at most.
STAGED_ROWS = 50_000


@dataclass
class ModelStatus:
    """What the card says about the model."""

    state: str = "none"  # "none" | "training" | "ready" | "error"
    message: str = ""
    accuracy: float | None = None
    n_labels: int = 0
    fits: int = 0
    progress: float | None = None  # share done while "preparing"
    metric: str = "accuracy"  # what ``accuracy`` measures: "accuracy", or "micro-F1" for label sets

    def as_dict(self) -> dict:
        return {"state": self.state, "message": self.message, "accuracy": self.accuracy, "n_labels": self.n_labels,
                "fits": self.fits, "progress": self.progress}

    def preparing(self, step: str, done: float, n_rows: int) -> "ModelStatus":
        """The status while the pool is prepared: labeling goes on, in random order before the first fit
        and by the model's uncertainty after it (the embedding index comes after the first fit)."""
        if self.fits:
            meanwhile = f"the model on {self.n_labels:,} labels suggests meanwhile, picking by uncertainty"
        else:
            meanwhile = "label meanwhile: records come in random order until this is ready"
        message = f"{step} for {n_rows:,} rows ({done:.0%} done) · {meanwhile}"
        return ModelStatus("preparing", message, self.accuracy, self.n_labels, self.fits, done, self.metric)

    def training(self, n_labels: int, done: float | None = None) -> "ModelStatus":
        """The status while a fit on ``n_labels`` labels runs (the previous model, if any, still suggests)."""
        share = "" if done is None else f" {done:.0%} done"
        meanwhile = "the previous model suggests meanwhile" if self.fits else "label meanwhile"
        return ModelStatus("training", f"training on {n_labels:,} labels…{share} · {meanwhile}", self.accuracy,
                           self.n_labels, self.fits, done, self.metric)

    def after_fit(self, fitted: "FittedModel") -> "ModelStatus":
        """The status once ``fitted`` is in use."""
        return ModelStatus("ready", _fit_message(fitted.accuracy, fitted.n_labels, fitted.metric), fitted.accuracy,
                           fitted.n_labels, self.fits + 1, metric=fitted.metric)

    def idle(self, *, has_model: bool) -> "ModelStatus":
        """The status when no round is running."""
        if has_model:
            return ModelStatus("ready", _fit_message(self.accuracy, self.n_labels, self.metric), self.accuracy,
                               self.n_labels, self.fits, metric=self.metric)
        return ModelStatus("none", "label two examples each of two labels to start training", None, 0, 0)

    def after_error(self, error: BaseException, *, has_model: bool) -> "ModelStatus":
        """The status after a failed fit: the error, and whether the previous model is still in use."""
        kept = "kept the previous model" if has_model else "no model yet"
        return ModelStatus("error", f"{error} ({kept})", self.accuracy, self.n_labels, self.fits, metric=self.metric)


def _fit_message(accuracy: float | None, n_labels: int, metric: str = "accuracy") -> str:
    if accuracy is None:
        return f"trained on {n_labels:,} labels (too few for a cross-validated estimate)"
    return f"{accuracy:.0%} cross-validated {metric} on {n_labels:,} labels"


@dataclass(frozen=True)
class FitRecord:
    """One fit: how many labels it used, its cross-validated accuracy (or None) and its duration."""

    n_labels: int
    accuracy: float | None
    seconds: float
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class FittedModel:
    """A fitted committee and its scores over the pool.

    ``proba`` is (n, K), ``committee_proba`` (m, n, K) or None; ``held_out`` is
    ``(labeled positions, CrossValidated)`` of the fit, for out-of-fold grading.
    """

    committee: object
    proba: np.ndarray
    committee_proba: np.ndarray | None
    held_out: tuple | None
    accuracy: float | None
    n_labels: int
    metric: str = "accuracy"  # what ``accuracy`` measures ("micro-F1" for a multi-label fit)
    #: bool (n,): the rows ``proba`` holds scores for (the others are NaN), or None when it holds every
    #: row. A fit before a large text pool is featurised scores the labeled rows and a sample only.
    scored: np.ndarray | None = None

    def with_columns(self, columns: list) -> "FittedModel":
        """The same fit with its probability columns rearranged for a changed label list: new column ``j``
        is old column ``columns[j]``, or zeros where that is None (a label added since the fit)."""
        def remap(array, axis):
            if array is None:
                return None
            shape = list(array.shape)
            shape[axis] = len(columns)
            out = np.zeros(shape, dtype=array.dtype)
            for new, old in enumerate(columns):
                if old is not None:
                    np.moveaxis(out, axis, 0)[new] = np.moveaxis(array, axis, 0)[old]
            return out

        held_out = self.held_out
        if held_out is not None:
            positions, checked = held_out
            held_out = (positions, replace(checked, proba=remap(checked.proba, -1), each=remap(checked.each, -1)))
        return replace(self, proba=remap(self.proba, -1), committee_proba=remap(self.committee_proba, -1),
                       held_out=held_out)

    def rescored(self, pool: "PreparedPool") -> "FittedModel":
        """The same fit with every row of the pool scored (once the pool's features are ready).

        Raises
        ------
        ModelError
            An estimator failed to score.
        """
        proba, each = _models.predict_proba(self.committee, pool.features)
        return replace(self, proba=proba, committee_proba=each, scored=None)

    def held_out_proba(self) -> tuple[np.ndarray, np.ndarray | None]:
        """``(proba, committee_proba)`` with out-of-fold rows where the model was trained (NaN: no fold scored)."""
        proba, each = self.proba.copy(), None if self.committee_proba is None else self.committee_proba.copy()
        positions, checked = self.held_out
        proba[positions] = checked.proba if checked.proba is not None else np.nan
        if each is not None:
            each[:, positions] = checked.each if checked.each is not None else np.nan
        return proba, each


#: The model reads a text pool's own embeddings (``embeddings=``) beside its word features up to this many
#: values (rows x dimensions): stored in the sparse features they cost about 8 bytes each.
MODEL_EMBEDDING_MAX_VALUES = 50_000_000


def _model_embeddings(dataset, embeddings):
    """The user's embeddings of a text pool as unit rows for the model, or None.

    An encoder's embeddings carry what a few dozen labels cannot teach a bag of words (synonyms,
    paraphrase, sentiment), and a linear model on words and embeddings together learns faster from
    few labels than on either alone, with probabilities as well calibrated (benchmarks/text_models.py
    --embeddings). It is the user's choice (``embeddings_in_model=True``): the query order then
    serves that model, and a downstream model of words alone got less from the same number of
    labels (benchmarks/label_efficiency.py --embeddings). Tables and images keep their own features.
    """
    if embeddings is None or dataset.kind != "text" or embeddings.size > MODEL_EMBEDDING_MAX_VALUES:
        return None  # the session refuses these with embeddings_in_model=True
    unit = np.asarray(embeddings, dtype=np.float32)
    norms = np.linalg.norm(unit, axis=1, keepdims=True)
    return np.divide(unit, norms, out=np.zeros_like(unit), where=norms > 0)


class PreparedPool:
    """The pool's model features, embeddings and embedding index: computed once, on first need.

    Safe to call from several threads; the first caller computes, the others wait. A large text pool
    can fit and score before its features exist (:meth:`prepare_first`, :meth:`features_of`).
    """

    #: The steps of :meth:`prepare`, in order, as the card names them.
    STEPS = ("computing features", "computing embeddings", "building the embedding index")

    def __init__(self, dataset, *, embeddings=None, random_state: int = 0, embeddings_in_model: bool = False):
        self.dataset = dataset
        self.random_state = random_state
        self._features = None
        self._embeddings = embeddings
        #: Text with ``embeddings_in_model``: the user's embeddings the model reads beside the words (unit rows), or None.
        self._model_embeddings = _model_embeddings(dataset, embeddings) if embeddings_in_model else None
        self._index = None
        self._featurizer: TextFeaturizer | None = None  # text: what every row's features come from
        #: Rows a fit scores while the features of a large text pool are not computed yet (None: no stage).
        self.sample_positions: np.ndarray | None = None
        self._lock = threading.Lock()
        #: Optional ``(step, share_done)`` callback while preparing (step from :data:`STEPS`; None when done).
        self.on_progress: Callable[[str, float], None] | None = None

    def _step(self, number: int, share: float = 0.0) -> None:
        if self.on_progress is not None:
            self.on_progress(self.STEPS[number], (number + share) / len(self.STEPS))

    def _text_featurizer(self) -> TextFeaturizer:
        if self._featurizer is None:
            self._featurizer = TextFeaturizer(self.dataset.df[self.dataset.text_column], random_state=self.random_state)
        return self._featurizer

    def _compute_features(self) -> None:
        self._step(0)
        featurizer = self._text_featurizer() if self.dataset.kind == "text" else None
        self._features = self._with_embeddings(
            compute_features(self.dataset, on_progress=lambda share: self._step(0, share), featurizer=featurizer), None)
        if featurizer is not None:
            featurizer.release_sample()  # after the features are in place: sample_features reads one or the other

    def prepare_first(self) -> "PreparedPool":
        """Prepare enough to fit and score: the model features, or on a text pool of more than
        :data:`STAGED_ROWS` rows the text featurizer and a sample of rows to score first."""
        if self.dataset.kind != "text" or len(self.dataset) <= STAGED_ROWS:
            return self.prepare_features()
        with self._lock:
            if self._features is None and self.sample_positions is None:
                self._step(0)
                self.sample_positions = self._text_featurizer().sample
        return self

    def prepare_features(self) -> "PreparedPool":
        """Compute the model features only: enough to fit and score, before embeddings and the index."""
        with self._lock:
            if self._features is None:
                self._compute_features()
        return self

    def prepare(self) -> "PreparedPool":
        from .strategies import build_embedding_index

        with self._lock:
            prepared_now = self._index is None
            if self._features is None:
                self._compute_features()
            if self._embeddings is None:
                self._step(1)
                self._embeddings = compute_embeddings(self._features, random_state=self.random_state)
            if self._index is None:
                self._step(2)
                self._index = build_embedding_index(self._embeddings, random_state=self.random_state)
        if prepared_now and self.on_progress is not None:
            self.on_progress(None, 1.0)  # done
        return self

    @property
    def ready(self) -> bool:
        """True once features, embeddings and the index exist."""
        return self._index is not None

    @property
    def features_ready(self) -> bool:
        """True once every row's model features exist."""
        return self._features is not None

    def features_of(self, positions) -> object:
        """Model features of some rows: sliced from the pool's, or featurised on their own before those
        exist (text after :meth:`prepare_first`), so a fit and a score need not wait for the whole pool."""
        features = self._features
        if features is not None:
            return features[positions]
        if self._featurizer is not None:
            words = self._featurizer.transform(self.dataset.df[self.dataset.text_column].iloc[positions])
            return self._with_embeddings(words, positions)
        return self.features[positions]

    def sample_features(self):
        """Model features of :attr:`sample_positions` (hashed once already, for the text IDF)."""
        features = self._features
        if features is not None:
            return features[self.sample_positions]
        return self._with_embeddings(self._featurizer.sample_features(), self.sample_positions)

    def _with_embeddings(self, words, positions):
        """Text features of some rows (``positions``; None: every row) with the user's embeddings beside them."""
        if self._model_embeddings is None:
            return words
        from scipy import sparse

        extra = self._model_embeddings if positions is None else self._model_embeddings[positions]
        return sparse.hstack([words, sparse.csr_matrix(extra)], format="csr", dtype=np.float32)

    @property
    def features(self):
        """Model features, (n, p) array or sparse matrix (computed on first need, without the embeddings)."""
        return self.prepare_features()._features

    @property
    def embeddings(self) -> np.ndarray:
        """Embeddings for diversity and the coverage map, (n, d)."""
        return self.prepare()._embeddings

    @property
    def index(self):
        """The :class:`~activelabel_widget.strategies.EmbeddingIndex` over the embeddings."""
        return self.prepare()._index

    def use_features(self, features) -> None:
        """Use these model features instead of computing them (e.g. precomputed in a benchmark)."""
        with self._lock:
            self._features = features


@dataclass(frozen=True)
class RoundInputs:
    """A consistent copy of what a round needs, taken under the session's lock."""

    labeled: np.ndarray  # positions with a hand label
    y: np.ndarray  # their label codes
    n_classes: int
    estimators: list
    refit: bool
    strategy: str
    in_use: np.ndarray  # bool (n,): labeled rows, never ranked
    current: FittedModel | None
    #: ``boost()``: ``(priority, why)``, extra priority per row in [0, 1] and what it stands for on the card, or None
    boost: Callable[[], tuple[np.ndarray, str] | None] | None = None
    random_state: int = 0
    rank_batch: int = RANK_BATCH
    #: Records labeled between two fits: the ranked line spreads each run of them over the regions.
    batch: int = 1
    #: Optional ``share_done`` callback while the fit runs (the model, the pool's scores, each fold).
    on_fit_progress: Callable[[float], None] | None = None
    #: Rows a fit must score even when it scores a sample only (the stop hint's fixed set).
    score_also: np.ndarray | None = None


@dataclass
class RoundResult:
    """What a round produced: a new model (or None), the error of a failed fit, the ranked line."""

    fitted: FittedModel | None = None
    fit_error: BaseException | None = None
    #: The round's model (no new fit) with every row scored, replacing one that scored a sample only.
    rescored: FittedModel | None = None
    ranked: RankedLine | None = None
    seconds: float = 0.0
    #: The round fitted and ranked before the embedding index existed: a next round must build it.
    pool_pending: bool = False


def fit_model(inputs: RoundInputs, pool: PreparedPool) -> FittedModel:
    """Fit the committee on the labeled rows, score the pool and estimate accuracy out of fold.

    Raises
    ------
    ModelError
        An estimator failed to fit or to score.
    """
    report = inputs.on_fit_progress or (lambda done: None)
    # the share done counts the model's fit and the pool's scores as one step each, then the folds
    report(0.0)
    X = pool.features_of(inputs.labeled)
    committee = _models.fit_committee(inputs.estimators, X, inputs.y, n_classes=inputs.n_classes)
    report(1 / 7)
    also = inputs.labeled if inputs.score_also is None else np.concatenate([inputs.labeled, inputs.score_also])
    proba, each, scored = score_pool(committee, pool, also)
    report(2 / 7)
    checked = _models.cross_validate(inputs.estimators, X, inputs.y, n_classes=inputs.n_classes,
                                     random_state=inputs.random_state,
                                     on_fold=lambda done, folds: report((2 + done * 5 / folds) / 7))
    return FittedModel(committee, proba, each, (inputs.labeled, checked), checked.accuracy, len(inputs.labeled),
                       "micro-F1" if committee.multi_label else "accuracy", scored)


def score_pool(committee, pool: PreparedPool, also: np.ndarray):
    """``(proba, committee_proba, scored)`` of a fitted committee: every row once the pool's features
    exist (``scored`` None), before that the pool's sample and the rows ``also`` (NaN elsewhere)."""
    from scipy import sparse

    if pool.features_ready or pool.sample_positions is None:
        return (*_models.predict_proba(committee, pool.features), None)
    # the sample was hashed when the IDF was estimated: only the other rows are featurised here
    rest = np.setdiff1d(np.asarray(also, dtype=np.int64), pool.sample_positions)
    positions = np.concatenate([pool.sample_positions, rest])
    X = sparse.vstack([pool.sample_features(), pool.features_of(rest)], format="csr")
    some, some_each = _models.predict_proba(committee, X)
    n = len(pool.dataset)
    proba = np.full((n, some.shape[1]), np.nan, dtype=some.dtype)
    proba[positions] = some
    each = None
    if some_each is not None:
        each = np.full((some_each.shape[0], n, some_each.shape[2]), np.nan, dtype=some_each.dtype)
        each[:, positions] = some_each
    scored = np.zeros(n, dtype=bool)
    scored[positions] = True
    return proba, each, scored


def ranking_label_mix(estimators, y, model: FittedModel | None) -> np.ndarray | None:
    """Labeled examples per label (``y``: the label codes ``model`` was fitted on) when the model
    weighs its classes as balanced, else None: the ``label_mix`` the ranking reads the model at.

    Balanced weights serve the card: a rare label is still suggested. But the boundary they draw
    leans into the common labels, and a plain classifier trained on the same labels (what most users
    fit downstream, and the evaluation model of benchmarks/label_efficiency.py) has its own boundary
    where the labels' class mix puts it. So the ranking reads the probabilities at that mix
    (:func:`~activelabel_widget.strategies.at_label_mix`); the card keeps showing the balanced ones.
    Hybrid AULC over 5 seeds (benchmarks/README.md): the debates 0.5879 against 0.5672, shuttle
    0.9775 against 0.9764, the other four within a standard deviation of before.
    """
    if model is None or model.committee.multi_label or not _models.balanced_class_weights(estimators):
        return None
    k = model.proba.shape[1]  # a label added since this fit has no column yet: its count is not read
    return np.bincount(np.asarray(y, dtype=np.int64), minlength=k)[:k]


def rank_line(inputs: RoundInputs, pool: PreparedPool, model: FittedModel | None) -> RankedLine:
    """The next ``rank_batch`` records by the strategy, lifted by ``boost`` when given."""
    from .multilabel import least_sure_label
    from .strategies import rank_pool, rank_with_boost

    proba = None if model is None else model.proba
    committee_proba = None if model is None else model.committee_proba
    in_use = inputs.in_use
    if model is not None and model.scored is not None:
        # a fit that scored a sample ranks within it: the other rows are left out, their NaN made even
        in_use = in_use | ~model.scored
        proba = np.where(model.scored[:, None], proba, np.float32(1.0 / proba.shape[1]))
        if committee_proba is not None:
            committee_proba = np.where(model.scored[None, :, None], committee_proba, np.float32(1.0 / proba.shape[1]))
    if model is not None and model.committee.multi_label:
        # label sets: every strategy reads each record's least sure label as a two-way distribution
        proba, which = least_sure_label(proba)
        if committee_proba is not None:
            chosen = committee_proba[:, np.arange(len(which)), which]
            committee_proba = np.stack([1.0 - chosen, chosen], axis=-1)
    # before the index exists every strategy ranks by the model alone (the hybrid by its confidence)
    options = dict(k=inputs.rank_batch, labeled_mask=in_use, proba=proba, committee_proba=committee_proba,
                   index=pool.index if pool.ready else None, random_state=inputs.random_state, batch=inputs.batch,
                   label_mix=ranking_label_mix(inputs.estimators, inputs.y, model))
    boosted = inputs.boost() if inputs.boost is not None else None  # (boost, what it stands for) or None
    if boosted is None:
        positions, _, reasons = rank_pool(inputs.strategy, **options)
    else:
        boost, why = boosted
        positions, _, reasons = rank_with_boost(inputs.strategy, boost=boost, why=why, **options)
    return RankedLine(np.asarray(positions, dtype=np.int64), list(reasons), inputs.strategy)


def run_round(inputs: RoundInputs, pool: PreparedPool) -> RoundResult:
    """Prepare the pool, fit when ``inputs.refit``, then rank; a failed fit keeps the current model.

    A round that fits before the pool's embedding index exists prepares only what the fit needs
    (:meth:`PreparedPool.prepare_first`: the model features, or for a large text pool a sample) and
    ranks by the model alone, so the first suggestions do not wait for the embeddings and the index
    (``pool_pending`` asks the session for the round that builds them, scores every row and ranks again).
    """
    started = time.perf_counter()
    if inputs.refit and not pool.ready:
        pool.prepare_first()
    else:
        pool.prepare()
    result = RoundResult()
    model = inputs.current
    if inputs.refit:
        try:
            result.fitted = model = fit_model(inputs, pool)
        except ModelError as error:
            result.fit_error = error
    elif model is not None and model.scored is not None and pool.features_ready:
        try:
            result.rescored = model = model.rescored(pool)
        except ModelError as error:
            result.fit_error = error
    result.ranked = rank_line(inputs, pool, model)
    result.pool_pending = not pool.ready
    result.seconds = time.perf_counter() - started
    return result


class RetrainPolicy:
    """When to fit: first as soon as two labels have two examples each, then every ``every`` new labels."""

    def __init__(self, every: int):
        self.every = every
        self._labels_at_request: int | None = None  # None: no fit asked for yet

    def due(self, n_hand: int, counts: np.ndarray) -> bool:
        """Whether a label that brought the hand labels to ``n_hand`` (per label: ``counts``) should start a fit."""
        if not _models.ready_to_train(counts):
            return False
        return self._labels_at_request is None or n_hand - self._labels_at_request >= self.every

    def started(self, n_hand: int) -> None:
        """A fit was requested with ``n_hand`` labels."""
        self._labels_at_request = n_hand
