"""Weak supervision: heuristics that vote labels, their summary, and weak labels for every row.

Headless and pure: labeling functions build a label matrix (rows x heuristics, -1 = abstain)
from a DataFrame; everything after that is a function of numpy arrays.

Examples
--------
>>> import pandas as pd
>>> from activelabel_widget.weak import keywords, apply_heuristics, aggregate
>>> df = pd.DataFrame({"body": ["it crashed", "how do I log in?", "crash on login", "thanks"]})
>>> rules = [keywords("bug", column="body", words=["crash"]),
...          keywords("question", column="body", words=["how do"])]
>>> result = apply_heuristics(rules, df, ["bug", "question"])
>>> aggregate(result.matrix, n_classes=2).codes.tolist()
[0, 1, 0, -1]
"""

from ._aggregate import METHODS, WeakLabels, aggregate, promote
from ._analysis import DEFAULT_VOTE_THRESHOLD, conflict_scores, model_votes, summarize
from ._apply import ABSTAIN, HeuristicResult, apply_heuristics
from ._functions import LabelingFunction, keywords, labeling_function, regex

__all__ = [
    "ABSTAIN",
    "DEFAULT_VOTE_THRESHOLD",
    "METHODS",
    "HeuristicResult",
    "LabelingFunction",
    "WeakLabels",
    "aggregate",
    "apply_heuristics",
    "conflict_scores",
    "keywords",
    "labeling_function",
    "model_votes",
    "promote",
    "regex",
    "summarize",
]
