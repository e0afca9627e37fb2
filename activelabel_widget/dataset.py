"""Validate the user's DataFrame and turn one row into a card payload.

The DataFrame is never copied: a :class:`Dataset` keeps a reference, the encoded keys and the
names of the columns it shows. Everything a card needs is built for one row at a time.
"""

from __future__ import annotations

import difflib
import io
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._keys import encode_index
from .errors import DataError
from .images import MAX_DECODED_PIXELS, ImageTooLarge, UnreadableImage, read_image

__all__ = ["Dataset", "CardPayload", "MAX_TEXT_CHARS"]

#: Text longer than this is cut before it crosses the wire; the card says so.
MAX_TEXT_CHARS = 100_000
#: Longest side of an image sent to the card; larger images are scaled down.
MAX_IMAGE_SIDE = 512
#: Tiny images (e.g. 8x8 digits) are scaled up to at least this side, without smoothing.
MIN_IMAGE_SIDE = 160
_MAX_CELL_CHARS = 500
#: Shown instead of a cell (or the text) whose value cannot be turned into text.
UNSHOWABLE = "(cannot be shown)"
_MAX_PROBLEM_CHARS = 300


@dataclass(frozen=True)
class CardPayload:
    """What the card needs to show one record (no decisions about what comes next).

    A record that cannot be shown in full still gives a card: what could not be formatted is
    replaced by a placeholder and ``problem`` says why, in words for the user.
    """

    kind: str
    text: str = ""
    fields: list = field(default_factory=list)
    image: bytes = b""  # PNG, or JPEG for a colour photograph (see _card_image_bytes)
    #: Why part of the record is not shown, for the user: no image in the row, an unreadable or
    #: too large image, text or cells that cannot be turned into text; "" when all of it is shown.
    problem: str = ""


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


def as_texts(values) -> np.ndarray:
    """Each value's text as a numpy object array of Python strings. Not ``astype(str)``: with pyarrow
    installed pandas makes that an Arrow string array, which refuses a lone surrogate (file names read
    with ``errors="surrogateescape"``, half an emoji) that a Python string holds."""
    return np.array([v if isinstance(v, str) else str(v) for v in values], dtype=object)


def _format_cell(value) -> str:
    if _is_missing(value):
        return "(missing)"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    text = displayable(str(value))
    if len(text) > _MAX_CELL_CHARS:
        text = text[:_MAX_CELL_CHARS] + f"… ({len(text):,} characters)"
    return text


def _describe(error: BaseException) -> str:
    """``"ValueError: message"``, short and displayable, even when the message itself fails."""
    try:
        detail = str(error)
    except Exception:  # the user's exception can fail as its value did; its type is still known
        detail = ""
    text = displayable(f"{type(error).__name__}: {detail}" if detail else type(error).__name__)
    return text if len(text) <= _MAX_PROBLEM_CHARS else text[:_MAX_PROBLEM_CHARS] + "…"


def _name_text(name) -> str:
    try:
        return displayable(str(name))
    except Exception:  # a column name is any hashable the user chose; its __str__ may fail
        return UNSHOWABLE


def _image_problem(error: UnreadableImage) -> str:
    if isinstance(error, ImageTooLarge):
        size = f"{error.pixels:,} pixels" if error.pixels is not None else error.size_text()
        return f"the image is too large to show ({size}; the limit is {error.limit:,})"
    return displayable(f"could not read the image: {error}")[:_MAX_PROBLEM_CHARS]


def _is_missing(value) -> bool:
    """Whether a cell is None, NaN, NA or NaT (arrays, lists and other objects are values)."""
    # is_scalar looks at the type only, so a user's object is never asked anything here
    return value is None or value is pd.NaT or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


#: A colour image with more colours than this is a photograph: the card gets it as JPEG.
PHOTO_COLOURS = 256
#: JPEG quality of photographs on the card: no artefact a labeler can see at 512 px.
PHOTO_QUALITY = 90


