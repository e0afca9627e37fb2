"""Labels belong to records: match a store's labels to the rows of today's DataFrame.

A record is known by its key (the DataFrame's index value) and the hash of its content
(:meth:`~activelabel_widget.dataset.Dataset.record_hashes`, computed from values, not dtypes).
A label is in force on a row when the row's key is in the data and its content is what was
labeled. Rows added since are new work; labeled rows that are gone stay in the store (reported,
and listed by :meth:`~activelabel_widget.session.LabelingSession.missing_labels`); a row whose
content changed under the same key is flagged, and its old label is not applied to the new content.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._keys import key_text
from .errors import StoreMismatchError

__all__ = ["Match", "match_labels", "label_applies", "missing_frame", "pick_imports"]


@dataclass
class Match:
    """How a store's labels met the data: what applies, and the one-line report."""

    positions: np.ndarray  # rows whose label applies
    keys: list  # their store keys, in the same order
    changed: list = field(default_factory=list)  # store keys whose row's content changed
    missing: list = field(default_factory=list)  # store keys no longer in the data
    new_rows: int = 0  # rows with no event in the store at all
    labels: list = field(default_factory=list)  # the label names that apply, in ``positions`` order
    sources: list = field(default_factory=list)  # and their sources
    retired: dict = field(default_factory=dict)  # label name not in labels= -> store keys of its rows (not applied)

    @property
    def restored(self) -> int:
        return len(self.positions)

    def summary(self) -> str:
        """E.g. "1,204 labels restored; 300 new rows; 12 labeled rows no longer in the data"."""
        parts = [f"{self.restored:,} label{'s' if self.restored != 1 else ''} restored"]
        if self.new_rows and self.restored + len(self.changed) + len(self.missing):
            parts.append(f"{self.new_rows:,} new row{'s' if self.new_rows != 1 else ''}")
        if self.changed:
            parts.append(f"{len(self.changed):,} labeled row{'s' if len(self.changed) != 1 else ''} changed since "
                         "(shown again to label; old labels kept in the store)")
        if self.missing:
            parts.append(f"{len(self.missing):,} labeled row{'s' if len(self.missing) != 1 else ''} no longer in "
                         "the data (kept in the store: see missing_labels())")
        for name, keys in self.retired.items():
            parts.append(f"{len(keys):,} label{'s' if len(keys) != 1 else ''} {name!r} not in labels= (kept in the "
                         f"store, not applied: add_label({name!r}) or add it to labels= to use them)")
        return "; ".join(parts)


def label_applies(event, position: int | None, dataset) -> bool:
    """Whether ``event`` (a label in force) applies to the row at ``position`` of ``dataset`` as it is today."""
    return position is not None and dataset.content_matches(event.content, position)


