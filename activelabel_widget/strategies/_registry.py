"""Every query strategy, registered once: its name, what it does, how it scores and explains.

A strategy is a :class:`Strategy`: a name, a one-sentence description for users, whether it
reads a model's probabilities, and two functions side by side:

* ``score(pool)`` returns one score per pool row (higher = ask sooner), or an
  :class:`_Instead` naming the strategy to run in its place when its inputs are missing
  (no model yet, a single class, no committee, no embeddings) and saying why;
* ``explain(pool, scores, picks)`` returns one short text per picked row, naming the number
  that made the pick.

:data:`STRATEGIES`, :func:`needs_model`, :func:`describe` and :func:`check_strategy` all read
the registry, so adding a strategy is one entry at the bottom of this module.
"""

import copy
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Callable, NamedTuple

import numpy as np

from activelabel_widget.errors import OptionError
from activelabel_widget.strategies._diversity import (
    cell_coverage, check_index, diversity_scores)
from activelabel_widget.strategies._hybrid import exploration_share, has_unseen_label, hybrid_scores
from activelabel_widget.strategies._uncertainty import (
    as_proba, at_label_mix, committee_disagreement, confidence, least_confident_uncertainty,
    margin_uncertainty)

__all__ = ["Strategy", "REGISTRY", "STRATEGIES", "check_strategy", "describe", "needs_model"]


@dataclass(frozen=True)
class Strategy:
    """One query strategy.

    Attributes
    ----------
    name : str
        What users pass as ``strategy=``.
    description : str
        One sentence for users: what the strategy asks about first.
    needs_model : bool
        Whether it reads a model's class probabilities (without them it explores instead).
    score : callable
        ``score(pool) -> ndarray of shape (n,)``, higher = ask sooner (labeled rows are set
        to ``-inf`` afterwards), or an ``_Instead`` when another strategy must stand in.
    explain : callable
        ``explain(pool, scores, picks) -> list of str``, one text per picked row, without
        the trailing ``"(name)"`` (added by the caller).
    """

    name: str
    description: str
    needs_model: bool
    score: Callable
    explain: Callable


class _Instead(NamedTuple):
    """Run strategy ``name`` on ``pool`` instead, and tell the user ``why``."""

    name: str
    why: str
    pool: "_Pool"


class _Pool:
    """The arrays a strategy reads, checked once; probabilities are checked when first read."""

    def __init__(self, labeled_mask, proba, committee_proba, index, random_state, label_mix=None):
        self.mask = _check_mask(labeled_mask)
        self.n = self.mask.shape[0]
        if index is not None:
            check_index(index, self.n)
        self.index = index
        self.random_state = random_state
        self._proba = proba
        self._committee_proba = committee_proba
        self._label_mix = label_mix

    @cached_property
    def shown_proba(self):
        """Clean (n, K) class probabilities of the current model as the card shows them, or None."""
        if self._proba is None:
            return None
        p = as_proba(self._proba)
        _check_rows(p, self.n, "proba")
        return p

    @cached_property
    def proba(self):
        """The probabilities the strategies rank by: :attr:`shown_proba`, at the labels' class mix
        when the model was fitted with balanced class weights (:func:`at_label_mix`)."""
        if self.shown_proba is None or self._label_mix is None:
            return self.shown_proba
        return at_label_mix(self.shown_proba, self._label_mix)

    @cached_property
    def committee(self):
        """The committee's (m, n, K) probabilities as float64, or None."""
        if self._committee_proba is None:
            return None
        c = np.asarray(self._committee_proba, dtype=np.float64)
        if c.ndim != 3:
            raise ValueError("committee_proba must have shape (n_models, n_rows, n_classes), "
                             f"got {c.shape}.")
        _check_rows(c, self.n, "committee_proba")
        return c

    @cached_property
    def exploration(self):
        """The hybrid's share of exploration (its scores and its reasons read it): the expected error of
        the model as the card shows it. The labels' class mix moves where the hybrid looks (the margin),
        not how much it explores: read at that mix the model looks surer where a rare label competes,
        and on the movie reviews (a label at 3%) the hybrid then explored too little (AULC 0.5465
        against 0.5554 over 5 seeds; benchmarks/README.md)."""
        return exploration_share(self.shown_proba, self.mask, unseen=self.unseen_label)

    @cached_property
    def unseen_label(self):
        """Whether some label has no example yet (:func:`has_unseen_label`), read once for the
        share, the hybrid's scores and its reasons. At the labels' mix a column of 0 stays 0, so
        the model as shown and as ranked agree on it."""
        return has_unseen_label(self.shown_proba)

    def standing_in(self, proba):
        """The same pool with ``proba`` as the model's probabilities."""
        other = copy.copy(self)
        other.__dict__["proba"] = other.__dict__["shown_proba"] = proba
        other.__dict__.pop("exploration", None)
        other.__dict__.pop("unseen_label", None)
        return other


