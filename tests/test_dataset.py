"""The DataFrame is validated up front, and each row becomes a card payload."""

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from activelabel_widget._keys import encode_index, encode_key
from activelabel_widget.dataset import MAX_TEXT_CHARS, Dataset
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
    assert dataset.payload(0).image == b"" and "could not read" in dataset.payload(0).image_error
    assert dataset.payload(1).image_error == "no image in this row"


def test_the_fingerprint_follows_keys_and_content():
    df = pd.DataFrame({"body": ["a", "b"]})
    keys, content = Dataset(df, text="body").fingerprint()
    assert Dataset(df.copy(), text="body").fingerprint() == (keys, content)
    assert Dataset(df.set_axis([5, 6]), text="body").fingerprint()[0] != keys
    changed = Dataset(pd.DataFrame({"body": ["a", "c"]}), text="body").fingerprint()
    assert changed[0] == keys and changed[1] != content


def test_keys_of_every_index_type_encode_distinctly():
    values = [1, "1", 1.0, (1, "a"), pd.Timestamp("2024-01-01"), True]
    encoded = [encode_key(v) for v in values]
    assert len(set(encoded)) == len(values)
    assert encode_index(pd.Index([3, 4])) == [encode_key(3), encode_key(4)]
    assert encode_index(pd.Index(["a", "b"])) == [encode_key("a"), encode_key("b")]


def test_lone_surrogates_become_replacement_characters_so_the_card_can_show_them():
    df = pd.DataFrame({"body": ["half an emoji \ud83d, end"], "note": ["bytes \udcff"]}, index=["key-\udcfe"])
    dataset = Dataset(df, text="body", show=["note"])
    payload = dataset.payload(0)
    assert payload.text == "half an emoji \ufffd, end"
    assert payload.fields == [["note", "bytes \ufffd"]]
    assert dataset.key_label(0) == "key-\ufffd"
    payload.text.encode("utf-8")  # encodable for the front end


def test_a_text_column_with_lone_surrogates_fingerprints_and_shows():
    df = pd.DataFrame({"body": ["fine", "half \ud83d emoji"]})
    dataset = Dataset(df, text="body")
    assert len(dataset.fingerprint()[1]) == 64
    assert dataset.payload(1).text == "half \ufffd emoji"
