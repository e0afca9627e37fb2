"""The DataFrame is validated up front, and each row becomes a card payload."""

import io
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from activelabel_widget._keys import encode_index, encode_key
from activelabel_widget.dataset import MAX_TEXT_CHARS, UNSHOWABLE, Dataset
from activelabel_widget.errors import DataError


def test_a_text_frame_becomes_text_cards():
    df = pd.DataFrame({"body": ["hello", "world"], "title": ["a", "b"]}, index=[10, 20])
    dataset = Dataset(df, text="body", show=["title"])
    assert dataset.kind == "text"
    payload = dataset.payload(1)
    assert payload.text == "world" and payload.fields == [["title", "b"]]
    assert dataset.keys == ["i:10", "i:20"] and dataset.key_label(0) == "10"


@pytest.mark.parametrize(
    "frame, options, message",
    [
        (pd.DataFrame({"body": []}), {"text": "body"}, "no rows"),
        (pd.DataFrame({"body": ["a", "b"]}, index=[1, 1]), {"text": "body"}, "duplicate keys"),
        (pd.DataFrame({"body": ["a"]}), {"text": "bdy"}, "Did you mean 'body'"),
        (pd.DataFrame({"body": ["a", None]}), {"text": "body"}, "fillna"),
        (pd.DataFrame({"body": [1, 2]}), {"text": "body"}, "astype(str)"),
        (pd.DataFrame({"x": [1]}), {"features": ["y"]}, "features='y'"),
        (pd.DataFrame({"x": [1]}), {"text": "x", "image": "x"}, "either text= or image="),
        ([1, 2, 3], {}, "pandas DataFrame"),
    ],
)
def test_bad_frames_raise_a_data_error_that_says_what_to_do(frame, options, message):
    with pytest.raises(DataError) as caught:
        Dataset(frame, **options)
    assert message in str(caught.value)


def test_long_text_is_cut_before_it_crosses_the_wire():
    dataset = Dataset(pd.DataFrame({"body": ["x" * (MAX_TEXT_CHARS + 5000)]}), text="body")
    text = dataset.payload(0).text
    assert len(text) < MAX_TEXT_CHARS + 200 and "text cut" in text


def test_table_rows_show_every_column_by_default_with_missing_values_named():
    df = pd.DataFrame({"age": [31.5, np.nan], "city": ["Oslo", None]})
    payload = Dataset(df).payload(1)
    assert payload.kind == "table"
    assert payload.fields == [["age", "(missing)"], ["city", "(missing)"]]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(data)).size


def test_images_from_arrays_pil_images_and_paths_become_png_bytes(tmp_path):
    path = tmp_path / "red.png"
    Image.new("RGB", (600, 300), "red").save(path)
    df = pd.DataFrame({"img": [np.arange(64).reshape(8, 8), Image.new("L", (200, 200)), str(path)]})
    dataset = Dataset(df, image="img")
    tiny, pil, big = (dataset.payload(i) for i in range(3))
    assert _png_size(tiny.image)[0] >= 160  # tiny images are scaled up to be visible
    assert _png_size(pil.image) == (200, 200)
    assert max(_png_size(big.image)) == 512  # large images are scaled down


def test_an_unreadable_image_gives_a_placeholder_not_an_error(tmp_path):
    dataset = Dataset(pd.DataFrame({"img": [str(tmp_path / "missing.png"), None]}), image="img")
    assert dataset.payload(0).image == b"" and "could not read the image" in dataset.payload(0).problem
    assert dataset.payload(1).problem == "no image in this row"


def test_keys_of_every_index_type_encode_distinctly():
    values = [1, "1", 1.0, (1, "a"), pd.Timestamp("2024-01-01"), True]
    encoded = [encode_key(v) for v in values]
    assert len(set(encoded)) == len(values)
    assert encode_index(pd.Index([3, 4])) == [encode_key(3), encode_key(4)]
    assert encode_index(pd.Index(["a", "b"])) == [encode_key("a"), encode_key("b")]


def test_lone_surrogates_become_replacement_characters_so_the_card_can_show_them():
    # object dtype: with pyarrow installed, pandas' own str dtype cannot hold a lone surrogate
    df = pd.DataFrame({"body": ["half an emoji \ud83d, end"], "note": ["bytes \udcff"]},
                      index=pd.Index(["key-\udcfe"], dtype=object), dtype=object)
    dataset = Dataset(df, text="body", show=["note"])
    payload = dataset.payload(0)
    assert payload.text == "half an emoji \ufffd, end"
    assert payload.fields == [["note", "bytes \ufffd"]]
    assert dataset.key_label(0) == "key-\ufffd"
    payload.text.encode("utf-8")  # encodable for the front end


