"""The small ticket data set the tests label, in a module of its own: processes a test starts
import it by this name (two folders of tests each have a ``conftest``, so that name is ambiguous there)."""

import numpy as np
import pandas as pd

LABELS = ["bug", "feature", "question"]


def ticket_frame(n: int = 60, *, start: int = 100) -> pd.DataFrame:
    """A small text data set whose labels follow from keywords (so a model can learn them)."""
    rng = np.random.default_rng(0)
    templates = {
        "bug": ["app crashes when I {x}", "error and traceback after {x}", "crash on {x}, broken"],
        "feature": ["please add {x} support", "would love a way to {x}", "feature request: {x}"],
        "question": ["how do I {x}?", "how can I {x} in the settings?", "is there a guide to {x}?"],
    }
    verbs = ["save a file", "export csv", "log in", "open the editor", "sync my phone", "print"]
    rows, truth = [], []
    for i in range(n):
        label = LABELS[i % 3]
        rows.append(templates[label][rng.integers(3)].format(x=verbs[rng.integers(len(verbs))]))
        truth.append(label)
    return pd.DataFrame({"body": rows, "truth": truth}, index=pd.RangeIndex(start, start + n))
