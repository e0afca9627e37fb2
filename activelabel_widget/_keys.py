"""Row keys as stable strings.

The DataFrame index is the row identity. The store and the card need a text form of each key
that is injective (two keys never share a text), stable across processes and readable. Keys are
tagged with their type so that ``1``, ``1.0`` and ``"1"`` stay distinct.
"""

from __future__ import annotations

import datetime as _dt
import json
import math

import numpy as np
import pandas as pd

__all__ = ["encode_key", "encode_index", "key_text"]


def _plain(value):
    """Turn one index value into a JSON-able, type-tagged structure."""
    if isinstance(value, tuple):
        return ["tuple", [_plain(v) for v in value]]
    if isinstance(value, (bool, np.bool_)):
        return ["b", bool(value)]
    if isinstance(value, (int, np.integer)):
        return ["i", int(value)]
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return ["f", repr(f) if math.isfinite(f) else str(f)]
    if isinstance(value, str):
        return ["s", value]
    if isinstance(value, pd.Timestamp):
        return ["ts", value.isoformat()]
    if isinstance(value, (_dt.datetime, _dt.date)):
        return ["dt", value.isoformat()]
    if isinstance(value, pd.Timedelta):
        return ["td", value.value]
    if value is None or value is pd.NaT:
        return ["none", None]
    return [type(value).__name__, str(value)]


def encode_key(value) -> str:
    """Encode one index value as a stable, type-tagged string.

    Examples
    --------
    >>> encode_key(42), encode_key("42"), encode_key((1, "a"))
    ('i:42', 's:42', 'j:["tuple", [["i", 1], ["s", "a"]]]')
    """
    tag, payload = _plain(value)
    if tag == "s" and not _encodable(payload):
        # lone surrogates (e.g. file names read with errors="surrogateescape") cannot be stored
        # as UTF-8 text: keep them as the hex of their surrogate-passing bytes, under their own tag
        return "x:" + payload.encode("utf-8", "surrogatepass").hex()
    if tag in ("i", "s"):
        return f"{tag}:{payload}"
    return "j:" + json.dumps([tag, payload], ensure_ascii=True)


def key_text(key: str) -> str:
    """A store key as a message shows it: ``'i:9'`` as ``9``, ``'s:abc'`` as ``'abc'``, others as stored.

    >>> key_text("i:9"), key_text("s:abc"), key_text('j:["f", "1.5"]')
    ('9', "'abc'", 'j:["f", "1.5"]')
    """
    if key.startswith("i:"):
        return key[2:]
    if key.startswith("s:"):
        return repr(key[2:])
    return key


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def encode_index(index: pd.Index) -> list[str]:
    """Encode every value of ``index``; fast paths for integer and string indexes."""
    if pd.api.types.is_integer_dtype(index.dtype) and not isinstance(index, pd.MultiIndex):
        # str() of the values as they are: a cast to int64 would wrap uint64 keys above 2**63
        return ["i:" + s for s in index.astype(str)]
    if (pd.api.types.is_string_dtype(index.dtype) or index.dtype == object) and not isinstance(
        index, pd.MultiIndex
    ):
        values = list(index)
        if all(isinstance(v, str) for v in values) and _encodable("".join(values)):
            return ["s:" + v for v in values]
    return [encode_key(v) for v in index]
