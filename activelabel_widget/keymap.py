"""Which key labels a record with which label: one table for the card's buttons, key map and keys.

Rules, in this order:

1. ``keys={"spam": "x"}`` from the user, checked: one key per label, a digit or a letter, never a
   key the card uses for a command (:data:`COMMAND_KEYS`), never the same key twice.
2. A label whose name is itself a free key (``"0"``..``"9"``, a single letter) gets that key, so a
   label ``"3"`` is saved by the key ``3``.
3. The other labels, in order, get the free digits ``1``..``9``, ``0``, then the free letters
   ``a``..``y``.
4. A label left over when every key is taken has none: it is labeled by clicking its button.

Letters are lower case and match either case on the card.

Examples
--------
>>> assign_keys(["bug", "feature"])
{'bug': '1', 'feature': '2'}
>>> assign_keys(["0", "1", "2"])
{'0': '0', '1': '1', '2': '2'}
>>> assign_keys(["ham", "spam"], keys={"spam": "x"})
{'ham': '1', 'spam': 'x'}
"""

from __future__ import annotations

import string

from .errors import LabelError

__all__ = ["COMMAND_KEYS", "LABEL_KEYS", "assign_keys"]

#: Keys the card uses for commands (js/keys.js COMMANDS): never a label's key.
COMMAND_KEYS = frozenset({"Enter", "s", "Delete", "z", "Backspace", "v", "r", "i", "?", "Escape"})

#: Keys a label may have, in the order labels without a key of their own get them.
LABEL_KEYS = tuple("1234567890") + tuple(c for c in string.ascii_lowercase if c not in COMMAND_KEYS)


def _as_key(value) -> str | None:
    """A key as the table writes it (letters in lower case), or None when it cannot be a label's key."""
    if not isinstance(value, str) or len(value) != 1:
        return None
    key = value.lower()
    return key if key in LABEL_KEYS else None


def assign_keys(labels, keys: dict | None = None, *, keep: dict | None = None) -> dict[str, str | None]:
    """Label name -> its key (None: no key left; click the button), by the rules in the module docstring.

    ``keep`` (a previous result) keeps the keys of the labels still there, so adding or removing a
    label mid-session never moves another label's key.

    Raises
    ------
    LabelError
        ``keys`` names a label not in ``labels``, gives a key that is not one digit or letter, a
        key the card uses for a command, or the same key to two labels.
    """
    labels = [str(label) for label in labels]
    chosen: dict[str, str] = {label: key for label, key in (keep or {}).items() if label in labels and key}
    if keys is not None:
        if not isinstance(keys, dict):
            raise LabelError(f"keys= must be a dict of label -> key, e.g. {{{labels[0]!r}: 'x'}}; got {type(keys).__name__}.")
        for label, value in keys.items():
            if label in chosen:
                continue  # kept from before
            if label not in labels:
                raise LabelError(f"keys= names {label!r}, which is not one of the labels {labels}; use the label's exact name.")
            key = _as_key(value)
            if key is None:
                why = ("the card uses it for a command" if isinstance(value, str) and value.lower() in
                       {k.lower() for k in COMMAND_KEYS} else "a label's key is one digit or one letter")
                raise LabelError(f"keys={{{label!r}: {value!r}}} cannot be used: {why}. Free keys: "
                                 f"{', '.join(LABEL_KEYS)} (the commands are {', '.join(sorted(COMMAND_KEYS))}).")
            clash = next((other for other, taken in chosen.items() if taken == key), None)
            if clash is not None:
                raise LabelError(f"keys= gives {key!r} to both {clash!r} and {label!r}; give each label its own key.")
            chosen[label] = key
    taken = set(chosen.values())
    for label in labels:  # a label named like a free key gets that key
        key = _as_key(label)
        if label not in chosen and key is not None and key not in taken:
            chosen[label] = key
            taken.add(key)
    free = iter(key for key in LABEL_KEYS if key not in taken)
    return {label: chosen[label] if label in chosen else next(free, None) for label in labels}