def _check_mask(labeled_mask):
    mask = np.asarray(labeled_mask)
    if mask.ndim != 1:
        raise ValueError(f"labeled_mask must be 1-d with one entry per pool row, got shape "
                         f"{mask.shape}.")
    if mask.dtype != np.bool_:
        raise TypeError(f"labeled_mask must be a boolean array (True = labeled), got dtype "
                        f"{mask.dtype}; build it with e.g. np.isin(np.arange(n), positions).")
    return mask.copy()


def _check_rows(array, n, what):
    if array.shape[-2] != n:
        raise ValueError(f"{what} has {array.shape[-2]} rows but labeled_mask has {n}; "
                         "score the whole pool, in the same row order.")


# --- scores and their explanations, strategy by strategy ---------------------------------------


def _explore_instead(pool):
    """Where a model-based strategy goes while the model cannot rank yet (else None)."""
    if pool.proba is None:
        return _Instead("diversity", "no model yet", pool)
    if pool.proba.shape[1] == 1:
        return _Instead("diversity", "one class labeled so far", pool)
    return None


def _random_scores(pool):
    return np.random.default_rng(pool.random_state).random(pool.n)


def _random_reasons(pool, scores, picks):
    return ["random pick"] * len(picks)


def _diversity_scores(pool):
    if pool.index is None:
        return _Instead("random", "no embeddings yet", pool)
    return diversity_scores(pool.index, pool.mask)


def _diversity_reasons(pool, scores, picks):
    index = pool.index
    labels, _ = cell_coverage(index, pool.mask)
    out = []
    for i in picks:
        c = index.cell[i]
        if labels[c] == 0:
            out.append("exploring an unlabeled region")
        else:
            out.append(f"exploring a region with {labels[c]} label"
                       f"{'s' if labels[c] != 1 else ''} for {index.cell_size[c]} rows")
    return out


def _confidence_scores(pool):
    return _explore_instead(pool) or 1.0 - confidence(pool.proba)


def _confidence_reasons(pool, scores, picks):
    return [f"confidence {c:.2f}" for c in confidence(pool.shown_proba[picks])]


def _margin_scores(pool):
    return _explore_instead(pool) or margin_uncertainty(pool.proba)


def _margin_reasons(pool, scores, picks):
    gaps = 1.0 - margin_uncertainty(pool.shown_proba[picks])
    return [f"margin {g:.2f} between the two likeliest labels" for g in gaps]


def _least_confident_scores(pool):
    return _explore_instead(pool) or least_confident_uncertainty(pool.proba)


def _least_confident_reasons(pool, scores, picks):
    return [f"top probability {p:.2f}" for p in pool.shown_proba[picks].max(axis=1)]


def _committee_scores(pool):
    proba, members = pool.proba, pool.committee
    if members is not None and members.shape[0] >= 2 and members.shape[2] >= 2:
        return committee_disagreement(members)
    if proba is None and members is not None:
        pool = pool.standing_in(as_proba(members.mean(axis=0)))
    # One model only: its own uncertainty stands in for the committee's disagreement.
    return _explore_instead(pool) or _Instead("confidence", "no committee yet", pool)


def _committee_reasons(pool, scores, picks):
    return [f"committee disagreement {scores[i]:.2f}" for i in picks]


def _hybrid_scores(pool):
    return _explore_instead(pool) or hybrid_scores(pool.proba, pool.mask, pool.index, share=pool.exploration,
                                                      unseen=pool.unseen_label)


def _hybrid_reasons(pool, scores, picks):
    conf = confidence(pool.shown_proba[picks])
    if pool.index is None:
        return [f"confidence {c:.2f}" for c in conf]
    if pool.unseen_label:
        return [f"confidence {c:.2f}, looking for a label the model has not learnt yet" for c in conf]
    labels, _ = cell_coverage(pool.index, pool.mask)
    fresh = (labels[pool.index.cell[picks]] == 0) & (pool.exploration >= 0.05)
    return [f"confidence {c:.2f}, in an unlabeled region" if f else f"confidence {c:.2f}"
            for c, f in zip(conf, fresh)]


