"""Awkward DataFrames either work end to end or are refused with a documented error that says what to do.

Hypothesis builds small frames with mixed dtypes, categoricals, datetimes, missing values, empty,
1 MB, emoji, right-to-left and zero-width text, under every kind of index (int, float, string,
datetime, tuple MultiIndex, categorical, mixed object...). Each case constructs an
``ActiveLabeler`` with ``text=`` or ``features=``, labels the card's record through the card's
intent, labels more until a model is fitted, undoes, reads ``labeled`` and ``to_frame()``, closes,
and restarts on the same store, which must restore the labels. Any exception that is not one of
the package's errors (a raw KeyError, TypeError, sqlite3 error...) fails the case.

The generator (``benchmarks/bad_data.py``) is shared with ``benchmarks/faults.py``, which runs many more cases.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from activelabel_widget import ActiveLabeler
from activelabel_widget.errors import ActiveLabelError, DataError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bad_data import describe, run_cases, says_what_to_do  # noqa: E402  (shared with benchmarks/faults.py)


def test_awkward_data_either_works_end_to_end_or_says_what_to_do(capsys):
    outcomes = run_cases(60)
    with capsys.disabled():  # the count belongs in the run's output, not only with -s
        print("\nbad data: " + describe(outcomes))
    assert outcomes["worked"] >= 20  # most cases really ran the whole path


# -- found by the cases above, kept as plain examples ----------------------------------------------
def test_a_string_index_with_a_lone_surrogate_labels_or_is_refused_clearly(tmp_path):
    # e.g. file names read with errors="surrogateescape" used as the index
    # (object dtype: with pyarrow installed, pandas' own str dtype cannot hold a lone surrogate)
    df = pd.DataFrame({"body": ["one", "two"]}, index=pd.Index(["photo-\udcff.jpg", "photo-2.jpg"], dtype=object))
    labeler = ActiveLabeler(df, text="body", labels=["a", "b"], store=tmp_path / "s.db", background=False)
    try:
        for key in df.index:
            labeler.session.label(key, "a")
    except ActiveLabelError:
        pass  # a documented error is fine too
    finally:
        labeler.close()
    again = ActiveLabeler(df, text="body", labels=["a", "b"], store=tmp_path / "s.db", background=False)
    assert len(again.labeled) in (0, 2)
    again.close()


def test_a_users_own_label_column_is_not_silently_replaced(tmp_path):
    df = pd.DataFrame({"body": ["crash", "add", "how"], "label": ["old-bug", "old-feature", "old-question"]})
    try:
        labeler = ActiveLabeler(df, text="body", labels=["bug", "feature"], store=tmp_path / "s.db", background=False)
    except DataError:
        return  # refusing the clash, with a message, is fine
    labeler.session.label(0, "bug")
    frame = labeler.to_frame()
    labeler.close()
    assert frame.filter(like="label").isin(["old-bug", "old-feature", "old-question"]).any().any()


def test_a_row_whose_index_is_none_is_not_mistaken_for_nothing_left(tmp_path):
    df = pd.DataFrame({"body": ["first", "second"]}, index=pd.Index([None, 0], dtype=object))
    try:
        session = ActiveLabeler(df, text="body", labels=["a", "b"], store=tmp_path / "s.db", background=False).session
    except DataError:
        return  # refusing a missing key, with a message, is fine
    labeled = 0
    while session.current is not None:  # the documented way to label until done
        session.label(session.current, "a")
        labeled += 1
    session.close()
    assert labeled == 2


_LABEL_ONE_ROW_OF_TAG_SETS = """
import sys
import pandas as pd
from activelabel_widget import LabelingSession
tags = [{"python", "pandas", "numpy", "scipy", "jupyter"}, {"rust", "go", "zig", "nim", "odin"}, {"c", "cpp", "asm"}]
df = pd.DataFrame({"tags": tags, "stars": [10, 20, 30]})
session = LabelingSession(df, features=["tags", "stars"], labels=["a", "b"], store=sys.argv[1], background=False)
if len(session.labeled) == 0:
    session.label(0, "a")
print("LABELED", len(session.labeled))
"""


def test_a_column_of_sets_restarts_in_a_new_kernel(tmp_path):
    import os
    import subprocess
    import sys

    store = str(tmp_path / "s.db")
    outputs = []
    for hash_seed in ("1", "2"):  # two kernels, as after a restart
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        done = subprocess.run([sys.executable, "-c", _LABEL_ONE_ROW_OF_TAG_SETS, store], capture_output=True, text=True,
                              env=env, timeout=120)
        outputs.append(done.stdout.strip() or done.stderr.strip().splitlines()[-1])
    assert outputs == ["LABELED 1", "LABELED 1"]


def test_uint64_keys_above_the_int64_range_are_stored_as_they_are(tmp_path):
    import sqlite3

    df = pd.DataFrame({"body": ["big", "small"]}, index=pd.Index([2**63, 7], dtype=np.uint64))
    labeler = ActiveLabeler(df, text="body", labels=["a", "b"], store=tmp_path / "s.db", background=False)
    labeler.session.label(2**63, "a")
    labeler.close()
    stored = sqlite3.connect(tmp_path / "s.db").execute("SELECT key FROM events").fetchall()
    assert stored == [("i:9223372036854775808",)]


def test_lone_surrogates_in_object_columns_train_export_and_import_with_pyarrow_installed(tmp_path):
    # pandas with pyarrow turns astype(str) into Arrow strings, which refuse a lone surrogate
    df = pd.DataFrame({"body": [f"ticket {i} \udcff about {'crash' if i % 2 else 'feature'}" for i in range(12)],
                       "kind": ["a\udcfe" if i % 3 else "b" for i in range(12)], "size": range(12)}, dtype=object,
                      index=pd.Index([f"file-{i}-\udcff" for i in range(12)], dtype=object))
    df["earlier"] = pd.Series([None] * 12, dtype=object, index=df.index)
    df.iloc[0, df.columns.get_loc("earlier")] = "a"
    labeler = ActiveLabeler(df, text="body", labels=["a", "b"], store=tmp_path / "s.db", background=False,
                            initial_labels="earlier")
    for i in range(1, 6):
        labeler.session.label(df.index[i], "a" if i % 2 else "b")
    labeler.retrain(wait=True)
    assert labeler.session.model_status.fits >= 1
    labeler.export(tmp_path / "out.json")
    labeler.close()
    again = ActiveLabeler(df, text="body", labels=["a", "b"], store=tmp_path / "again.db", background=False)
    assert again.import_labels(tmp_path / "out.json").startswith("6 labels imported")
    again.close()
    table = ActiveLabeler(df, features=["kind", "size"], labels=["a", "b"], store=tmp_path / "t.db", background=False)
    table.session.label_many(range(4), ["a", "b", "a", "b"], source="bulk")
    for name in ("out.parquet", "out.jsonl", "out.csv", "tasks.json"):
        table.export(tmp_path / name)
        other = ActiveLabeler(df, features=["kind", "size"], labels=["a", "b"], store=tmp_path / f"{name}.db",
                              background=False)
        assert other.import_labels(tmp_path / name).startswith("4 labels imported"), name
        other.close()
    table.close()