def _card_image_bytes(value) -> bytes:
    """The card's image bytes of an image value: large images scaled down, tiny ones scaled up.

    PNG, lossless, for grey images, images that are partly transparent and those of few colours
    (digits, scans, diagrams, screenshots), which PNG keeps small. A colour photograph (more than
    :data:`PHOTO_COLOURS` colours, nothing transparent) is JPEG at :data:`PHOTO_QUALITY`: PNG cannot
    compress its noise, so at 512 px it is about 0.5 MB and 50 ms to encode against JPEG's 85 KB
    and 1-2 ms, on every record the card shows (``benchmarks/answer_speed.py --kind photos``).

    Raises :class:`~activelabel_widget.images.UnreadableImage` (or its ``ImageTooLarge``) when
    the value cannot be read; the caller shows a placeholder.
    """
    from PIL import Image

    image = read_image(value, at_least=MAX_IMAGE_SIDE)
    longest = max(image.size)
    if longest > MAX_IMAGE_SIDE:
        image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
    elif longest < MIN_IMAGE_SIDE:
        factor = math.ceil(MIN_IMAGE_SIDE / max(longest, 1))
        image = image.resize((image.size[0] * factor, image.size[1] * factor), Image.NEAREST)
    if image.mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")  # an alpha channel that hides nothing (photographs saved as PNG often carry one)
    buffer = io.BytesIO()
    if image.mode == "RGB" and image.getcolors(PHOTO_COLOURS) is None:
        image.save(buffer, format="JPEG", quality=PHOTO_QUALITY)
    else:
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
        self._record_hashes: np.ndarray | None = None
        self._shown_hashes: np.ndarray | None = None
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

    def position(self, key) -> int:
        """The row number of index value ``key``; :class:`LabelError` when it is not a row's index value."""
        from .errors import LabelError

        try:
            position = self.df.index.get_loc(key)
        except (KeyError, TypeError, pd.errors.InvalidIndexError):
            position = None
        if not isinstance(position, (int, np.integer)):
            raise LabelError(f"Row {key!r} is not in the DataFrame's index; pass the index value of a row "
                             "(e.g. session.current).")
        return int(position)

    def index_value(self, position: int):
        """The user's index value of the row at ``position``."""
        return self.df.index[position]

    def key_label(self, position: int) -> str:
        """The row's index as the user knows it, for display."""
        try:
            return _format_cell(self.df.index[position])
        except Exception:  # an index value is any object; the card still shows the record
            return UNSHOWABLE

    def cell(self, position: int, name):
        """The value of column ``name`` in the row at ``position``, as stored (no dtype mixing)."""
        location = self.df.columns.get_loc(name)
        if isinstance(location, (int, np.integer)):
            return self.df.iat[position, location]
        return self.df.iloc[position][name]

    def payload(self, position: int) -> CardPayload:
        """Everything the card shows for the row at ``position`` (untrusted text stays text).

        Never fails because of the record's values: a cell, text or image that cannot be shown
        is replaced by a placeholder and :attr:`CardPayload.problem` says why.
        """
        if not -len(self) <= position < len(self):
            raise IndexError(f"position {position} is outside the {len(self)} rows")
        problems: list[str] = []
        extra = self._fields(position, self.show_columns, problems)
        if self.kind == "text":
            text = self._text(position, problems)
            return CardPayload(kind="text", text=text, fields=extra, problem="; ".join(problems))
        if self.kind == "image":
            image, image_problem = self._image(position)
            problems[:0] = [image_problem] if image_problem else []
            return CardPayload(kind="image", fields=extra, image=image, problem="; ".join(problems))
        cells = self._fields(position, self.feature_columns, problems)
        return CardPayload(kind="table", fields=cells + extra, problem="; ".join(problems))

    def snippet(self, position: int, width: int = 80) -> str:
        """One line that recalls the record (its text's start, or its first fields), at most ``width``
        characters: for the card's list of recent answers. Never fails on the record's values."""
        problems: list[str] = []
        if self.kind == "text":
            text = self._text(position, problems)
        else:
            names = self.feature_columns if self.kind == "table" else self.show_columns
            text = ", ".join(f"{name}={value}" for name, value in self._fields(position, names[:4], problems))
            if self.kind == "image":
                text = f"image · {text}" if text else "image"
        text = " ".join(text[: 4 * width].split())
        return text if len(text) <= width else text[: width - 1].rstrip() + "…"

    def _fields(self, position: int, names, problems: list[str]) -> list[list[str]]:
        fields = []
        for name in names:
            try:
                shown = _format_cell(self.cell(position, name))
            except Exception as error:  # a user's __str__ can raise anything; the card must still come
                shown = UNSHOWABLE
                problems.append(f"the column {_name_text(name)!r} cannot be shown: {_describe(error)}")
            fields.append([_name_text(name), shown])
        return fields

    def _text(self, position: int, problems: list[str]) -> str:
        try:
            text = displayable(str(self.cell(position, self.text_column)))
        except Exception as error:  # a user's __str__ can raise anything; the card must still come
            problems.append(f"this record's text cannot be shown: {_describe(error)}")
            return UNSHOWABLE
        if len(text) > MAX_TEXT_CHARS:
            text = text[:MAX_TEXT_CHARS] + f"\n\n[text cut: {len(text):,} characters, showing the first {MAX_TEXT_CHARS:,}]"
        return text

    def _image(self, position: int) -> tuple[bytes, str]:
        """PNG bytes of the row's image, or ``b""`` and why not."""
        try:
            value = self.cell(position, self.image_column)
            if _is_missing(value):
                return b"", "no image in this row"
            return _card_image_bytes(value), ""
        except UnreadableImage as error:
            return b"", _image_problem(error)
        except Exception as error:  # the value itself misbehaved (e.g. a raising __array__)
            return b"", f"could not read the image: {_describe(error)}"

    def content_columns(self, *, shown: bool = False) -> list:
        """The columns of the record the user labels (text, image, features), ordered by name; with
        ``shown``, the ``show=`` columns beside it too."""
        used = [c for c in (self.text_column, self.image_column) if c is not None]
        used += [c for c in self.feature_columns + (self.show_columns if shown else []) if c not in used]
        return sorted(used, key=lambda name: (_name_text(name), type(name).__name__))

    def record_hashes(self) -> np.ndarray:
        """One 64-bit hash per row of the record the user labels, shape (n,), dtype uint64.

        Computed from the values, not from how they were read: the same records give the same
        hashes whether text is ``object`` or a string dtype, floats ``float32`` or ``float64``
        (floats count to float32 precision), integers ``1`` or ``1.0``, whatever the order of
        the columns or of the rows. Missing values (None, NaN, NA, NaT) hash alike. Image arrays
        hash their pixels as float32 with their shape; image paths hash as their text. The row
        keys are not part of it (see :attr:`keys`), nor are the ``show=`` columns: context shown
        beside the record, which can be added, dropped or edited without taking a label off.

        Computed once and kept, read-only: the DataFrame is not expected to change under a
        labeler.

        Examples
        --------
        >>> a = Dataset(pd.DataFrame({"body": ["x", "y"], "n": [1, 2]}), features=["body", "n"])
        >>> b = Dataset(pd.DataFrame({"n": [2.0, 1.0], "body": ["y", "x"]}), features=["n", "body"])
        >>> bool((a.record_hashes() == b.record_hashes()[::-1]).all())
        True
        """
        if self._record_hashes is None:
            self._record_hashes = self._hashes(self.content_columns())
        return self._record_hashes

    def shown_hashes(self) -> np.ndarray | None:
        """The hashes as labels made before the ``show=`` columns left the record carry them: of the
        record and the shown columns together; None without ``show=`` columns (the same as
        :meth:`record_hashes`). Computed on first use and kept."""
        if not self.show_columns:
            return None
        if self._shown_hashes is None:
            self._shown_hashes = self._hashes(self.content_columns(shown=True))
        return self._shown_hashes

    def content_matches(self, content: int | None, position: int) -> bool:
        """Whether a label's stored content hash (None: made before hashes were kept) is the row's
        record as it is now (either hash of it: :meth:`record_hashes`, :meth:`shown_hashes`)."""
        if content is None or content == int(self.record_hashes()[position]):
            return True
        shown = self.shown_hashes()
        return shown is not None and content == int(shown[position])

    def _hashes(self, columns: list) -> np.ndarray:
        hashes = _combine_columns([_column_hashes(self.df[name]) for name in columns],
                                  [_name_text(name) for name in columns], len(self.df))
        hashes.flags.writeable = False
        return hashes