# --- the registry ------------------------------------------------------------------------------

_REGISTERED = (
    Strategy("hybrid",
             "Asks about records the model is unsure of; while the model is still poor it "
             "prefers typical records of regions that few labels cover yet.",
             needs_model=True, score=_hybrid_scores, explain=_hybrid_reasons),
    Strategy("confidence",
             "Asks about the records whose predicted label probabilities are spread most "
             "evenly (highest entropy).",
             needs_model=True, score=_confidence_scores, explain=_confidence_reasons),
    Strategy("margin",
             "Asks about the records whose two likeliest labels are closest in probability.",
             needs_model=True, score=_margin_scores, explain=_margin_reasons),
    Strategy("least_confident",
             "Asks about the records whose likeliest label has the lowest probability.",
             needs_model=True, score=_least_confident_scores, explain=_least_confident_reasons),
    Strategy("diversity",
             "Spreads the questions over regions of the embedding space, asking first where "
             "no label is yet; needs no model.",
             needs_model=False, score=_diversity_scores, explain=_diversity_reasons),
    Strategy("committee",
             "Asks about the records on which several models trained on the labels so far "
             "disagree most.",
             needs_model=True, score=_committee_scores, explain=_committee_reasons),
    Strategy("random",
             "Asks about records in a seeded random order, as a baseline.",
             needs_model=False, score=_random_scores, explain=_random_reasons),
)

REGISTRY = MappingProxyType({s.name: s for s in _REGISTERED})
"""Every strategy by name, in the order of :data:`STRATEGIES` (read-only)."""

STRATEGIES = tuple(REGISTRY)
"""The names users can pass as ``strategy=``; ``"hybrid"`` (the default) first."""


def check_strategy(name):
    """``name`` if it names a strategy; otherwise an error listing the ones there are.

    The one place strategy names are checked.

    Raises
    ------
    OptionError
        (a ``ValueError``) when ``name`` is not one of :data:`STRATEGIES`.

    Examples
    --------
    >>> check_strategy("margin")
    'margin'
    >>> check_strategy("entropy")
    Traceback (most recent call last):
    ...
    activelabel_widget.errors.OptionError: strategy='entropy' is not known; choose one of \
hybrid, confidence, margin, least_confident, diversity, committee, random.
    """
    if not isinstance(name, str) or name not in REGISTRY:
        raise OptionError(f"strategy={name!r} is not known; choose one of "
                          f"{', '.join(STRATEGIES)}.")
    return name


def describe(name):
    """One sentence for users on what strategy ``name`` asks about first.

    Examples
    --------
    >>> describe("margin")
    'Asks about the records whose two likeliest labels are closest in probability.'
    """
    return REGISTRY[check_strategy(name)].description


def needs_model(name):
    """Whether strategy ``name`` uses a model's probabilities (without them it explores).

    Examples
    --------
    >>> needs_model("margin"), needs_model("diversity")
    (True, False)
    """
    return REGISTRY[check_strategy(name)].needs_model


def run(name, *, labeled_mask, proba, committee_proba, index, random_state, label_mix=None):
    """Score the pool with strategy ``name``, or whichever stands in for it (internal).

    With ``label_mix`` (labeled examples per class) the model-based strategies rank by the
    probabilities at the labels' class mix; the reasons quote the probabilities as given.

    Returns
    -------
    scores : ndarray of shape (n,), float64
        A new array, ``-inf`` exactly at labeled rows.
    reasons : callable
        ``reasons(picks) -> list of str``: ``"<why>: <text> (<name>)"``, where ``why`` says
        why another strategy stood in (empty when none did).
    """
    entry = REGISTRY[check_strategy(name)]
    pool = _Pool(labeled_mask, proba, committee_proba, index, random_state, label_mix)
    why = ""
    scores = entry.score(pool)
    while isinstance(scores, _Instead):
        why = why or scores.why  # the first missing input is the one worth telling
        entry, pool = REGISTRY[scores.name], scores.pool
        scores = entry.score(pool)
    scores = np.array(scores, dtype=np.float64, copy=True)
    scores[pool.mask] = -np.inf
    lead = f"{why}: " if why else ""

    def reasons(picks):
        return [f"{lead}{text} ({name})" for text in entry.explain(pool, scores, picks)]

    return scores, reasons
