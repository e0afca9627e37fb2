"""Apply labeling functions to a DataFrame: the label matrix, one column per heuristic.

A heuristic that raises, or votes a label nobody declared, is reported in
:attr:`HeuristicResult.errors` and its column is all abstain; the others still apply.
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, LabelError
from ._functions import LabelingFunction

__all__ = ["HeuristicResult", "apply_heuristics", "ABSTAIN"]

ABSTAIN = -1
"""The code of an abstention in a label matrix."""

_SHOWN_UNKNOWN = 3


@dataclass(frozen=True, eq=False)
class HeuristicResult:
    """What :func:`apply_heuristics` returns.

    Attributes
    ----------
    matrix : ndarray of shape (n_rows, n_heuristics), int16
        Label codes (positions in ``labels``), -1 where a heuristic abstains. Columns follow
        the order of the heuristics given.
    names : list of str
        The heuristics' names, one per column.
    errors : dict of str to str
        Heuristic name -> what went wrong (error type, text, and on how many rows). Such a
        heuristic's column is all -1.
    labels : tuple
        The known labels; code ``k`` is ``labels[k]``.
    """

    matrix: np.ndarray
    names: list
    errors: dict
    labels: tuple


class _Failure:
    """The first error a heuristic raised and on how many rows it raised."""

    __slots__ = ("error", "key", "count")

    def __init__(self):
        self.error = None
        self.key = None
        self.count = 0


def _row_type(columns: Sequence[Hashable]):
    """A namedtuple class for rows: ``row.body``, ``row["body text"]``, ``row.Index`` (the key)."""
    base = namedtuple("Row", ["Index"] + [str(c) for c in columns], rename=True)
    positions = {"Index": 0}
    for i, c in enumerate(columns, start=1):
        positions.setdefault(c, i)

    def __getitem__(self, key):
        position = positions.get(key) if isinstance(key, Hashable) else None
        if position is not None:
            return tuple.__getitem__(self, position)
        if isinstance(key, (int, np.integer, slice)):
            return tuple.__getitem__(self, key)
        raise KeyError(f"row has no column {key!r}; its columns are {list(columns)!r}")

    def __getattr__(self, attribute):
        # reached only when the attribute is no field: name the columns in the error
        raise AttributeError(
            f"row has no column {attribute!r}; its columns are {list(columns)!r}. "
            "Use row['name'] for a column whose name is not a Python identifier."
        )

    def get(self, key, default=None):
        return self[key] if isinstance(key, Hashable) and key in positions else default

    namespace = {"__getitem__": __getitem__, "__getattr__": __getattr__, "__slots__": ()}
    if "get" not in base._fields:
        namespace["get"] = get
    return type("Row", (base,), namespace)


def _describe_failure(failure: _Failure, n_rows: int, vectorized: bool) -> str:
    error = failure.error
    what = f"{type(error).__name__}: {error}"
    if vectorized:
        return f"{what} (raised on the whole DataFrame, {n_rows} rows); all its rows abstain until it is fixed"
    return (
        f"{what} (raised on {failure.count} of {n_rows} rows, first at row {failure.key!r}); "
        "all its rows abstain until it is fixed"
    )


def _all_abstain(n_rows: int) -> np.ndarray:
    return np.full(n_rows, ABSTAIN, np.int16)


def _as_series(values, n_rows: int) -> tuple[pd.Series | None, str | None]:
    """One heuristic's outputs as a 1-d Series of length n, or an error message."""
    if isinstance(values, pd.Series):
        series = values
    elif isinstance(values, list):
        series = pd.Series(values)
    elif isinstance(values, (np.ndarray, pd.api.extensions.ExtensionArray, pd.Index)):
        if np.ndim(values) != 1:
            return None, f"returned an array of shape {np.shape(values)}; return one value per row, shape ({n_rows},)"
        series = pd.Series(values)
    else:
        return None, (
            f"returned {type(values).__name__}; a vectorised heuristic must return one value per row "
            "(a boolean mask, or label names with None where it abstains)"
        )
    if len(series) != n_rows:
        return None, f"returned {len(series)} values for {n_rows} rows; return one value per row"
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    return series, None