def _canonical(value) -> str:
    """A text form of a value that is the same in every process (sets are sorted)."""
    if isinstance(value, (set, frozenset)):
        return type(value).__name__ + "{" + ", ".join(sorted(_canonical(v) for v in value)) + "}"
    if isinstance(value, (list, tuple)):
        return type(value).__name__ + "[" + ", ".join(_canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        return "dict{" + ", ".join(sorted(f"{_canonical(k)}: {_canonical(v)}" for k, v in value.items())) + "}"
    return repr(value)


# -- per-record content hashes ---------------------------------------------------------------------
# Each column is brought to one canonical form per kind of value before pandas hashes it
# (SipHash with a fixed key, so the same in every process): text as UTF-8, numbers as float64
# (integers exactly, other floats rounded to float32), times as seconds plus nanoseconds.
_MISSING_HASH = np.uint64(0x9E3779B97F4A7C15)
_EXACT_INTEGER_TAG = np.uint64(0x5851F42D4C957F2D)
_TOKEN_PREFIX = b"\x00"  # marks the text form of a non-text value, so it cannot pass for a string


def _combine_columns(column_hashes: list[np.ndarray], names: list[str], n: int) -> np.ndarray:
    """Row hashes from column hashes, each tied to its column's name (the tuple-hash scheme)."""
    combined = np.full(n, 0x345678, dtype=np.uint64)
    multiplier = np.uint64(1_000_003)
    name_hashes = _string_hashes(_objects(names)) if names else []
    for i, (hashes, name_hash) in enumerate(zip(column_hashes, name_hashes)):
        combined = (combined ^ (hashes ^ name_hash)) * multiplier
        multiplier += np.uint64(82_520 + 2 * (len(names) - i))
    return combined + np.uint64(97_531)


def _objects(values) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _column_hashes(column: pd.Series) -> np.ndarray:
    """One uint64 per value of ``column``; equal values give equal hashes whatever the dtype."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        if len(dtype.categories) == 0:
            return np.full(len(column), _MISSING_HASH, dtype=np.uint64)
        categories = _column_hashes(pd.Series(dtype.categories))
        return np.where(codes >= 0, categories[codes], _MISSING_HASH)
    present = ~column.isna().to_numpy(dtype=bool)
    hashes = np.full(len(column), _MISSING_HASH, dtype=np.uint64)
    if not present.any():
        return hashes
    values = column if present.all() else column[present]
    if pd.api.types.is_bool_dtype(dtype) or (pd.api.types.is_numeric_dtype(dtype)
                                              and not pd.api.types.is_complex_dtype(dtype)):
        numpy_dtype = getattr(dtype, "numpy_dtype", None) or getattr(dtype, "subtype", None) or dtype
        hashes[present] = _number_hashes(values.to_numpy(dtype=numpy_dtype))
    elif pd.api.types.is_string_dtype(dtype) and dtype != object:
        hashes[present] = _string_hashes(values.to_numpy(dtype=object))
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        hashes[present] = _time_hashes(values.to_numpy())
    elif pd.api.types.is_timedelta64_dtype(dtype):
        hashes[present] = _time_hashes(values.to_numpy())
    else:
        hashes[present] = _object_hashes(values.to_numpy(dtype=object))
    return hashes


def _string_hashes(values: np.ndarray) -> np.ndarray:
    """Hashes of an object array of str (UTF-8; lone surrogates kept as they are)."""
    try:
        return pd.util.hash_array(values, categorize=False)
    except UnicodeEncodeError:
        encoded = _objects([v.encode("utf-8", "surrogatepass") for v in values])
        return pd.util.hash_array(encoded, categorize=False)


def _number_hashes(values: np.ndarray) -> np.ndarray:
    """Hashes of a bool, int or float array without missing values; 1, 1.0 and True hash alike."""
    if values.dtype.kind == "b":
        values = values.astype(np.uint8)
    if values.dtype.kind not in "iu":
        return _float_hashes(values.astype(np.float64))
    floats = values.astype(np.float64)
    # an integer hashes as its float when float64 holds it exactly (as pandas' int-with-NaN does)
    limit = 2.0 ** (64 if values.dtype.kind == "u" else 63)
    inside = np.abs(floats) < limit
    exact = inside & (np.where(inside, floats, 0).astype(values.dtype) == values)
    hashes = _float_hashes(floats)
    if not exact.all():
        hashes[~exact] = pd.util.hash_array(values[~exact]) ^ _EXACT_INTEGER_TAG
    return hashes


def _float_hashes(values: np.ndarray) -> np.ndarray:
    """Hashes of float64 values: whole numbers exactly, others rounded to float32; -0.0 is 0.0."""
    whole = np.isfinite(values) & (np.floor(values) == values)
    with np.errstate(over="ignore"):
        rounded = values.astype(np.float32).astype(np.float64)
    return pd.util.hash_array(np.where(whole, values, rounded) + 0.0)


def _time_hashes(values: np.ndarray) -> np.ndarray:
    """Hashes of datetime64 or timedelta64 values in any unit: whole seconds plus nanoseconds."""
    kind = "M" if values.dtype.kind == "M" else "m"
    seconds = values.astype(f"{kind}8[s]")
    nanoseconds = (values - seconds).astype("m8[ns]").astype(np.int64)
    return _combine_columns([pd.util.hash_array(seconds.astype(np.int64)), pd.util.hash_array(nanoseconds)],
                            ["seconds", "nanoseconds"], len(values))


def _object_hashes(values: np.ndarray) -> np.ndarray:
    """Hashes of an object array without missing values: text, numbers and other values mixed."""
    inferred = pd.api.types.infer_dtype(values, skipna=False)
    if inferred == "string":
        return _string_hashes(values)
    if inferred in ("integer", "floating", "mixed-integer-float", "boolean"):
        numbers = np.asarray(values.tolist())
        if numbers.dtype.kind in "biuf":
            return _number_hashes(numbers)
    hashes = np.empty(len(values), dtype=np.uint64)
    kinds = np.array([_value_kind(v) for v in values], dtype=np.int8)
    for kind, hash_of in ((0, _string_hashes), (1, _number_hashes), (2, _token_hashes)):
        chosen = kinds == kind
        if chosen.any():
            group = values[chosen] if kind != 1 else np.array(values[chosen].tolist(), dtype=np.float64)
            hashes[chosen] = hash_of(group)
    return hashes


def _value_kind(value) -> int:
    """0 for text, 1 for a number float64 holds exactly (or a float), 2 for any other value."""
    if isinstance(value, str):
        return 0
    if isinstance(value, (bool, np.bool_, float, np.floating)):
        return 1
    if isinstance(value, (int, np.integer)) and abs(int(value)) <= 2**64 and float(value) == value:
        return 1
    return 2


#: The most bytes of value tokens hashed at once. An image array's token is its pixels as float32
#: (about 4.9 MB for a 640x640 colour photograph): all tokens at once, 3,000 photographs took 14 GB.
TOKEN_BYTES_AT_ONCE = 64 * 2**20


def _token_hashes(values: np.ndarray) -> np.ndarray:
    """Hashes of the values' tokens, in chunks of at most :data:`TOKEN_BYTES_AT_ONCE` bytes (each
    token hashes on its own, so the chunks give the same hashes as one call)."""
    hashes = np.empty(len(values), dtype=np.uint64)
    chunk: list[bytes] = []
    size = start = 0
    for end, value in enumerate(values, start=1):
        token = _value_token(value)
        chunk.append(token)
        size += len(token)
        if size >= TOKEN_BYTES_AT_ONCE or end == len(values):
            hashes[start:end] = pd.util.hash_array(_objects(chunk), categorize=False)
            chunk, size, start = [], 0, end
    return hashes


def _value_token(value) -> bytes:
    """A canonical byte form of any value, the same in every process."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        # pixels or vectors: the same numbers give the same bytes whatever their dtype
        return (_TOKEN_PREFIX + b"array" + str(value.shape).encode()
                + np.ascontiguousarray(value, dtype=np.float32).tobytes())
    try:
        from PIL import Image
    except ImportError:
        Image = None
    if Image is not None and isinstance(value, Image.Image):
        described = _TOKEN_PREFIX + f"image {value.mode} {value.size}".encode()
        if value.size[0] * value.size[1] > MAX_DECODED_PIXELS:  # not decoded, as on the card
            return described + str(getattr(value, "filename", "")).encode("utf-8", "surrogatepass")
        return described + value.tobytes()
    try:
        text = _canonical(value)
    except Exception:  # a value whose repr fails is still counted, by its type
        text = f"<unrepresentable {type(value).__module__}.{type(value).__qualname__}>"
    return _TOKEN_PREFIX + type(value).__name__.encode() + b":" + text.encode("utf-8", "surrogatepass")
