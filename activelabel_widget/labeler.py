"""``ActiveLabeler``: the one object a user creates.

It holds a headless :class:`~activelabel_widget.session.LabelingSession` and the card that
shows it. Display it (last line of a cell) to get the card; read ``.labeled`` or
``.to_frame()`` in the next cell for plain pandas.
"""

from __future__ import annotations

import pandas as pd

from . import options as options_module
from .handoff import column_names
from .heuristics import Heuristics
from .insights import Insights
from .session import LabelingSession

__all__ = ["ActiveLabeler"]


class ActiveLabeler:
    """Label a DataFrame in the notebook, with a model that trains as you label.

    Takes the same arguments as :class:`~activelabel_widget.session.LabelingSession`, plus
    ``projection`` ("pca", "umap" or "tsne") for the coverage map, ``preload``: how many
    records the card holds in the page (the one on screen and the next ones; default 8), so a key
    press shows the next record at once instead of waiting on the kernel, and ``keys``: a dict
    label -> key for the card (e.g. ``{"spam": "x"}``); other labels get their own name when it
    is one digit or letter, then ``1``..``9``, ``0``, then free letters (see
    :mod:`activelabel_widget.keymap`), and ``guidelines``: label -> one short sentence on when to use
    it, shown in the key map and on the label's button. ``multi_label=True`` lets a record carry a
    set of labels (or none): keys and buttons toggle labels, Enter saves the set, the model is
    one-vs-rest and ``labeled["label"]`` holds lists (:meth:`one_hot` gives 0/1 columns); see
    :mod:`activelabel_widget.multilabel`.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"body": ["app crashes on start", "add a dark mode", "how do I log in?"]})
    >>> al = ActiveLabeler(df, text="body", labels=["bug", "feature", "question"], store=":memory:")
    >>> al.session.label(0, "bug")     # or press 1 on the card that `al` renders
    >>> al.labeled[["body", "label", "source"]]
                       body label source
    0  app crashes on start   bug   hand
    >>> al.close()
    """

    def __init__(self, df: pd.DataFrame, *, labels, projection: str = "pca", prefer_conflicts: bool = False,
                 preload: int = options_module.DEFAULT_PRELOAD, keys: dict | None = None,
                 guidelines: dict | None = None, multi_label: bool = False, **options):
        from .keymap import assign_keys
        from .multisession import MultiLabelSession

        if not isinstance(multi_label, bool):
            raise options_module.OptionError(f"multi_label must be True or False, got {multi_label!r}.")
        if multi_label and prefer_conflicts:
            raise options_module.OptionError("prefer_conflicts=True ranks by the heuristics' conflicts, which work on "
                                             "single labels only; leave it out with multi_label=True.")
        self._preload = options_module.check_preload(preload)
        self.key_map = assign_keys(options_module.check_labels(labels), keys)  # before any file is opened
        self._guidelines = options_module.check_guidelines(guidelines, options_module.check_labels(labels))
        self.session = (MultiLabelSession if multi_label else LabelingSession)(df, labels=labels, **options)
        self.insights = Insights(self.session, projection=projection)
        self.heuristics = Heuristics(self.session)
        self._prefer_conflicts = prefer_conflicts
        if not multi_label:
            self.session.priority_boost = self._priority
        self._widget = None
        self._map = None

    def _priority(self):
        """What lifts a record in the line (called by each round): a labeling function's vote for a label
        that has no example yet, always; the heuristics' conflicts with ``prefer_conflicts=True``. Returns
        ``(boost, why)`` or None."""
        missing = self.heuristics.missing_label_votes()
        if missing is not None:
            share, labels = missing
            names = ", ".join(repr(label) for label in labels)
            return share, f"a heuristic votes {names}, which has no label yet"
        if self._prefer_conflicts:
            conflicts = self.heuristics.conflicts()
            return None if conflicts is None else (conflicts, "heuristics disagree")
        return None

    @property
    def widget(self):
        """The labeling card (created on first use, so a script never needs a front end)."""
        if self._widget is None:
            from .widget import LabelingWidget

            self._widget = LabelingWidget(self.session, insights=self.insights, votes_for=self.heuristics.votes_on,
                                          preload=self._preload, key_map=self.key_map, guidelines=self._guidelines)
            report = self.session.restore_report
            if report.restored or report.changed or report.missing:
                self._widget.notice = report.summary()  # what the store held, in one line, on the card
            if self._map is not None:
                self._widget.link_map(self._map)
        return self._widget

    # -- the embedding map -----------------------------------------------------------------------
    @property
    def map(self):
        """The embedding map (:class:`~activelabel_widget.embedding_map.EmbeddingMap`): every record as a
        point, coloured by label, prediction, confidence or source, linked to the card. Display it, or
        :meth:`show_map` for the map beside the card. Its projection is computed in the background on first
        use and kept beside the store. ``al.map.selection`` holds the row keys selected on it."""
        if self._map is None:
            from .embedding_map import EmbeddingMap

            self._map = EmbeddingMap(self.session, self.insights)
            if self._widget is not None:
                self._widget.link_map(self._map)
        return self._map

    def show_map(self):
        """The card and the embedding map side by side (they wrap one under the other in a narrow notebook)."""
        import ipywidgets

        card = self.widget
        card.layout.flex, card.layout.min_width = "0 1 560px", "320px"  # the map takes the rest of the row
        return ipywidgets.HBox([card, self.map.widget],
                               layout=ipywidgets.Layout(flex_flow="row wrap", align_items="flex-start", gap="12px"))

    def queue(self, keys) -> int:
        """Put these records (index values) first in the line, in this order, after the one on the card;
        labeled ones are passed over. Returns how many were queued."""
        return self.session.queue(keys, reason="queued by al.queue")

    def label_many(self, keys, label: str) -> int:
        """Label the records with these index values ``label`` at once (``source="bulk"``): one transaction,
        one undo step. Records that already carry a label keep it; rejected ones stay rejected. Returns how many
        were labeled."""
        from .embedding_map import label_many

        return label_many(self.session, self.session.positions_of(keys), label)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def labeled(self) -> pd.DataFrame:
        """The hand-labeled rows: original columns plus label, labeled_at, annotator, source, confidence and
        previous_label (what a correction replaced)."""
        return self.session.labeled

    def answers(self) -> pd.DataFrame:
        """Every annotator's answer in force, one row per record and annotator (see :meth:`LabelingSession.answers`)."""
        return self.session.answers()

    def agreement(self) -> dict:
        """How far annotators agree where several answered a record (see :meth:`LabelingSession.agreement`)."""
        return self.session.agreement()

    def disagreements(self) -> pd.DataFrame:
        """The records annotators answered differently, not yet adjudicated."""
        return self.session.disagreements()

    def adjudicate(self, key, label: str) -> None:
        """Settle a record annotators answered differently (``source="adjudicated"``, used by :attr:`labeled`)."""
        self.session.adjudicate(key, label)

    @property
    def multi_label(self) -> bool:
        """Whether a record carries a set of labels (``multi_label=True``) rather than one."""
        return self.session.multi_label

    def one_hot(self) -> pd.DataFrame:
        """Multi-label only: the hand-labeled rows as one 0/1 column per label, indexed like the data."""
        if not self.multi_label:
            raise options_module.LabelError("one_hot() is for multi_label=True labelers; al.labeled['label'] holds "
                                            "the one label of each row here.")
        return self.session.one_hot()

    def to_frame(self) -> pd.DataFrame:
        """Every row: label columns (missing where unlabeled), the model's prediction, the weak label
        (multi-label: the label set, the predicted set and its confidence; no weak label)."""
        frame = self.session.to_frame()
        if self.multi_label:
            return frame
        weak = self.heuristics.weak_labels()
        names = column_names(self.session.dataset.df.columns)
        frame[names["weak_label"]] = weak["weak_label"]
        frame[names["weak_confidence"]] = weak["weak_confidence"]
        return frame

    # -- weak supervision ------------------------------------------------------------------------
    def add_heuristic(self, *functions) -> None:
        """Add labeling functions (``@labeling_function``, ``keywords``, ``regex``) to the committee.

        They are applied to every row now; one with the same name replaces the old one. The
        trained weak classifiers are heuristics too. A function that raises is reported and
        the others still apply.
        """
        self.heuristics.add(*functions)
        self.session.request_rerank()  # the line may prefer conflicts, and the card shows votes

    def heuristics_summary(self) -> pd.DataFrame:
        """One row per heuristic: coverage, overlaps, conflicts, accuracy against the hand labels."""
        return self.heuristics.summary()

    def weak_labels(self, *, method: str = "weighted") -> pd.DataFrame:
        """Every row: ``weak_label``, ``weak_confidence`` and ``votes`` from the committee of heuristics."""
        return self.heuristics.weak_labels(method=method)

    def promote_weak(self, *, min_confidence: float = 0.9) -> int:
        """Save weak labels at or above ``min_confidence`` with ``source="weak"``; hand labels are never overwritten."""
        return self.heuristics.promote(min_confidence=min_confidence)

    def plot_confidence(self):
        """Confidence (1 - normalised entropy) over the unlabeled pool by predicted label; a Figure."""
        return self.insights.confidence()

    def plot_coverage(self):
        """The embedding map: what part of the data has labels nearby, what comes next; a Figure."""
        return self.insights.coverage()

    def plot_learning_curve(self):
        """Cross-validated accuracy after each fit against the number of labels; a Figure."""
        return self.insights.learning_curve()

    def plot_labels(self):
        """Label counts by source (hand, accepted suggestion, weak); a Figure."""
        return self.insights.label_counts()

    def label_issues(self) -> pd.DataFrame:
        """Hand-labeled rows whose label is likely wrong, most likely first (label, suggested, score).

        Confident learning on the latest fit's out-of-fold probabilities; ``attrs["rule"]`` says
        which rule, ``attrs["reason"]`` why nothing can be judged yet.
        """
        return self.session.label_issues()

    def add_label(self, name: str) -> None:
        """Add a label mid-session: the card shows it (with a key of its own) and the model learns it next round."""
        self.session.add_label(name)

    def rename_label(self, old: str, new: str) -> int:
        """Rename a label: its rows are relabeled as one undo step (the log keeps the old name), the card keeps
        its key and colour; put ``new`` in ``labels=`` for the next start. Returns how many rows changed."""
        return self.session.rename_label(old, new)

    def remove_label(self, name: str) -> None:
        """Take a label no row carries off the card (relabel its rows first); other labels keep their keys."""
        self.session.remove_label(name)

    def review(self, by: str = "issues", *, keys=None) -> int:
        """Walk hand-labeled records again on the card; returns how many are in the walk.

        ``by``: ``"issues"`` (likely label errors first), ``"disagreement"`` (the out-of-fold
        prediction differs from the label), ``"label"``, ``"annotator"`` or ``"time"`` (newest
        first); ``keys`` walks those rows instead. On the card Enter keeps a label, a label key
        saves a correction (``source="corrected"``, the old label stays in the log), z walks back,
        and ``v`` or :meth:`end_review` returns to labeling where it was.
        """
        return self.session.review(by, keys=keys)

    def end_review(self) -> None:
        """Leave review: the card shows the record labeling had reached."""
        self.session.end_review()

    def label_history(self, key) -> pd.DataFrame:
        """Every event saved for one row, oldest first (labels, corrections, skips), with ``undone`` marked."""
        return self.session.label_history(key)

    def stop_hint(self):
        """Whether more labels are unlikely to help much, and why in one sentence (``.ready``, ``.message``)."""
        return self.session.stop_hint()

    def missing_labels(self) -> pd.DataFrame:
        """Labels in the store whose records are gone from the data or changed since (kept, never applied)."""
        return self.session.missing_labels()

    def import_labels(self, path, *, format: str | None = None) -> str:
        """Bring in another store's labels (a colleague's copy, a recovered file), or a file :meth:`export`
        wrote, as one undo step; a one-line report."""
        return self.session.import_labels(path, format=format)

    def export(self, path=None, *, format: str | None = None):
        """Write the hand-labeled rows for other tools: .parquet, .csv, .jsonl (ours), .json (Label Studio),
        ``format="prodigy"`` (JSONL tasks) or ``"huggingface"`` (a ``datasets.Dataset``); returns what was written."""
        return self.session.export(path, format=format)

    @property
    def store_path(self) -> str:
        """Where every label is saved."""
        return self.session.store_path

    def retrain(self, *, wait: bool = False):
        """Fit the model(s) again now (in the background unless ``wait=True``)."""
        return self.session.retrain(wait=wait)

    def fit_final(self):
        """Fit the model(s) on every hand label and return the fitted estimator(s) for hand-off."""
        return self.session.fit_final()

    def close(self) -> None:
        """Close the card, stop background work and close the store."""
        if self._widget is not None:
            self._widget.close()
        if self._map is not None:
            self._map.close()
        self.session.close()

    def __repr__(self) -> str:
        return repr(self.session).replace("LabelingSession", "ActiveLabeler", 1)