def test_a_text_column_with_lone_surrogates_hashes_and_shows():
    df = pd.DataFrame({"body": ["fine", "half \ud83d emoji"]}, dtype=object)
    dataset = Dataset(df, text="body")
    assert dataset.record_hashes().shape == (2,)
    assert dataset.payload(1).text == "half \ufffd emoji"



# -- a card that cannot be built is still a card ---------------------------------------------------
class Unprintable:
    """A user's object whose text form fails."""

    def __str__(self):
        raise ValueError("no text for you")

    __repr__ = __str__


def test_a_text_whose_str_raises_gives_a_card_that_says_why():
    df = pd.DataFrame({"body": ["fine", Unprintable()], "note": ["n1", "n2"]})
    dataset = Dataset(df, text="body", show=["note"])
    payload = dataset.payload(1)
    assert payload.kind == "text" and payload.text == UNSHOWABLE and payload.fields == [["note", "n2"]]
    assert payload.problem == "this record's text cannot be shown: ValueError: no text for you"
    assert dataset.payload(0).problem == ""


def test_cells_whose_str_raises_are_replaced_and_the_others_kept():
    df = pd.DataFrame({"a": [1.5], "b": [Unprintable()], "c": ["kept"]})
    payload = Dataset(df).payload(0)
    assert payload.fields == [["a", "1.5"], ["b", UNSHOWABLE], ["c", "kept"]]
    assert payload.problem == "the column 'b' cannot be shown: ValueError: no text for you"
    shown = Dataset(pd.DataFrame({"body": ["x"], "b": [Unprintable()]}), text="body", show=["b"]).payload(0)
    assert shown.text == "x" and shown.fields == [["b", UNSHOWABLE]] and "column 'b'" in shown.problem


