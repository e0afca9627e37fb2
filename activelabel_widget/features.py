"""Model features and embeddings per data kind, computed once.

Features feed the weak classifiers; embeddings (dense, low-dimensional, float32) feed diversity
sampling and the coverage plot. Both are computed in the background by the session and cached
on it; nothing here copies the DataFrame.

- text: TF-IDF (sparse) for the models; truncated SVD of it, L2-normalised, as embeddings.
- image: each image as a small grey thumbnail (pixels in [0, 1]), read as the card reads it; small
  equal-shaped arrays (e.g. 8x8 digits) as their own pixels; PCA of those as embeddings.
- table: numeric columns standardised (missing values at the median, plus a missing flag),
  booleans as 0/1, datetimes as days, other columns one-hot on their most frequent values;
  PCA of that as embeddings when it is wide.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from .dataset import Dataset, _is_missing, as_texts
from .errors import DataError
from .images import UnreadableImage, read_image, unit_scale

__all__ = ["compute_features", "compute_embeddings", "validate_embeddings"]

#: Dimensions of the default embeddings.
EMBEDDING_DIM = 64
#: Side of the grey thumbnails used as image features.
THUMBNAIL_SIDE = 24
#: Equal-shaped arrays with at most this many values are used as their own pixels, not thumbnailed.
_MAX_RAW_PIXELS = 64 * 64
_MAX_CATEGORIES = 20


def compute_features(dataset: Dataset):
    """Feature matrix (n, p) for the default models: sparse for text, dense float32 otherwise."""
    if dataset.kind == "text":
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=1, max_features=100_000, ngram_range=(1, 2), dtype=np.float32)
        try:
            return vectorizer.fit_transform(as_texts(dataset.df[dataset.text_column]))
        except ValueError:
            # every document empty or stop words only: nothing to learn from words
            return sparse.csr_matrix((len(dataset), 1), dtype=np.float32)
    if dataset.kind == "image":
        return _image_features(dataset)
    return table_features(dataset.df[dataset.feature_columns])


def table_features(frame: pd.DataFrame) -> np.ndarray:
    """Numeric matrix (n, p) from mixed-dtype columns; see the module docstring."""
    blocks = []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column.dtype):
            blocks.append(column.fillna(False).astype(np.float32).to_numpy()[:, None])
        elif pd.api.types.is_datetime64_any_dtype(column.dtype):
            days = (column - column.min()).dt.total_seconds().to_numpy(dtype=np.float64) / 86_400.0
            blocks.append(_standardise(days))
        elif pd.api.types.is_numeric_dtype(column.dtype) and not isinstance(column.dtype, pd.CategoricalDtype):
            blocks.append(_standardise(column.to_numpy(dtype=np.float64, na_value=np.nan)))
        else:
            values = as_texts(column.astype("object").where(column.notna(), "(missing)"))
            top = pd.Series(values, dtype=object).value_counts().index[:_MAX_CATEGORIES]
            blocks.append(np.stack([(values == value).astype(np.float32) for value in top], axis=1))
    if not blocks:
        raise DataError("No usable feature columns: pass features=[...] with numeric or categorical columns.")
    return np.hstack(blocks).astype(np.float32)


def _standardise(values: np.ndarray) -> np.ndarray:
    values = values.astype(np.float64)
    finite = np.isfinite(values)
    out = np.zeros((len(values), 2 if not finite.all() else 1), dtype=np.float32)
    if finite.any():
        center = np.median(values[finite])
        # scale by the largest magnitude first so values near 1e308 do not overflow the spread
        magnitude = np.abs(values[finite] - center).max() or 1.0
        scaled = (values - center) / magnitude
        scale = scaled[finite].std() or 1.0
        out[:, 0] = np.where(finite, scaled / scale, 0.0)
    if not finite.all():
        out[:, 1] = ~finite  # the missing flag keeps "missing" from looking like "median"
    return out


def _thumbnail(value) -> np.ndarray:
    """A grey THUMBNAIL_SIDE x THUMBNAIL_SIDE image, flattened, in [0, 1]; blank when unreadable."""
    from PIL import Image

    blank = np.zeros(THUMBNAIL_SIDE * THUMBNAIL_SIDE, dtype=np.float32)
    try:
        if _is_missing(value):
            return blank
        image = read_image(value)
    except UnreadableImage:
        # the card shows why; as a feature the image is blank, so training goes on
        return blank
    grey = image.convert("L").resize((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.BILINEAR)
    return np.asarray(grey, dtype=np.float32).ravel() / 255.0


def _image_features(dataset: Dataset) -> np.ndarray:
    column = dataset.df[dataset.image_column]
    first = next((v for v in column if isinstance(v, np.ndarray)), None)
    if (first is not None and first.size <= _MAX_RAW_PIXELS and first.dtype.kind in "biuf"
            and all(isinstance(v, np.ndarray) and v.shape == first.shape and v.dtype.kind in "biuf" for v in column)):
        # small equal-shaped arrays: the pixels as they are (e.g. 8x8 digits), scaled over all images
        # the way one image is scaled for the card
        stacked = np.stack(column.to_list()).reshape(len(column), -1)
        return unit_scale(stacked)
    return np.stack([_thumbnail(v) for v in column])


def compute_embeddings(features, *, random_state: int = 0) -> np.ndarray:
    """Dense float32 embeddings (n, <=64) from a feature matrix, for diversity and coverage."""
    n, p = features.shape
    dim = max(1, min(EMBEDDING_DIM, p, n - 1 if n > 1 else 1))
    if sparse.issparse(features):
        from sklearn.decomposition import TruncatedSVD

        if p <= 1 or n <= 2:
            dense = np.asarray(features.todense(), dtype=np.float32)
            return dense
        svd = TruncatedSVD(n_components=min(dim, p - 1), random_state=random_state, algorithm="randomized", n_iter=4)
        embedded = svd.fit_transform(features).astype(np.float32)
        norms = np.linalg.norm(embedded, axis=1, keepdims=True)
        return embedded / np.where(norms > 0, norms, 1.0)
    dense = np.asarray(features, dtype=np.float32)
    if p <= EMBEDDING_DIM:
        return dense
    from sklearn.decomposition import PCA

    sample = np.random.default_rng(random_state).choice(n, size=min(n, 50_000), replace=False)
    pca = PCA(n_components=dim, random_state=random_state, svd_solver="randomized").fit(dense[sample])
    return pca.transform(dense).astype(np.float32)


def validate_embeddings(embeddings, dataset: Dataset) -> np.ndarray:
    """Check user embeddings: a column name of vectors or an (n, d) array in the DataFrame's order."""
    if isinstance(embeddings, str):
        if embeddings not in dataset.df.columns:
            from .dataset import _column_error

            raise _column_error(embeddings, dataset.df.columns, "embeddings")
        try:
            embeddings = np.stack([np.asarray(v, dtype=np.float32).ravel() for v in dataset.df[embeddings]])
        except ValueError as error:
            raise DataError(
                f"embeddings column {embeddings!r} must hold one vector of the same length per row: {error}"
            ) from error
    if hasattr(embeddings, "tocsr"):
        raise DataError("embeddings must be a dense (n_rows, d) array, got a sparse matrix; reduce it first, e.g. "
                        "TruncatedSVD(n_components=100).fit_transform(X), or pass embeddings.toarray() when small.")
    try:
        array = np.asarray(embeddings, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise DataError(f"embeddings must be numbers in an (n_rows, d) array; {error}") from error
    if array.ndim != 2 or array.shape[0] != len(dataset):
        raise DataError(
            f"embeddings must have shape (n_rows, d) = ({len(dataset)}, d), one row per record in the DataFrame's "
            f"order; got shape {array.shape}."
        )
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).any(axis=1).sum())
        raise DataError(f"embeddings has {bad} row(s) with NaN or infinite values; fill or drop them first.")
    return array
