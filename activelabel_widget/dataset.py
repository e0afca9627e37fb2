"""Validate the user's DataFrame and turn one row into a card payload.

The DataFrame is never copied: a :class:`Dataset` keeps a reference, the encoded keys and the
names of the columns it shows. Everything a card needs is built for one row at a time.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import math
import os
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._keys import encode_index
from .errors import DataError

__all__ = ["Dataset", "CardPayload", "MAX_TEXT_CHARS"]

#: Text longer than this is cut before it crosses the wire; the card says so.
MAX_TEXT_CHARS = 100_000
#: Longest side of an image sent to the card; larger images are scaled down.
MAX_IMAGE_SIDE = 512
#: Tiny images (e.g. 8x8 digits) are scaled up to at least this side, without smoothing.
MIN_IMAGE_SIDE = 160
_MAX_CELL_CHARS = 500
#: Columns that ``labeled`` and ``to_frame()`` add; a DataFrame must not have them already.
RESERVED_COLUMNS = ("label", "labeled_at", "annotator", "source", "confidence", "prediction",
                    "prediction_confidence", "weak_label", "weak_confidence")


@dataclass(frozen=True)
class CardPayload:
    """What the card needs to show one record (no decisions about what comes next)."""

    kind: str
    text: str = ""
    fields: list = field(default_factory=list)
    image: bytes = b""
    image_error: str = ""


def _column_error(name: str, columns, role: str) -> DataError:
    names = [str(c) for c in columns]
    close = difflib.get_close_matches(str(name), names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    shown = ", ".join(repr(c) for c in names[:20]) + (" ..." if len(names) > 20 else "")
    return DataError(f"{role}={name!r} is not a column of the DataFrame.{hint} Columns: {shown}.")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def displayable(text: str) -> str:
    """``text`` with lone surrogates (half an emoji, bytes decoded with surrogateescape) replaced
    by U+FFFD: they cannot be encoded for the front end and would stop the card from updating."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def _format_cell(value) -> str:
    if value is None or value is pd.NaT:
        return "(missing)"
    if isinstance(value, float) and math.isnan(value):
        return "(missing)"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    text = displayable(str(value))
    if len(text) > _MAX_CELL_CHARS:
        text = text[:_MAX_CELL_CHARS] + f"… ({len(text):,} characters)"
    return text


def _is_missing(value) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value)) if np.ndim(value) == 0 else False
    except (TypeError, ValueError):
        return False


