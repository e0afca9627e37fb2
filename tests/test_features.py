"""Each data kind gets model features and dense embeddings; bad values never stop training."""

import struct
import zlib

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import sparse

from activelabel_widget.dataset import Dataset
from activelabel_widget.errors import DataError
from activelabel_widget.features import (EMBEDDING_DIM, THUMBNAIL_SIDE, compute_embeddings, compute_features,
                                         validate_embeddings)

THUMBNAIL = THUMBNAIL_SIDE * THUMBNAIL_SIDE


def texts(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    words = ["crash", "error", "please", "add", "how", "guide", "export", "file", "login", "phone"]
    return pd.DataFrame({"body": [" ".join(rng.choice(words, size=6)) for _ in range(n)]})


# -- text ------------------------------------------------------------------------------------------
def test_text_features_are_sparse_tfidf_and_embeddings_unit_length():
    dataset = Dataset(texts(), text="body")
    features = compute_features(dataset)
    assert sparse.issparse(features) and features.shape[0] == 40 and features.dtype == np.float32
    embeddings = compute_embeddings(features, random_state=0)
    assert embeddings.dtype == np.float32 and embeddings.shape[0] == 40 and embeddings.shape[1] <= EMBEDDING_DIM
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-4)
    assert np.array_equal(embeddings, compute_embeddings(features, random_state=0))  # seeded


@pytest.mark.parametrize("sample_rows", [3, 1000], ids=["sampled", "every row sampled"])
def test_a_text_row_has_the_same_features_alone_as_in_the_whole_pool(monkeypatch, sample_rows):
    """Hashed features need no vocabulary: a row featurised on its own (to fit or score before the pool
    is read) equals its row in the pool's matrix, built in chunks (or from the sample when it was every
    row), even when later rows hold far more words than the sample the arrays' size came from."""
    from activelabel_widget import features as features_module

    monkeypatch.setattr(features_module, "SAMPLE_ROWS", sample_rows)
    monkeypatch.setattr(features_module, "CHUNK_ROWS", 7)
    frame = texts(40)
    frame.loc[35:, "body"] = [" ".join(f"word{i}x{j}" for j in range(300)) for i in range(5)]  # long, unsampled
    featurizer = features_module.TextFeaturizer(frame["body"], random_state=0)
    pool = features_module.compute_features(Dataset(frame, text="body"), featurizer=featurizer)
    assert pool.shape == (40, features_module.TEXT_HASH_COLUMNS) and pool.dtype == np.float32
    for row in (0, 17, 35, 39):
        alone = featurizer.transform(frame["body"].iloc[[row]])
        assert (alone != pool[row]).nnz == 0
    assert np.allclose(sparse.linalg.norm(pool, axis=1), 1.0, atol=1e-5)


def test_unprintable_text_has_no_words_in_the_features():
    class Unprintable:
        def __str__(self):
            raise ValueError("no text for you")

    frame = pd.DataFrame({"body": ["crash on login", Unprintable(), 12]}, dtype=object)
    features = compute_features(Dataset(frame, text="body"))
    assert [features[row].nnz for row in range(3)] == [5, 0, 1]  # the number 12 is the word "12"


def test_text_without_words_gives_empty_rows_not_an_error():
    dataset = Dataset(pd.DataFrame({"body": ["", " ", "\u200b"]}), text="body")
    features = compute_features(dataset)
    assert features.shape[0] == 3 and features.nnz == 0
    embeddings = compute_embeddings(features)
    assert embeddings.shape[0] == 3 and np.isfinite(embeddings).all()


# -- images ----------------------------------------------------------------------------------------
def test_small_equal_arrays_are_their_own_pixels_scaled_to_one():
    digits = [np.full((8, 8), i, dtype=np.int64) for i in range(17)]  # 0..16, as sklearn's digits
    features = compute_features(Dataset(pd.DataFrame({"img": digits}), image="img"))
    assert features.shape == (17, 64) and features.dtype == np.float32
    assert features.min() == 0.0 and features.max() == 1.0
    assert np.allclose(features[8], 0.5)