def match_labels(state, dataset, *, store_path: str = "", labels=None) -> Match:
    """Match the labels in force in ``state`` to ``dataset``'s rows.

    A label whose name is not in ``labels`` (when given; e.g. a label dropped from ``labels=``)
    does not apply: its row is unlabeled here and its store key is listed in ``Match.retired``.

    Raises
    ------
    StoreMismatchError
        The store has labels and none of them matches a row (by key and content): it was made
        for other data.
    """
    position_of = dataset.position_of
    hashes = dataset.record_hashes()
    all_keys, all_labels, all_sources, all_contents = state.in_force()
    found = np.fromiter((position_of.get(key, -1) for key in all_keys), dtype=np.int64, count=len(all_keys))
    present = found >= 0
    stored = np.array([0 if c is None else c for c in all_contents], dtype=np.uint64)
    unknown = np.array([c is None for c in all_contents], dtype=bool)
    same = np.zeros(len(all_keys), dtype=bool)
    same[present] = unknown[present] | (stored[present] == hashes[found[present]])
    if (present & ~same).any() and (shown := dataset.shown_hashes()) is not None:
        same[present] |= stored[present] == shown[found[present]]  # made while show= columns were hashed too
    retired: dict = {}
    retired_rows = np.zeros(len(all_keys), dtype=bool)
    if labels is not None:
        known = set(labels) if isinstance(labels, (list, tuple)) else labels  # or any container with `in`
        for i in np.flatnonzero(same):
            if all_labels[i] not in known:
                retired.setdefault(all_labels[i], []).append(all_keys[i])
                retired_rows[i] = True
        same &= ~retired_rows
    keys = [all_keys[i] for i in np.flatnonzero(same)]
    positions = found[same]
    changed = [all_keys[i] for i in np.flatnonzero(present & ~same & ~retired_rows)]
    missing = [all_keys[i] for i in np.flatnonzero(~present)]
    match = Match(positions, keys, changed, missing,
                  new_rows=max(len(dataset) - len(positions) - len(changed) - int(retired_rows.sum()), 0),
                  labels=[all_labels[i] for i in np.flatnonzero(same)],
                  sources=[all_sources[i] for i in np.flatnonzero(same)], retired=retired)
    if all_keys and not len(positions) and not retired:
        not_in_index = (f"{len(missing):,} keys are not in its index, e.g. {key_text(missing[0])}"
                        if missing else "every key is in its index")
        other_content = (f"Row {key_text(changed[0])}, for one, has other content: if text=, image= or features= "
                         "changed since (or show=, for labels saved when shown columns still counted as the record), "
                         "pass them as they were. " if changed else "")
        raise StoreMismatchError(
            f"The label store {store_path} has {len(all_keys):,} labels, but none of them matches a row of this "
            f"DataFrame by index and content ({not_in_index}; {len(changed):,} rows have other content): it was "
            f"made for other data. {other_content}If the rows were renumbered (reset_index), set the "
            "original index back (df.set_index(...)) so each record keeps its identity. To start a separate set of "
            "labels, pass store= a new path."
        )
    return match


def missing_frame(state, match: Match, dataset, has_label: np.ndarray, labels: list[str]) -> pd.DataFrame:
    """Labels in the store that do not apply to today's data, by store key, with ``why`` and the label columns."""
    from .handoff import add_label_columns

    position_of = dataset.position_of
    retired = {key for group in match.retired.values() for key in group}
    keys = [key for key in match.missing + match.changed + sorted(retired) if key in state.labels
            and not (key in position_of and has_label[position_of[key]])]
    why = ["label not in labels=" if key in retired else "changed" if key in position_of else "not in the data"
           for key in keys]
    frame = pd.DataFrame({"why": why}, index=pd.Index(keys, name="store_key"))
    events = [state.labels[key] for key in keys]
    retired_names = [name for name in dict.fromkeys(e.label for e in events) if name not in labels]
    add_label_columns(frame, events, list(labels) + retired_names)
    return frame


def pick_imports(other, state, dataset, has_label: np.ndarray, labels: list[str],
                 rejected: np.ndarray) -> tuple[list, str]:
    """The ``(position, event)`` pairs of ``other``'s labels to bring in, and a report of the rest.

    A label comes in when its record is in the data with the content it was made on, its name is
    one of ``labels``, and the row has no answer here; a row labeled (or, per ``rejected``,
    rejected) here keeps its answer.
    """
    chosen, same, conflicts, unmatched, kept_rejected = [], 0, 0, 0, 0
    for key, event in other.labels.items():
        position = dataset.position_of.get(key)
        if event.label not in labels or not label_applies(event, position, dataset):
            unmatched += 1
        elif has_label[position]:
            same += state.labels[key].label == event.label
            conflicts += state.labels[key].label != event.label
        elif rejected[position]:
            kept_rejected += 1
        else:
            chosen.append((position, event))
    rejections = f"{kept_rejected:,} rows rejected here stayed rejected; " if kept_rejected else ""
    return chosen, (f"{same:,} already here; {conflicts:,} rows labeled differently here kept their label; {rejections}"
                    f"{unmatched:,} not matched to this data")
