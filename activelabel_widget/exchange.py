"""Labeled data in and out, in the formats other tools read: pure functions over DataFrames and files.

Export (:func:`write_labels`) takes the hand-off frame (``labeled``: the user's columns plus the
label columns) and writes one of :data:`FORMATS`:

- ``"parquet"``, ``"csv"``, ``"jsonl"``: one row per labeled record, ``key`` (the row's index
  value) first, then the record's columns and ``label``, ``labeled_at``, ``annotator``, ``source``,
  ``confidence``, ``previous_label``. Parquet needs pyarrow.
- ``"prodigy"``: Prodigy's choice tasks, one JSON object per line: ``text`` (or ``image`` as a
  data URI), ``options`` (every label as ``{"id", "text"}``), ``accept`` (the chosen label's id;
  every chosen id for a label set, as Prodigy's ``choice_style: multiple`` saves them),
  ``answer: "accept"``, ``_input_hash`` and ``_task_hash``, and ``meta`` (key, annotator,
  source).
- ``"label-studio"``: Label Studio's JSON export of annotated tasks: a list of
  ``{"id", "data", "annotations": [{"result": [{"from_name": "label", "to_name": ..., "type":
  "choices", "value": {"choices": [label]}}], ...}], "meta"}`` (a label set's names all in
  ``choices``, as a ``<Choices choice="multiple">`` control saves them; an empty set has no result).

Label sets (multi-label) are lists in Parquet, JSONL and Hugging Face, JSON list text in CSV.
- ``"huggingface"``: a ``datasets.Dataset`` (saved with ``save_to_disk`` when a path is given);
  needs the ``datasets`` package.

Import (:func:`read_labels_file`) reads any of the file formats back as ``key, label, annotator,
text, rejected`` rows and the records' values the file holds, so every export round-trips through
:meth:`ActiveLabeler.import_labels`, rejected records included, and a label whose record changed
since (:func:`same_record`) stays out.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .dataset import as_texts
from .errors import DataError
from .images import image_data_url

__all__ = ["FORMATS", "format_for", "write_labels", "read_labels_file", "same_record", "match_keys"]

FORMATS = ("parquet", "csv", "jsonl", "prodigy", "label-studio", "huggingface")

_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".json": "label-studio"}
#: Label Studio's names for the labeling config this export assumes: <Choices name="label" toName="text|image">.
LABEL_STUDIO_CONTROL = "label"


def format_for(path, format: str | None) -> str:
    """The format to write or read: ``format`` when given, else from the file's suffix."""
    if format is not None:
        if format not in FORMATS:
            raise DataError(f"format={format!r} is not an export format; use one of {list(FORMATS)}.")
        return format
    suffix = Path(str(path)).suffix.lower()
    if suffix not in _SUFFIXES:
        raise DataError(f"Cannot tell the format of {str(path)!r} from its suffix; pass format= one of {list(FORMATS)} "
                        "(.parquet, .csv and .jsonl are ours, .json is Label Studio's).")
    return _SUFFIXES[suffix]


def _plain(value):
    """A value JSON can hold: numpy scalars as Python ones, timestamps as ISO text, missing as None."""
    if value is None or (not isinstance(value, (list, dict, str, bytes)) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):  # a label set
        return [_plain(item) for item in value]
    return str(value)