def _codes_from_values(values, lf: LabelingFunction, index: pd.Index, n_rows: int) -> tuple[np.ndarray, str | None]:
    """Turn a heuristic's outputs (n,) into int16 codes; return (codes, error message or None)."""
    series, message = _as_series(values, n_rows)
    if message is not None:
        return _all_abstain(n_rows), message
    own = index.get_loc(lf.label) if lf.label is not None else None

    if pd.api.types.is_bool_dtype(series.dtype):
        votes = series.fillna(False).to_numpy(dtype=bool)
        if own is None:
            return (_all_abstain(n_rows), _no_own_label(index)) if votes.any() else (_all_abstain(n_rows), None)
        return np.where(votes, own, ABSTAIN).astype(np.int16), None

    objects = series.to_numpy(dtype=object)
    missing = series.isna().to_numpy(dtype=bool)
    try:
        codes = index.get_indexer(objects).astype(np.int64)
    except TypeError as error:
        return _all_abstain(n_rows), f"returned values that cannot be labels ({error})"
    codes[missing] = ABSTAIN
    odd = np.flatnonzero((codes == ABSTAIN) & ~missing)
    if odd.size:
        others = objects[odd]
        is_true = np.fromiter((v is True or v is np.True_ for v in others), bool, odd.size)
        is_false = np.fromiter((v is False or v is np.False_ for v in others), bool, odd.size)
        if is_true.any():
            if own is None:
                return _all_abstain(n_rows), _no_own_label(index)
            codes[odd[is_true]] = own
        unknown = pd.Series(others[~(is_true | is_false)], dtype=object)
        if len(unknown):
            counts = unknown.map(repr).value_counts(sort=True)
            shown = ", ".join(f"{value} ({count} rows)" for value, count in counts.iloc[:_SHOWN_UNKNOWN].items())
            more = f" and {len(counts) - _SHOWN_UNKNOWN} other values" if len(counts) > _SHOWN_UNKNOWN else ""
            return _all_abstain(n_rows), (
                f"voted {shown}{more}, which is not a known label; known labels: {_known(index)}. "
                "Return one of them, True to vote its own label, or None to abstain"
            )
    return codes.astype(np.int16), None


def _known(index: pd.Index) -> str:
    return ", ".join(repr(label) for label in index)


def _no_own_label(index: pd.Index) -> str:
    return (
        f"returned True but was declared without a label; declare one with "
        f"@labeling_function(label=...) or return a label name ({_known(index)})"
    )


def _check_heuristics(heuristics, index: pd.Index) -> tuple[list[LabelingFunction], dict]:
    if isinstance(heuristics, LabelingFunction):
        heuristics = [heuristics]
    heuristics = list(heuristics)
    seen = set()
    for lf in heuristics:
        if not isinstance(lf, LabelingFunction):
            raise TypeError(
                f"expected LabelingFunction objects, got {type(lf).__name__}; "
                "decorate the function with @labeling_function(label=...)"
            )
        if lf.name in seen:
            raise ValueError(f"two heuristics are named {lf.name!r}; give one another name with name=...")
        seen.add(lf.name)
    errors = {}
    for lf in heuristics:
        if lf.label is not None and lf.label not in index:
            errors[lf.name] = (
                f"declares label {lf.label!r}, which is not a known label; known labels: {_known(index)}"
            )
    return heuristics, errors


