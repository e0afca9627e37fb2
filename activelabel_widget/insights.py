"""Figures of a session's state: reads the session, hands plain arrays to :mod:`.plots`.

The 2-D projection of the embeddings and the coverage radius are computed once per session and
cached here (the projection also beside the store, :mod:`.projection_cache`, so reopening does not
recompute it); the figures are cheap after that. The widget renders the confidence and coverage
figures to PNG in the background after each fit, never on a click: :meth:`Insights.card_pngs`
draws them at the card's width (:data:`.plots.CARD_WIDTH_PX` by default), transparent, so they
read in a light and a dark theme. Every figure method takes ``width_px`` (None: notebook width).
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from . import plots, projection_cache
from .handoff import column_names
from .session import LabelingSession

__all__ = ["Insights"]

#: How many of the records queued next the plots mark (and the confidence threshold describes).
QUEUED_SHOWN = 50


class Insights:
    """Draw a session's confidence, coverage, learning curve and label counts."""

    def __init__(self, session: LabelingSession, *, projection: str = "pca"):
        self.session = session
        self.projection = projection
        self._lock = threading.Lock()
        self._xy: np.ndarray | None = None
        self._radius: float | None = None

    def map_2d(self) -> np.ndarray:
        """The (n, 2) projection of the embeddings: computed once, read from beside the store when it was
        computed for the same rows and embeddings before (blocks while the embeddings are being built)."""
        with self._lock:
            if self._xy is None:
                session = self.session
                embeddings = session.pool.embeddings
                path = projection_cache.cache_path(session.store_path)
                key = projection_cache.fingerprint(session.dataset.record_hashes(), embeddings, self.projection,
                                                   session.random_state)
                xy = projection_cache.load(path, key, len(session.dataset))
                if xy is None:
                    xy = plots.project_2d(embeddings, method=self.projection, random_state=session.random_state)
                    projection_cache.save(path, key, xy)
                self._xy = xy
            return self._xy

    @property
    def map_ready(self) -> bool:
        """True once :meth:`map_2d` has its projection (it returns at once)."""
        return self._xy is not None

    def confidence(self, width_px: int | None = None):
        """Confidence over the unlabeled pool by predicted label, hand-labeled rows for contrast."""
        from .strategies import confidence

        session = self.session
        proba, _ = session.model_proba()
        codes = session.hand_codes()
        queued = session.queued(QUEUED_SHOWN)
        if proba is None:
            return plots.empty_figure("No model yet: label at least two examples each of two labels, "
                                      "then the confidence of every record shows here.", width_px=width_px)
        if session.multi_label:  # per record: its least sure label, and that label's confidence
            from .multilabel import least_sure_label, record_confidence

            scores, predicted = record_confidence(proba), least_sure_label(proba)[1]
        else:
            scores, predicted = confidence(proba), proba.argmax(axis=1)
        scored = np.isfinite(proba).all(axis=1)  # a fit on a sample leaves the other rows unscored (NaN)
        unlabeled, labeled = (codes < 0) & scored, (codes >= 0) & scored
        queued = [position for position in queued if scored[position]]
        threshold = float(scores[queued].max()) if len(queued) else None
        return plots.plot_confidence(scores[unlabeled], predicted[unlabeled], session.labels,
                                     labeled_confidence=scores[labeled], threshold=threshold,
                                     width_px=width_px, least_sure=session.multi_label)

    def coverage(self, width_px: int | None = None):
        """The embedding map: unlabeled density, labeled points by label, the next records starred."""
        session = self.session
        xy = self.map_2d()
        codes = session.hand_codes()
        queued = session.queued(QUEUED_SHOWN)
        labeled = codes >= 0
        if labeled.any():
            share, radius = plots.coverage_share(self.session.pool.embeddings, labeled, radius=self._radius,
                                                 random_state=session.random_state)
            self._radius = radius
            coverage = (share, radius)
        else:
            coverage = None
        # the radius is coverage_share's default one (computed once, then reused): its caption
        # explains it by the default neighbourhood
        names = session.labels
        if session.multi_label:  # a labeled point takes the colour of the first label of its set
            sets = session.hand_sets()
            names = [*session.labels, "no label"]
            codes = np.where(labeled, np.where(sets.any(axis=1), sets.argmax(axis=1), len(session.labels)), -1)
        return plots.plot_coverage(xy, codes, names, queued=queued, coverage=coverage,
                                   random_state=session.random_state, width_px=width_px)

    def learning_curve(self, width_px: int | None = None):
        """Cross-validated accuracy after each fit against the number of labels."""
        history = [(r.n_labels, r.accuracy) for r in self.session.fit_history if r.accuracy is not None]
        if not history:
            return plots.empty_figure("No quality estimate yet: it appears after the first fit with two "
                                      "examples each of two labels.", width_px=width_px)
        n_labels, accuracy = map(np.asarray, zip(*history))
        hint = self.session.stop_hint()
        fired_at = None if hint.fired_at_fit is None else self.session.fit_history[hint.fired_at_fit].n_labels
        return plots.plot_learning_curve(n_labels, accuracy, width_px=width_px, stop_hint=(fired_at, hint.message),
                                         metric=self.session.model_status.metric)

    def label_counts(self, width_px: int | None = None):
        """Labels per name, by source: hand, accepted suggestion, weak."""
        frame = self.session.to_frame()
        names = column_names(self.session.dataset.df.columns)
        labeled = frame[frame[names["label"]].notna()]
        if self.session.multi_label:  # a set counts once for each of its labels
            labeled = labeled.explode(names["label"]).dropna(subset=[names["label"]])
        counts = pd.crosstab(labeled[names["label"]], labeled[names["source"]]).reindex(index=self.session.labels,
                                                                                        fill_value=0)
        counts = counts.reindex(columns=[c for c in plots.SOURCES if c in counts.columns])
        if counts.to_numpy().sum() == 0:
            return plots.empty_figure("No labels yet: label a record on the card.", width_px=width_px)
        return plots.plot_label_counts(counts, width_px=width_px)

    def card_pngs(self, width_px: int = plots.CARD_WIDTH_PX) -> tuple[bytes, bytes]:
        """The confidence and coverage figures as PNG bytes, for the card's insights panel.

        Both are ``width_px`` pixels wide (520 by default, for a card about 480-560 px wide; at
        least 200), as high as their content needs, with a transparent background.
        """
        return (plots.figure_to_png(self.confidence(width_px=width_px)),
                plots.figure_to_png(self.coverage(width_px=width_px)))