def _chosen(value) -> list[str]:
    """The labels of a hand-off ``label`` cell: one name, or a label set's names (multi-label)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(name) for name in value]
    return [str(value)]


def _ours(columns, name: str) -> str:
    """The column that is ours among ``columns`` for ``name``: ``name``, or ``al_name`` (``al_al_name``...) when
    the data had a column of that name already (the hand-off frames never rename the user's columns).

    Of ``name``, ``al_name``, ... (as far as they go on), ours is the one written after the user's columns,
    or, for ``key`` (:func:`_flat` puts it first), before them: a user's own ``al_label`` beside our
    ``label`` is theirs, not ours.
    """
    names = [str(c) for c in columns]
    chain = []
    while (name if not chain else "al_" + chain[-1]) in names:
        chain.append(name if not chain else "al_" + chain[-1])
    if not chain:
        return name
    order = sorted(chain, key=names.index)
    return order[0] if name == "key" else order[-1]


def _flat(labeled: pd.DataFrame) -> pd.DataFrame:
    """The hand-off frame with the index as a ``key`` column first (``al_key`` when the data has a ``key``)."""
    frame = labeled.copy()
    key = "key"
    while key in frame.columns:
        key = "al_" + key
    frame.insert(0, key, frame.index)
    return frame.reset_index(drop=True)


def _json(value) -> str:
    """JSON text, readable as UTF-8: characters as they are, but a lone surrogate (which UTF-8 cannot
    hold) as its ``\\udcff`` escape, which JSON readers take back as the same character."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value)
    return text


def _arrow_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with lone surrogates in text cells as U+FFFD: Arrow (Parquet, datasets) refuses them."""
    from .dataset import displayable

    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == object:
            out[name] = pd.Series([displayable(v) if isinstance(v, str) else v for v in out[name]], index=out.index,
                                  dtype=object)
    return out


def _hash(*parts) -> int:
    """A stable signed 32-bit hash, as Prodigy's ``_input_hash`` / ``_task_hash`` are."""
    digest = hashlib.blake2b(json.dumps(parts, sort_keys=True, default=str).encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def write_labels(labeled: pd.DataFrame, path, *, format: str, labels: list[str], kind: str, content) -> object:
    """Write the hand-off frame ``labeled`` in ``format``; see the module docstring.

    ``content(key)`` gives what a task shows for a row: ``("text", str)`` or ``("image", bytes)``
    (PNG, or JPEG for a photograph; the exchange formats of Prodigy and Label Studio carry the
    record itself). Returns the path
    written, or the ``datasets.Dataset`` for ``"huggingface"``.
    """
    frame = _flat(labeled)
    key_column, label_column = _ours(frame.columns, "key"), _ours(frame.columns, "label")
    if format == "parquet":
        keys = frame[key_column]
        if keys.dtype == object and not all(isinstance(key, str) for key in keys):
            # Arrow holds one type a column: a MultiIndex's tuples or a mixed index go as their text,
            # which import matches as it matches a CSV's
            frame[key_column] = as_texts(keys)
        try:
            _arrow_safe(frame).to_parquet(path, index=False)
        except ImportError as error:
            raise DataError(f"Writing Parquet needs pyarrow: pip install pyarrow ({error}).") from error
        return path
    if format == "csv":
        lists = [name for name in frame.columns if frame[name].map(lambda v: isinstance(v, list)).any()]
        # label sets as JSON lists ('["sports", "money"]'), which any CSV reader can parse back
        frame = frame.assign(**{name: frame[name].map(lambda v: _json(v) if isinstance(v, list) else v) for name in lists})
        # lines end in CRLF (RFC 4180), so the writer quotes a cell holding a bare CR, which readers
        # take for a line end; a lone surrogate goes through with the handler it is read back with
        frame.to_csv(path, index=False, errors="surrogatepass", lineterminator="\r\n")
        return path
    if format == "jsonl":
        with open(path, "w", encoding="utf-8") as out:
            for row in frame.to_dict(orient="records"):
                out.write(_json({name: _plain(value) for name, value in row.items()}) + "\n")
        return path
    if format == "huggingface":
        try:
            import datasets
        except ImportError as error:
            raise DataError("Exporting a Hugging Face dataset needs the datasets package: pip install datasets.") from error
        plain = _arrow_safe(frame).assign(**{name: frame[name].map(_plain) for name in (key_column, _ours(frame.columns, "labeled_at"))
                                if name in frame})
        for name in plain.columns:
            if isinstance(plain[name].dtype, pd.CategoricalDtype):
                plain[name] = plain[name].astype(object)
        dataset = datasets.Dataset.from_pandas(plain, preserve_index=False)
        if path is not None:
            dataset.save_to_disk(str(path))
        return dataset
    options = [{"id": label, "text": label} for label in labels]
    tasks = []
    annotator, source, labeled_at, rejected = (_ours(frame.columns, name)
                                                for name in ("annotator", "source", "labeled_at", "rejected"))
    for number, row in enumerate(frame.to_dict(orient="records"), start=1):
        key = _plain(row[key_column])
        chosen = None if row.get(rejected) else _chosen(row[label_column])  # a rejected record has no label
        what, value = content(row[key_column])
        shown = image_data_url(value) if what == "image" else value
        meta = {"key": key, "annotator": _plain(row.get(annotator)), "source": _plain(row.get(source))}
        if format == "prodigy":  # a rejected record is Prodigy's "reject" answer
            task = {what: shown, "options": options, "accept": [] if chosen is None else chosen,
                    "answer": "reject" if chosen is None else "accept", "meta": meta,
                    "_input_hash": _hash(what, shown), "_task_hash": _hash(what, shown, [o["id"] for o in options])}
            tasks.append(task)
        else:
            tasks.append({"id": number, "data": {what: shown, "key": key}, "meta": meta, "annotations": [{
                "id": number, "was_cancelled": chosen is None, "ground_truth": False,  # a rejected record: cancelled
                "created_at": _plain(row.get(labeled_at)),
                "result": [] if not chosen else [{"from_name": LABEL_STUDIO_CONTROL, "to_name": what,
                                                  "type": "choices", "value": {"choices": chosen},
                                                  "origin": "manual"}],
            }]})
    with open(path, "w", encoding="utf-8") as out:
        if format == "prodigy":
            out.writelines(_json(task) + "\n" for task in tasks)
        else:
            out.write(_json(tasks))
    return path


def _label_studio_rows(tasks) -> list[dict]:
    rows = []
    for task in tasks if isinstance(tasks, list) else []:
        data = task.get("data") or {}
        meta = task.get("meta") or {}
        for annotation in task.get("annotations") or []:
            if annotation.get("was_cancelled"):  # a skipped (cancelled) task: the record was rejected
                rows.append({"key": data.get("key", meta.get("key")), "label": None,
                             "annotator": meta.get("annotator"), "text": data.get("text"), "rejected": True})
                continue
            choices = [region.get("value", {}).get("choices") for region in annotation.get("result") or []
                       if region.get("type") == "choices"]
            choices = [c for c in choices if c]
            if choices and len(choices[0]) == 1:
                rows.append({"key": data.get("key", meta.get("key")), "label": choices[0][0],
                             "annotator": meta.get("annotator"), "text": data.get("text"), "rejected": False})
    return rows


def read_labels_file(path, format: str | None = None, *, columns=()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labels from a file in one of :data:`FORMATS` (not ``"huggingface"``), and the records they were made on.

    Returns
    -------
    rows : DataFrame
        ``key, label, annotator, text, rejected`` (True for a rejected record: our ``rejected``
        column, Prodigy's "reject" answer, a cancelled Label Studio annotation; its label is
        missing). ``key`` is the row's index value as written (its text form is what is matched);
        ``text`` is what a task showed (Prodigy, Label Studio; None otherwise).
    record : DataFrame
        The values of ``columns`` (the data's record columns) as our flat files hold them, one
        column per name found in the file (named as in ``columns``), aligned with ``rows``; no
        columns for the task formats. With ``text``, to check each label is still on the record it
        was made on (:func:`same_record`).

    Raises :class:`DataError` for a file with no key or label it can read.
    """
    format = format_for(path, format)
    if format in ("parquet", "csv", "jsonl"):
        if format == "parquet":
            try:
                frame = pd.read_parquet(path)
            except ImportError as error:
                raise DataError(f"Reading Parquet needs pyarrow: pip install pyarrow ({error}).") from error
        elif format == "csv":
            frame = pd.read_csv(path, dtype=object, keep_default_na=False, encoding_errors="surrogatepass")
            # an empty cell is missing, except a key: the index value "" stays "" (as NaN it would read "nan")
            kept = _ours(frame.columns, "key")
            frame = frame.apply(lambda column: column if column.name == kept else column.replace("", None))
        else:
            with open(path, encoding="utf-8") as source:  # object columns: a lone surrogate stays as read
                frame = pd.DataFrame([json.loads(line) for line in source if line.strip()], dtype=object)
        key, label, annotator, rejected = (_ours(frame.columns, name) for name in ("key", "label", "annotator",
                                                                                   "rejected"))
        if key not in frame or label not in frame:
            raise DataError(f"{path} has no 'key' and 'label' columns: it was not written by export(); pass "
                            "initial_labels= a column of your DataFrame instead.")
        out = pd.DataFrame({"key": frame[key], "label": frame[label],
                            "annotator": frame[annotator] if annotator in frame else None, "text": None})
        out["rejected"] = (frame[rejected].map(lambda v: v is True or str(v).lower() == "true").astype(bool)
                           if rejected in frame else False)
        written = {str(name): name for name in frame.columns}  # a CSV names a column 0 as "0"
        record = pd.DataFrame({name: pd.Series(frame[written[str(name)]].to_numpy(dtype=object), index=out.index,
                                               dtype=object)  # object: an Arrow string refuses a lone surrogate
                               for name in columns if str(name) in written}, index=out.index)
        return out, record
    with open(path, encoding="utf-8") as source:
        if format == "prodigy":
            tasks = [json.loads(line) for line in source if line.strip()]
            # an accepted single choice is a label, a "reject" answer a rejected record
            rows = [{"key": (t.get("meta") or {}).get("key"),
                     "label": None if t.get("answer") == "reject" else t["accept"][0],
                     "annotator": (t.get("meta") or {}).get("annotator"), "text": t.get("text"),
                     "rejected": t.get("answer") == "reject"}
                    for t in tasks if t.get("answer") == "reject"
                    or (t.get("answer") == "accept" and len(t.get("accept") or []) == 1)]
        elif format == "label-studio":
            rows = _label_studio_rows(json.load(source))
        else:
            raise DataError(f"format={format!r} cannot be read back from a file; read it with the datasets package.")
    out = pd.DataFrame(rows, columns=["key", "label", "annotator", "text", "rejected"], dtype=object)
    out["rejected"] = out["rejected"].fillna(False).astype(bool)
    return out, pd.DataFrame(index=out.index)


def _text_of(value) -> str:
    """A cell's text as Arrow keeps it (a lone surrogate as U+FFFD: Parquet cannot hold one); "" for a missing
    one, as a CSV cannot tell an empty text from none."""
    from .dataset import displayable

    return "" if value is None or (np.ndim(value) == 0 and pd.isna(value)) else displayable(str(value))


def same_record(record: pd.DataFrame, data: pd.DataFrame) -> np.ndarray:
    """Whether each row of ``record`` (values as a file holds them: text in a CSV, JSON numbers, typed
    Parquet) holds the same values as the row of ``data`` beside it, column by column.

    Values compare as the record hashes do (:meth:`Dataset.record_hashes`): numbers to float32
    precision (``1`` and ``"1.0"`` alike), times as instants, anything else as text; missing
    matches missing.

    >>> same_record(pd.DataFrame({"n": ["1.0", "2"], "c": ["FR", "DE"]}),
    ...             pd.DataFrame({"n": [1, 3], "c": ["FR", "DE"]})).tolist()
    [True, False]
    """
    same = np.ones(len(record), dtype=bool)
    for name in record.columns:
        given, now = pd.Series(record[name].to_numpy(), dtype=object), data[name].reset_index(drop=True)
        missing = given.isna().to_numpy() & now.isna().to_numpy()
        if pd.api.types.is_bool_dtype(now.dtype):
            equal = as_texts(given).astype(str) == as_texts(now).astype(str)
        elif pd.api.types.is_numeric_dtype(now.dtype):
            equal = (pd.to_numeric(given, errors="coerce").to_numpy(dtype=np.float64).astype(np.float32)
                     == now.to_numpy(dtype=np.float64, na_value=np.nan).astype(np.float32))
        elif pd.api.types.is_datetime64_any_dtype(now.dtype):
            times = pd.to_datetime(given, errors="coerce", utc=True, format="mixed")
            equal = (times == pd.to_datetime(now, utc=True)).to_numpy()
        else:
            # most rows are the same objects' equal values: compare those at once, the rest as text
            equal = np.asarray(given.to_numpy(dtype=object) == now.to_numpy(dtype=object), dtype=bool)
            for i in np.flatnonzero(~equal):
                equal[i] = _text_of(given.iat[i]) == _text_of(now.iat[i])
        same &= np.asarray(equal, dtype=bool) | missing
    return same


def _as_arrow_keeps(texts: np.ndarray) -> np.ndarray:
    """``texts`` with lone surrogates as U+FFFD, as a Parquet file gives them back (a key that differs from
    another only there then matches neither: the two read as one key twice)."""
    from ._keys import _encodable
    from .dataset import displayable

    if _encodable("".join(texts)):
        return texts
    return np.array([displayable(t) for t in texts], dtype=object)


def match_keys(keys, index: pd.Index) -> np.ndarray:
    """Positions in ``index`` of each key, by its text form (so a CSV's "42" finds the row 42), or for a
    time index by the instant it names (a CSV writes "2024-01-05", JSON "2024-01-05T00:00:00"); -1 where
    none or where two rows share the key."""
    keys = [tuple(key) if isinstance(key, list) else key for key in keys]  # JSON gives a MultiIndex key as a list
    if isinstance(index, pd.DatetimeIndex):
        times = pd.to_datetime(pd.Series(keys, dtype=object), errors="coerce", utc=index.tz is not None, format="mixed")
        if index.tz is not None:
            times = times.dt.tz_convert(index.tz)
        positions = np.full(len(keys), -1, dtype=np.int64)
        unique = ~index.duplicated(keep=False)
        lookup = pd.Series(np.flatnonzero(unique), index=index[unique])
        given = times.notna().to_numpy()
        positions[given] = lookup.reindex(pd.DatetimeIndex(times[given])).fillna(-1).to_numpy(dtype=np.int64)
        return positions
    text = pd.Index(_as_arrow_keeps(as_texts(index)), dtype=object)
    unique = ~text.duplicated(keep=False)
    lookup = pd.Series(np.flatnonzero(unique), index=text[unique])
    found = lookup.reindex(pd.Index(_as_arrow_keeps(as_texts(keys)), dtype=object))
    return found.fillna(-1).to_numpy(dtype=np.int64)
