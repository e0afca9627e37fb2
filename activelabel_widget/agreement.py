"""How far annotators agree, from a table of answers (one row per record and annotator).

Pure functions over pandas/numpy; the session builds the table (:meth:`LabelingSession.answers`).

- :func:`cohen_kappa` for two annotators on the records both answered.
- :func:`fleiss_kappa` for records that each got the same number of answers.
- :func:`krippendorff_alpha` (nominal) for any number of answers per record, missing ones allowed.
- :func:`agreement_table` puts them together: overall, per annotator (against everyone else) and
  per label pair (how often one annotator's label meets another's on the same record).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

__all__ = ["cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "agreement_table", "disagreements"]


def cohen_kappa(first, second) -> float:
    """Cohen's kappa of two annotators' labels on the same records (NaN when chance explains all).

    >>> round(cohen_kappa(["a", "a", "b", "b"], ["a", "b", "b", "b"]), 3)
    0.5
    """
    first, second = np.asarray(first, dtype=object), np.asarray(second, dtype=object)
    if len(first) != len(second) or not len(first):
        return float("nan")
    labels = sorted(set(first) | set(second), key=str)
    observed = float(np.mean(first == second))
    expected = sum(float(np.mean(first == label)) * float(np.mean(second == label)) for label in labels)
    return float("nan") if expected == 1.0 else (observed - expected) / (1.0 - expected)


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa from an (records, labels) array of how many annotators gave each label; every
    record must have the same number of answers, at least two.

    >>> round(fleiss_kappa(np.array([[2, 0], [0, 2], [1, 1]])), 3)
    0.333
    """
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2 or not len(counts):
        return float("nan")
    raters = counts.sum(axis=1)
    if raters.min() != raters.max() or raters[0] < 2:
        raise ValueError("Fleiss' kappa needs the same number of answers (two or more) on every record; "
                         "use krippendorff_alpha for uneven counts.")
    n = raters[0]
    per_record = ((counts * (counts - 1)).sum(axis=1)) / (n * (n - 1))
    shares = counts.sum(axis=0) / counts.sum()
    expected = float((shares ** 2).sum())
    observed = float(per_record.mean())
    return float("nan") if expected == 1.0 else (observed - expected) / (1.0 - expected)


def krippendorff_alpha(counts: np.ndarray) -> float:
    """Krippendorff's alpha for nominal labels from an (records, labels) array of answer counts;
    records with fewer than two answers do not count.

    >>> round(krippendorff_alpha(np.array([[2, 0], [0, 2], [1, 1]])), 3)
    0.444
    """
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2:
        return float("nan")
    counts = counts[counts.sum(axis=1) >= 2]
    if not len(counts):
        return float("nan")
    answers = counts.sum(axis=1, keepdims=True)
    # the coincidence matrix: pairs of answers on one record, each pair weighted 1 / (answers - 1)
    coincidence = (counts[:, :, None] * counts[:, None, :]) / (answers[:, :, None] - 1)
    coincidence -= np.einsum("rl,lm->rlm", counts / (answers - 1), np.eye(counts.shape[1]))
    coincidence = coincidence.sum(axis=0)
    totals = coincidence.sum(axis=1)
    total = totals.sum()
    observed_disagreement = (total - np.trace(coincidence)) / total
    expected_disagreement = (total ** 2 - (totals ** 2).sum()) / (total * (total - 1))
    return float("nan") if expected_disagreement == 0 else float(1.0 - observed_disagreement / expected_disagreement)


def _counts(answers: pd.DataFrame, labels: list) -> tuple[pd.Index, np.ndarray]:
    table = pd.crosstab(answers.index, answers["label"]).reindex(columns=labels, fill_value=0)
    return table.index, table.to_numpy()


def agreement_table(answers: pd.DataFrame, labels: list) -> dict:
    """The agreement figures of a table of answers (index: record key; columns ``label``, ``annotator``).

    Returns ``{"overall": {...}, "annotators": DataFrame, "label_pairs": DataFrame}``:

    - overall: records with two or more answers, the share of those where all agree,
      Krippendorff's alpha, Fleiss' kappa (when every such record has the same number of answers)
      and Cohen's kappa (when exactly two annotators answered).
    - annotators: per annotator, records answered, records shared with someone else, the share of
      those where the others' majority agrees with them, and Cohen's kappa against each other annotator.
    - label_pairs: for each pair of answers on one record, how often label A met label B.
    """
    answers = answers[answers["label"].notna()]
    per_record = answers.groupby(level=0)["label"].agg(list)
    shared = per_record[per_record.map(len) >= 2]
    index, counts = _counts(answers[answers.index.isin(shared.index)], labels)
    sizes = counts.sum(axis=1) if len(counts) else np.array([])
    annotators = sorted(answers["annotator"].unique(), key=str)
    overall = {
        "records_with_several_answers": int(len(shared)),
        "all_agree": float(np.mean([len(set(x)) == 1 for x in shared])) if len(shared) else float("nan"),
        "krippendorff_alpha": krippendorff_alpha(counts) if len(counts) else float("nan"),
        "fleiss_kappa": fleiss_kappa(counts) if len(counts) and sizes.min() == sizes.max() else float("nan"),
        "cohen_kappa": float("nan"),
    }
    wide = answers.reset_index().pivot_table(index=answers.index.name or "index", columns="annotator",
                                              values="label", aggfunc="last")
    if len(annotators) == 2:
        both = wide.dropna()
        overall["cohen_kappa"] = cohen_kappa(both[annotators[0]], both[annotators[1]])
    rows = []
    for name in annotators:
        mine = answers[answers["annotator"] == name]
        others = answers[(answers["annotator"] != name) & answers.index.isin(mine.index)]
        majority = others.groupby(level=0)["label"].agg(lambda x: x.value_counts().index[0])
        agree = [mine.loc[key, "label"] == label for key, label in majority.items() if key in mine.index]
        row = {"annotator": name, "answered": int(len(mine)), "shared": int(len(majority)),
               "agrees_with_others": float(np.mean(agree)) if agree else float("nan")}
        for other in annotators:
            if other != name:
                pair = wide[[name, other]].dropna() if other in wide and name in wide else wide.iloc[:0]
                row[f"kappa_with_{other}"] = cohen_kappa(pair[name], pair[other]) if len(pair) else float("nan")
        rows.append(row)
    pairs = pd.DataFrame(0, index=pd.Index(labels, name="label"), columns=pd.Index(labels, name="met"))
    for values in shared:
        for a, b in combinations(values, 2):
            pairs.loc[a, b] += 1
            if a != b:
                pairs.loc[b, a] += 1
    return {"overall": overall, "annotators": pd.DataFrame(rows).set_index("annotator") if rows else pd.DataFrame(),
            "label_pairs": pairs}


def disagreements(answers: pd.DataFrame) -> pd.DataFrame:
    """Records whose annotators gave different labels: one row per record, its labels by annotator."""
    answers = answers[answers["label"].notna()]
    per_record = answers.groupby(level=0)["label"].nunique()
    split = per_record[per_record > 1].index
    table = answers.loc[answers.index.isin(split)]
    if not len(table):
        return pd.DataFrame(columns=["labels", "annotators"])
    return table.groupby(level=0).agg(labels=("label", list), annotators=("annotator", list))