def _image_to_png(value) -> bytes:
    """Read an image given as an array, a PIL image or a file path and return PNG bytes.

    Raises ``ValueError``/``OSError`` when it cannot be read; the caller shows a placeholder.
    """
    from PIL import Image

    if isinstance(value, (str, os.PathLike)):
        with Image.open(value) as opened:
            image = opened.convert("RGBA") if opened.mode not in ("RGB", "RGBA", "L") else opened.copy()
    elif isinstance(value, Image.Image):
        image = value.copy()
    else:
        array = np.asarray(value)
        if array.ndim == 1:
            side = int(round(math.sqrt(array.size)))
            if side * side != array.size:
                raise ValueError(f"a flat image of {array.size} values is not square; pass (height, width) arrays")
            array = array.reshape(side, side)
        if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
            raise ValueError(f"an image array must be (H, W), (H, W, 3) or (H, W, 4); got shape {array.shape}")
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        if array.dtype != np.uint8:
            array = array.astype(np.float64)
            finite = array[np.isfinite(array)]
            # Scale to the data's own range, keeping 0 as black: [0, 1] floats, 0..16 digit
            # counts and 0..255 floats all come out as the user would expect.
            low = min(0.0, float(finite.min())) if finite.size else 0.0
            high = max(1.0, float(finite.max())) if finite.size else 1.0
            scale = (high - low) or 1.0
            array = np.nan_to_num((array - low) / scale, nan=0.0).clip(0, 1) * 255
            array = array.astype(np.uint8)
        image = Image.fromarray(array)
    longest = max(image.size)
    if longest > MAX_IMAGE_SIDE:
        image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
    elif longest < MIN_IMAGE_SIDE:
        factor = math.ceil(MIN_IMAGE_SIDE / max(longest, 1))
        image = image.resize((image.size[0] * factor, image.size[1] * factor), Image.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class Dataset:
    """A validated view of the DataFrame to label.

    Parameters
    ----------
    df : pandas.DataFrame
        The records. Its index is the row identity and must be unique.
    text, image : str, optional
        The column holding the text, or the images (arrays, PIL images or file paths).
        At most one of them; with neither, the card shows table rows.
    features : list of str, optional
        For table rows: the columns shown and used by the default model (default: all).
    show : list of str, optional
        Extra columns shown small under a text or image record.

    Raises
    ------
    DataError
        With a message that says what to change.
    """

    def __init__(self, df, *, text=None, image=None, features=None, show=None):
        if not isinstance(df, pd.DataFrame):
            raise DataError(
                f"Expected a pandas DataFrame of records, got {type(df).__name__}. "
                "Wrap your data with pandas.DataFrame(...) first."
            )
        if len(df) == 0:
            raise DataError("The DataFrame has no rows: pass a DataFrame with at least one record to label.")
        if not df.index.is_unique:
            duplicated = df.index[df.index.duplicated()].unique()[:5].tolist()
            raise DataError(
                f"The DataFrame index has duplicate keys (e.g. {duplicated}). Each row's index is its "
                "identity for saving labels: use df.reset_index(drop=True), or df.set_index('<unique id "
                "column>') if you have one."
            )
        missing_keys = df.index.to_frame().isna().any(axis=1).to_numpy() if isinstance(df.index, pd.MultiIndex) \
            else np.asarray(pd.isna(df.index))
        if missing_keys.any():
            raise DataError(
                f"The DataFrame index has {int(missing_keys.sum())} missing key(s) (None/NaN/NaT). Each row's index "
                "is its identity for saving labels: use df.reset_index(drop=True), or fill the missing keys."
            )
        clashes = [name for name in RESERVED_COLUMNS if name in df.columns]
        if clashes:
            raise DataError(
                f"The DataFrame already has column(s) {clashes}, which the labeled frames add. Rename them first, "
                f"e.g. df = df.rename(columns={{{clashes[0]!r}: {clashes[0] + '_original'!r}}})."
            )
        if text is not None and image is not None:
            raise DataError("Pass either text= or image=, not both; use show=[...] to display other columns.")
        if df.columns.has_duplicates:
            raise DataError("The DataFrame has duplicate column names; rename them so each column is unique.")
        for role, name in (("text", text), ("image", image)):
            if name is not None and name not in df.columns:
                raise _column_error(name, df.columns, role)
        for role, names in (("features", features), ("show", show)):
            for name in names or ():
                if name not in df.columns:
                    raise _column_error(name, df.columns, role)

        self.df = df
        self.text_column = text
        self.image_column = image
        self.kind = "text" if text is not None else "image" if image is not None else "table"
        if self.kind == "table":
            self.feature_columns = list(features) if features is not None else list(df.columns)
            if not self.feature_columns:
                raise DataError("The DataFrame has no columns to show: pass text=, image= or features=[...].")
        else:
            self.feature_columns = list(features) if features is not None else []
        self.show_columns = list(show or [])
        if self.kind == "text":
            self._check_text(df[text])
        self._fingerprint: tuple[str, str] | None = None
        self.keys = encode_index(df.index)
        self.position_of = {key: position for position, key in enumerate(self.keys)}

    def _check_text(self, column: pd.Series) -> None:
        missing = column.isna()
        if missing.any():
            examples = column.index[missing][:5].tolist()
            raise DataError(
                f"text column {self.text_column!r} has {int(missing.sum())} missing value(s) (rows {examples}). "
                f"Drop them with df.dropna(subset=[{self.text_column!r}]) or fill them with "
                f"df[{self.text_column!r}].fillna('')."
            )
        categorical_text = isinstance(column.dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(
            column.dtype.categories.dtype) or (isinstance(column.dtype, pd.CategoricalDtype)
                                               and column.dtype.categories.dtype == object)
        if not (pd.api.types.is_string_dtype(column.dtype) or column.dtype == object or categorical_text):
            raise DataError(
                f"text column {self.text_column!r} has dtype {column.dtype}, not text. Pass the column that "
                f"holds the text, or convert it with df[{self.text_column!r}].astype(str)."
            )

    def __len__(self) -> int:
        return len(self.keys)

    def index_value(self, position: int):
        """The user's index value of the row at ``position``."""
        return self.df.index[position]

    def key_label(self, position: int) -> str:
        """The row's index as the user knows it, for display."""
        return _format_cell(self.df.index[position])

    def payload(self, position: int) -> CardPayload:
        """Everything the card shows for the row at ``position`` (untrusted text stays text)."""
        row = self.df.iloc[position]
        extra = [[displayable(str(name)), _format_cell(row[name])] for name in self.show_columns]
        if self.kind == "text":
            text = displayable(str(row[self.text_column]))
            if len(text) > MAX_TEXT_CHARS:
                text = text[:MAX_TEXT_CHARS] + f"\n\n[text cut: {len(text):,} characters, showing the first {MAX_TEXT_CHARS:,}]"
            return CardPayload(kind="text", text=text, fields=extra)
        if self.kind == "image":
            value = row[self.image_column]
            if _is_missing(value):
                return CardPayload(kind="image", fields=extra, image_error="no image in this row")
            try:
                return CardPayload(kind="image", fields=extra, image=_image_to_png(value))
            except (OSError, ValueError, TypeError) as error:
                return CardPayload(kind="image", fields=extra, image_error=f"could not read the image: {error}")
        cells = [[displayable(str(name)), _format_cell(row[name])] for name in self.feature_columns]
        return CardPayload(kind="table", fields=cells + extra)

    def fingerprint(self) -> tuple[str, str]:
        """Hashes of the row keys and of the shown content, to refuse a store made from other data.

        Computed once (it reads every shown value) and kept: the DataFrame is not expected to
        change under a labeler.
        """
        if self._fingerprint is None:
            self._fingerprint = self._compute_fingerprint()
        return self._fingerprint

    def _compute_fingerprint(self) -> tuple[str, str]:
        keys_hash = hashlib.sha256("\x1f".join(self.keys).encode("utf-8", "surrogatepass")).hexdigest()
        content = hashlib.sha256()
        columns = [c for c in (self.text_column, self.image_column) if c is not None] + self.feature_columns
        for name in columns:
            column = self.df[name]
            content.update(str(name).encode())
            if column.dtype == object or _has_lone_surrogates(column):
                # arrays, images, sets...: pandas would hash str(value), which for a set depends on
                # the interpreter's hash seed; digest a canonical form of each value instead
                hashed = np.array([_value_digest(v) for v in column], dtype=np.uint64)
            else:
                hashed = pd.util.hash_pandas_object(column, index=False, categorize=False).to_numpy()
            content.update(hashed.tobytes())
        return keys_hash, content.hexdigest()


def _has_lone_surrogates(column: pd.Series) -> bool:
    """Whether a string column holds text that cannot be encoded as UTF-8 (pandas' hash fails)."""
    if not pd.api.types.is_string_dtype(column.dtype):
        return False
    try:
        "".join(column.dropna().astype(str)).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _canonical(value) -> str:
    """A text form of a value that is the same in every process (sets are sorted)."""
    if isinstance(value, (set, frozenset)):
        return type(value).__name__ + "{" + ", ".join(sorted(_canonical(v) for v in value)) + "}"
    if isinstance(value, (list, tuple)):
        return type(value).__name__ + "[" + ", ".join(_canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        return "dict{" + ", ".join(sorted(f"{_canonical(k)}: {_canonical(v)}" for k, v in value.items())) + "}"
    return repr(value)


def _value_digest(value) -> int:
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value).tobytes() + str(value.shape).encode() + str(value.dtype).encode()
    else:
        data = _canonical(value).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")