def test_large_or_mixed_images_become_grey_thumbnails(tmp_path):
    path = tmp_path / "white.png"
    Image.new("RGB", (90, 60), "white").save(path)
    column = [np.ones((100, 100)), Image.new("L", (30, 30), 255), str(path), path]
    features = compute_features(Dataset(pd.DataFrame({"img": column}), image="img"))
    assert features.shape == (4, THUMBNAIL) and features.dtype == np.float32
    assert np.allclose(features, 1.0)


def test_a_bad_image_is_a_blank_thumbnail_and_the_others_are_kept(tmp_path):
    huge = tmp_path / "huge.png"
    Image.new("L", (1, 1)).save(huge)
    data = bytearray(huge.read_bytes())  # the header now says 10,000 x 5,000
    data[16:24] = struct.pack(">II", 10_000, 5_000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    huge.write_bytes(bytes(data))
    column = [np.ones((30, 30)), str(tmp_path / "missing.png"), None, str(huge), np.zeros((2, 2, 2)),
              np.ones((30, 30))]
    features = compute_features(Dataset(pd.DataFrame({"img": column}), image="img"))
    assert features.shape == (6, THUMBNAIL)
    assert compute_embeddings(features, random_state=0).shape == (6, 5)  # at most n - 1 dimensions
    assert np.allclose(features[[0, 5]], 1.0)
    assert not features[1:5].any()


# -- tables ----------------------------------------------------------------------------------------
def test_table_columns_of_every_dtype_become_finite_numbers():
    df = pd.DataFrame({
        "age": [31.5, np.nan, 40.0, 22.0],
        "count": [1, 2, 3, 4],
        "member": [True, False, True, False],
        "joined": pd.to_datetime(["2020-01-01", "2021-06-01", None, "2019-03-03"]),
        "city": ["Oslo", None, "Lima", "Oslo"],
    })
    features = compute_features(Dataset(df))
    # age: value + missing flag; count; member; joined: value + missing flag; city: Oslo, Lima, (missing)
    assert features.shape == (4, 2 + 1 + 1 + 2 + 3) and features.dtype == np.float32
    assert np.isfinite(features).all()
    assert features[:, 1].tolist() == [0, 1, 0, 0]  # the missing flag of age
    assert compute_embeddings(features).shape == features.shape  # narrow: kept as they are


def test_wide_tables_are_projected_to_the_embedding_size():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(120, 100)), columns=[f"x{i}" for i in range(100)])
    features = compute_features(Dataset(df))
    embeddings = compute_embeddings(features, random_state=0)
    assert features.shape == (120, 100) and embeddings.shape == (120, EMBEDDING_DIM)
    assert embeddings.dtype == np.float32


def test_only_the_chosen_feature_columns_are_used():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "x"], "note": ["n1", "n2", "n3"]})
    assert compute_features(Dataset(df, features=["a"])).shape == (3, 1)


# -- user embeddings -------------------------------------------------------------------------------
def test_user_embeddings_from_a_column_or_an_array_are_checked():
    df = pd.DataFrame({"body": ["a", "b", "c"], "vec": [np.ones(4), np.zeros(4), np.arange(4)]})
    dataset = Dataset(df, text="body")
    from_column = validate_embeddings("vec", dataset)
    assert from_column.shape == (3, 4) and from_column.dtype == np.float32
    assert np.array_equal(validate_embeddings(np.eye(3), dataset), np.eye(3, dtype=np.float32))


@pytest.mark.parametrize(
    "embeddings, message",
    [
        ("vect", "Did you mean 'vec'"),
        ("ragged", "same length"),
        (np.ones((2, 4)), "shape (n_rows, d) = (3, d)"),
        (np.ones(3), "shape (n_rows, d)"),
        (np.array([[1.0, np.nan], [0, 0], [1, 1]]), "NaN or infinite"),
    ],
)
def test_bad_user_embeddings_raise_a_data_error_that_says_what_to_do(embeddings, message):
    df = pd.DataFrame({"body": ["a", "b", "c"], "vec": [np.ones(4)] * 3,
                       "ragged": [np.ones(4), np.ones(3), np.ones(4)]})
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_embeddings(embeddings, Dataset(df, text="body"))
