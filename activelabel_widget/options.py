"""Check the labeler's options before anything is built; every problem is an :class:`OptionError`
or :class:`LabelError` that says what to pass instead."""

from __future__ import annotations

import getpass

import numpy as np

from .dataset import displayable
from .errors import LabelError, OptionError

#: The most label names one labeler takes (each needs a button, a key and a model class).
MAX_LABELS = 1_000

__all__ = ["MAX_LABELS", "check_labels", "check_label", "check_seed", "check_retrain_every", "login_name"]


def check_retrain_every(value) -> int:
    """``retrain_every=``: a positive whole number of labels."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise OptionError(f"retrain_every must be a positive whole number of labels, got {value!r}.")
    return int(value)


#: Records the page holds by default (the one on screen and those after it), so a key press never waits on the kernel.
DEFAULT_PRELOAD = 8

#: The most records a card holds in the page: enough to outrun any kernel, few enough to keep the page small.
MAX_PRELOAD = 64


def check_preload(value) -> int:
    """``preload=``: how many records the page holds (the one on screen and the next ones), 1 to 64."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= MAX_PRELOAD:
        raise OptionError(f"preload must be a whole number of records from 1 to {MAX_PRELOAD} (default 8), got {value!r}.")
    return int(value)


def check_labels(labels) -> list[str]:
    if isinstance(labels, str) or labels is None:
        raise LabelError("labels= must be a list of at least two label names, e.g. labels=['bug', 'feature'].")
    names = [str(label) for label in labels]
    if len(names) > MAX_LABELS:
        raise LabelError(f"labels= has {len(names):,} names; a labeling card takes at most {MAX_LABELS:,}. Group them, "
                         "or label in stages (coarse labels first).")
    if len(names) < 2:
        raise LabelError(f"labels= needs at least two labels to choose from; got {names}.")
    if any(displayable(name) != name for name in names):
        raise LabelError("labels= contains a name with a lone surrogate (half an emoji?); fix the label's text.")
    if any(not name.strip() for name in names):
        raise LabelError("labels= contains an empty name; give every label a visible name.")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise LabelError(f"labels= lists {duplicates} more than once; each label must appear once.")
    return names


def check_label(label, labels: list[str]) -> str:
    """``label`` as one of ``labels`` (``1`` means ``"1"`` when the labels are numbers), else :class:`LabelError`."""
    if not isinstance(label, str) and str(label) in labels:
        return str(label)  # labels=[0, 1] are named "0" and "1"; label(key, 1) means "1"
    if label not in labels:
        raise LabelError(f"{label!r} is not one of the labels {labels}; pass one of them (labels are case-sensitive).")
    return label


def check_seed(random_state) -> int:
    """Every random choice is seeded: ``None`` means "a fresh seed", drawn once and kept."""
    if random_state is None:
        return int(np.random.SeedSequence().entropy % (2**31))
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)) or random_state < 0:
        raise OptionError(f"random_state must be a non-negative whole number or None, got {random_state!r}.")
    return int(random_state)


def login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


#: Characters a label's guideline may have (the key map shows it on one or two lines).
MAX_GUIDELINE_CHARS = 300


def check_guidelines(guidelines, labels: list[str]) -> dict[str, str]:
    """``guidelines`` as label -> text, checked: every name a label, every text short and not empty."""
    if guidelines is None:
        return {}
    if not isinstance(guidelines, dict):
        raise LabelError("guidelines= must be a dict of label -> one short sentence, e.g. "
                         f"{{{labels[0]!r}: 'the app breaks or loses data'}}.")
    checked = {}
    for label, text in guidelines.items():
        if str(label) not in labels:
            raise LabelError(f"guidelines= names {label!r}, which is not one of the labels {labels}.")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_GUIDELINE_CHARS:
            raise LabelError(f"The guideline for {label!r} must be text of 1 to {MAX_GUIDELINE_CHARS} characters; "
                             f"got {text!r:.60}.")
        checked[str(label)] = displayable(text.strip())
    return checked