def apply_heuristics(
    heuristics: Sequence[LabelingFunction],
    df: pd.DataFrame,
    labels: Sequence[Hashable],
    *,
    progress: Callable[[int, int], object] | None = None,
) -> HeuristicResult:
    """Apply heuristics to every row of ``df`` and collect their votes as a label matrix.

    Parameters
    ----------
    heuristics : sequence of LabelingFunction
        Names must be unique. Vectorised ones run once on ``df``; row-wise ones run on each row.
    df : DataFrame of n rows
        Not modified (heuristics must not modify it either).
    labels : sequence of hashable
        The known labels; a vote's code is its position here.
    progress : callable, optional
        ``progress(done, total)`` called about every 1% of the rows while row-wise heuristics
        run (``total`` is the number of rows; every row-wise heuristic has seen ``done`` rows),
        and once at the end. An exception it raises stops the run and propagates, which is a
        way to cancel.

    Returns
    -------
    HeuristicResult
        ``matrix`` (n, h) int16 codes with -1 = abstain, ``names``, ``errors``, ``labels``.

    Raises
    ------
    TypeError
        When a heuristic is not a :class:`LabelingFunction`.
    ValueError
        On duplicate heuristic names, or empty or duplicate labels.

    Examples
    --------
    >>> import pandas as pd
    >>> from activelabel_widget.weak import keywords, labeling_function
    >>> df = pd.DataFrame({"body": ["it crashed", "how do I sync?", "crash on sync"]})
    >>> @labeling_function(label="question")
    ... def asks(row):
    ...     return row.body.endswith("?")
    >>> result = apply_heuristics([keywords("bug", column="body", words=["crash"]), asks], df, ["bug", "question"])
    >>> result.matrix.tolist()
    [[0, -1], [-1, 1], [0, -1]]
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"apply_heuristics needs a pandas DataFrame, got {type(df).__name__}")
    labels = tuple(labels)
    if not labels:
        raise LabelError("give one or more labels")
    index = pd.Index(labels, dtype=object)
    if not index.is_unique:
        raise LabelError(f"labels must be unique, got {list(labels)!r}")
    heuristics, errors = _check_heuristics(heuristics, index)
    n_rows = len(df)
    matrix = np.full((n_rows, len(heuristics)), ABSTAIN, dtype=np.int16)

    rowwise = []
    for j, lf in enumerate(heuristics):
        if lf.name in errors:
            continue
        if not lf.vectorized:
            rowwise.append(j)
            continue
        try:
            values = lf.func(df)
        except Exception as error:  # the user's code may raise anything: report it, keep going
            failure = _Failure()
            failure.error, failure.count = error, n_rows
            errors[lf.name] = _describe_failure(failure, n_rows, vectorized=True)
            continue
        values, message = _aligned(values, df.index)
        if message is None:
            codes, message = _codes_from_values(values, lf, index, n_rows)
        if message is None:
            matrix[:, j] = codes
        else:
            errors[lf.name] = message

    if rowwise:
        outputs, failures = _run_rowwise([heuristics[j] for j in rowwise], df, progress)
        for j, values, failure in zip(rowwise, outputs, failures):
            lf = heuristics[j]
            if failure.count:
                errors[lf.name] = _describe_failure(failure, n_rows, vectorized=False)
                continue
            codes, message = _codes_from_values(values, lf, index, n_rows)
            if message is None:
                matrix[:, j] = codes
            else:
                errors[lf.name] = message
    errors = {lf.name: errors[lf.name] for lf in heuristics if lf.name in errors}  # in heuristic order
    return HeuristicResult(matrix, [lf.name for lf in heuristics], errors, labels)


def _aligned(values, row_index: pd.Index):
    """A vectorised heuristic's Series in the DataFrame's row order, or an error message."""
    if isinstance(values, pd.DataFrame) and values.shape[1] == 1:
        values = values.iloc[:, 0]
    if isinstance(values, pd.Series) and not values.index.equals(row_index):
        if len(values) == len(row_index) and values.index.is_unique and values.index.isin(row_index).all():
            return values.reindex(row_index), None
        return None, (
            "returned a Series whose index is not the DataFrame's; keep df.index "
            "(or return a plain array in row order)"
        )
    return values, None


def _run_rowwise(heuristics: list[LabelingFunction], df: pd.DataFrame, progress):
    """Run row-wise heuristics over the rows, a chunk of about 1% at a time."""
    n_rows = len(df)
    columns = [df.index.tolist()] + [df.iloc[:, k].tolist() for k in range(df.shape[1])]
    make = _row_type(list(df.columns))._make
    outputs = [[] for _ in heuristics]
    failures = [_Failure() for _ in heuristics]
    step = max(1, math.ceil(n_rows / 100))
    for start in range(0, n_rows, step):
        stop = min(start + step, n_rows)
        chunk = [column[start:stop] for column in columns]
        for lf, out, failure in zip(heuristics, outputs, failures):
            func, append = lf.func, out.append
            # rows are made afresh for each heuristic and not kept: far cheaper than holding them
            for row in map(make, zip(*chunk)):
                try:
                    append(func(row))
                except Exception as error:  # the user's code may raise anything: count it, keep going
                    if failure.count == 0:
                        failure.error, failure.key = error, tuple.__getitem__(row, 0)
                    failure.count += 1
                    append(None)
        if progress is not None:
            progress(stop, n_rows)
    if n_rows == 0 and progress is not None:
        progress(0, 0)
    return outputs, failures