def test_an_unreadable_image_file_gives_a_card(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    payload = Dataset(pd.DataFrame({"img": [str(broken)], "name": ["b"]}), image="img", show=["name"]).payload(0)
    assert payload.kind == "image" and payload.image == b"" and payload.fields == [["name", "b"]]
    assert payload.problem.startswith("could not read the image: ")


def test_a_too_large_image_gives_a_card_that_says_its_size():
    huge = np.broadcast_to(np.uint8(0), (25_000, 10_000))  # 250 million pixels, no memory spent
    payload = Dataset(pd.DataFrame({"img": [huge, np.eye(8)]}), image="img").payload(0)
    assert payload.image == b""
    assert payload.problem == "the image is too large to show (250,000,000 pixels; the limit is 40,000,000)"


def test_table_cells_keep_their_own_type_when_columns_mix_ints_and_floats():
    df = pd.DataFrame({"id": [2**62 + 1], "score": [0.5]})
    assert Dataset(df).payload(0).fields == [["id", str(2**62 + 1)], ["score", "0.5"]]


# -- per-record content hashes ---------------------------------------------------------------------
def hashes(df, **options) -> np.ndarray:
    return Dataset(df, **options).record_hashes()


def records() -> pd.DataFrame:
    return pd.DataFrame({
        "body": ["crash on save", "add dark mode", None, "how do I export?"],
        "score": [0.1, 2.5, np.nan, 1e-3],
        "count": [1, 2, 3, 4],
    }, index=[10, 11, 12, 13])


def test_record_hashes_are_one_uint64_per_row_cached_and_read_only():
    dataset = Dataset(records(), features=["body", "score", "count"])
    result = dataset.record_hashes()
    assert result.shape == (4,) and result.dtype == np.uint64 and len(set(result.tolist())) == 4
    assert dataset.record_hashes() is result and not result.flags.writeable


@pytest.mark.parametrize(
    "change",
    [
        lambda df: df.astype({"body": object}),
        lambda df: df.astype({"body": "string"}),
        lambda df: df.astype({"body": "category"}),
        lambda df: df.astype({"score": np.float32}),
        lambda df: df.astype({"count": np.float64}),
        lambda df: df.astype({"count": "Int64"}),
        lambda df: df[["count", "body", "score"]],
        lambda df: df.assign(body=df["body"].astype(object).where(df["body"].notna(), pd.NA)),
    ],
    ids=["object", "string", "category", "float32", "int-as-float", "Int64", "column order",
         "NA for None"],
)
def test_record_hashes_follow_values_not_dtypes(change):
    columns = ["body", "score", "count"]
    assert np.array_equal(hashes(change(records()), features=columns), hashes(records(), features=columns))


def test_an_int_column_with_a_missing_value_hashes_as_it_would_without_it():
    # pandas reads ints with a gap as float64; the nullable and object forms keep the ints
    forms = [pd.Series([1, 2, None, 2**53]), pd.Series([1, 2, None, 2**53], dtype="Int64"),
             pd.Series([1, 2, None, 2**53], dtype=object), pd.Series([1.0, 2.0, pd.NA, float(2**53)], dtype=object)]
    results = [hashes(pd.DataFrame({"n": form})) for form in forms]
    assert all(np.array_equal(results[0], other) for other in results[1:])
    assert np.array_equal(results[0][[0, 1, 3]], hashes(pd.DataFrame({"n": [1, 2, 2**53]})))


def test_record_hashes_of_pyarrow_strings_match_if_installed():
    pytest.importorskip("pyarrow")
    df = records()
    arrow = df.astype({"body": "string[pyarrow]"})
    assert np.array_equal(hashes(arrow, features=["body"]), hashes(df, features=["body"]))


def test_reordered_rows_give_the_same_hashes_reordered():
    order = [2, 0, 3, 1]
    original = hashes(records(), features=["body", "score"])
    assert np.array_equal(hashes(records().iloc[order], features=["body", "score"]), original[order])


def test_a_changed_cell_changes_only_its_rows_hash():
    changed = records()
    changed.loc[11, "score"] = 2.75
    before, after = hashes(records(), features=["body", "score"]), hashes(changed, features=["body", "score"])
    assert (before != after).tolist() == [False, True, False, False]


def test_record_hashes_cover_only_the_columns_in_use():
    df = records().assign(ignored=["w", "x", "y", "z"])
    assert np.array_equal(hashes(df, features=["body", "count"]), hashes(records(), features=["body", "count"]))
    assert np.array_equal(hashes(df, features=["count", "body"]), hashes(df, features=["body", "count"]))
    with_show = hashes(records().fillna({"body": ""}), text="body", show=["score"])
    assert np.array_equal(with_show, hashes(records().fillna({"body": ""}), text="body"))  # shown: context only


def test_image_arrays_hash_their_pixels_whatever_the_dtype_and_paths_their_text():
    pixels = [np.arange(16).reshape(4, 4), np.eye(4)]
    as_uint8 = pd.DataFrame({"img": [p.astype(np.uint8) for p in pixels]})
    as_float = pd.DataFrame({"img": [p.astype(np.float64) for p in pixels]})
    assert np.array_equal(hashes(as_uint8, image="img"), hashes(as_float, image="img"))
    paths = pd.DataFrame({"img": ["a.png", "b.png"]})
    assert np.array_equal(hashes(paths, image="img"), hashes(paths.astype("string"), image="img"))


def test_image_arrays_hash_a_few_at_a_time_so_memory_stays_bounded_and_the_hashes_do_not_change(monkeypatch):
    import tracemalloc

    from activelabel_widget import dataset as dataset_module

    rng = np.random.default_rng(0)
    images = pd.DataFrame({"img": [rng.integers(0, 255, size=(64, 64, 3), dtype=np.uint8) for _ in range(60)]})
    all_at_once = hashes(images, image="img")  # 60 tokens of 48 KB: under the limit, one call
    monkeypatch.setattr(dataset_module, "TOKEN_BYTES_AT_ONCE", 100_000)  # two tokens at a time
    tracemalloc.start()
    try:
        chunked = hashes(images, image="img")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.array_equal(chunked, all_at_once)  # stores made before keep matching their records
    token = 64 * 64 * 3 * 4
    assert peak < 10 * token, f"{peak:,} bytes at the peak: the tokens of all 60 images were held at once"


def test_sets_hash_the_same_in_every_kernel():
    script = ("import pandas as pd; from activelabel_widget.dataset import Dataset; "
              "print(Dataset(pd.DataFrame({'tags': [{'python', 'pandas', 'numpy', 'scipy'}, {'rust', 'go', 'zig'}]}), "
              "features=['tags']).record_hashes().tolist())")
    outputs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outputs) == 1 and outputs != {""}
