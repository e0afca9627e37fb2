"""Model features and embeddings per data kind, computed once.

Features feed the weak classifiers; embeddings (dense, low-dimensional, float32) feed diversity
sampling and the coverage plot. Both are computed in the background by the session and cached
on it; nothing here copies the DataFrame.

- text: word uni- and bigrams hashed into a fixed number of columns, sublinear tf times an IDF
  estimated on a sample, rows L2-normalised (sparse) for the models (:class:`TextFeaturizer`); a
  truncated SVD of them, fitted on a sample, L2-normalised, as embeddings.
- image: each image as a small grey thumbnail (pixels in [0, 1]), read as the card reads it; small
  equal-shaped arrays (e.g. 8x8 digits) as their own pixels; PCA of those as embeddings.
- table: numeric columns standardised (missing values at the median, plus a missing flag),
  booleans as 0/1, datetimes as days, other columns one-hot on their most frequent values;
  PCA of that as embeddings when it is wide.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import sparse

from .dataset import Dataset, _is_missing, as_texts
from .errors import DataError
from .images import UnreadableImage, read_image, unit_scale

__all__ = ["compute_features", "compute_embeddings", "validate_embeddings", "TextFeaturizer", "sample_rows"]

#: Dimensions of the default embeddings.
EMBEDDING_DIM = 64
#: Side of the grey thumbnails used as image features.
THUMBNAIL_SIDE = 24
#: Equal-shaped arrays with at most this many values are used as their own pixels, not thumbnailed.
_MAX_RAW_PIXELS = 64 * 64
_MAX_CATEGORIES = 20
#: Columns of the hashed text features. Word uni- and bigrams of a few thousand documents collide
#: rarely in 2**18 columns, and the model's coefficients stay small (2**18 per label).
TEXT_HASH_COLUMNS = 2**18
#: Rows the text IDF and the sparse embeddings' SVD are estimated on (all rows when fewer).
SAMPLE_ROWS = 20_000
#: Columns (the most frequent in the sample) the sparse embeddings' SVD is fitted on.
_SVD_COLUMNS = 2**15
#: Rows featurised at a time: bounds the Python strings alive at once and paces the progress line.
CHUNK_ROWS = 50_000


class TextFeaturizer:
    """Text to sparse model features, one row at a time if need be.

    Word uni- and bigrams are hashed into :data:`TEXT_HASH_COLUMNS` columns (no vocabulary to learn),
    weighted by sublinear term frequency times an inverse document frequency estimated on
    :data:`SAMPLE_ROWS` rows, and each row is L2-normalised. Unlike a TF-IDF vectoriser, nothing needs
    a pass over the whole pool: the labeled rows and a sample can be featurised, fitted and scored
    first, and the rest in chunks after. On the bundled reviews and on long documents the model's
    accuracy at equal labels matches the full TF-IDF vocabulary's (benchmarks/session_speed.py --rounds).
    """

    def __init__(self, texts: pd.Series, *, random_state: int = 0):
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

        self._hasher = HashingVectorizer(n_features=TEXT_HASH_COLUMNS, ngram_range=(1, 2), alternate_sign=False,
                                         norm=None, dtype=np.float32)
        #: Positions of the rows the IDF is estimated on (every row when there are few).
        self.sample = sample_rows(len(texts), SAMPLE_ROWS, random_state)
        hashed = self._hasher.transform(_feature_texts(texts.iloc[self.sample]))
        self._weights = TfidfTransformer(sublinear_tf=True).fit(hashed)
        self._terms_per_row = hashed.nnz / max(1, hashed.shape[0])
        # kept until the pool's features exist: the sample's features are what a first fit scores,
        # and when the sample is every row they are the pool's features
        self._sample_hashed = hashed

    def sample_features(self) -> sparse.csr_matrix:
        """Features of the rows :attr:`sample` (hashed once, when the IDF was estimated), until
        :meth:`release_sample`."""
        if self._sample_hashed is None:
            raise RuntimeError("the sample's features were released once the pool's features existed")
        return self._weights.transform(self._sample_hashed).astype(np.float32, copy=False)

    def release_sample(self) -> None:
        """Let go of the sample's hashed rows (the pool's features hold them now)."""
        self._sample_hashed = None

    def transform(self, texts) -> sparse.csr_matrix:
        """Features (len(texts), TEXT_HASH_COLUMNS), float32 CSR, for any texts (a Series, a list)."""
        return self._weights.transform(self._hasher.transform(_feature_texts(texts))).astype(np.float32, copy=False)

    def transform_all(self, texts: pd.Series, on_progress: Callable[[float], None] | None = None) -> sparse.csr_matrix:
        """Features of every row of ``texts``, in chunks of :data:`CHUNK_ROWS` (``on_progress(share done)``).

        Each chunk is written into arrays allocated once, sized from the sample's terms per row with
        room to spare: pages never written are never resident, so the peak is the result plus one
        chunk (a list of chunks stacked at the end would hold everything twice).
        """
        n = len(texts)
        if len(self.sample) == n and self._sample_hashed is not None:  # the sample is every row
            return self.sample_features()
        capacity = int(self._terms_per_row * n * 1.5) + 1024
        index_type = np.int32 if capacity < np.iinfo(np.int32).max else np.int64
        data, indices = np.empty(capacity, dtype=np.float32), np.empty(capacity, dtype=index_type)
        indptr = np.zeros(n + 1, dtype=index_type)
        filled = 0
        for start in range(0, n, CHUNK_ROWS):
            chunk = self.transform(texts.iloc[start : start + CHUNK_ROWS])
            if filled + chunk.nnz > len(data):  # far more terms than the sample had: grow (a copy)
                more = max(chunk.nnz, len(data) // 2)
                data, indices = np.append(data, np.empty(more, data.dtype)), np.append(indices, np.empty(more, index_type))
            data[filled : filled + chunk.nnz] = chunk.data
            indices[filled : filled + chunk.nnz] = chunk.indices
            indptr[start + 1 : start + chunk.shape[0] + 1] = chunk.indptr[1:] + filled
            filled += chunk.nnz
            if on_progress is not None and start + CHUNK_ROWS < n:  # the last chunk ends the step
                on_progress((start + CHUNK_ROWS) / n)
        return sparse.csr_matrix((data[:filled], indices[:filled], indptr), shape=(n, TEXT_HASH_COLUMNS))


def _feature_texts(values) -> list[str]:
    """Each value as text for the features. A value that cannot be made text (its ``__str__`` raises)
    counts as empty: the card says why it cannot be shown, and training goes on without its words."""
    texts = []
    for value in values:
        try:
            texts.append(value if isinstance(value, str) else str(value))
        except Exception:  # a record's own __str__ may raise anything
            texts.append("")
    return texts


def sample_rows(n: int, size: int, random_state: int) -> np.ndarray:
    """Up to ``size`` sorted positions out of ``n``, seeded (all of them when ``n <= size``)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(random_state).choice(n, size=size, replace=False))


def compute_features(dataset: Dataset, on_progress: Callable[[float], None] | None = None,
                     featurizer: TextFeaturizer | None = None):
    """Feature matrix (n, p) for the default models: sparse for text, dense float32 otherwise.

    Text uses ``featurizer`` when given (so rows featurised earlier match), else a new
    :class:`TextFeaturizer`; ``on_progress(share done)`` is called after each chunk of text.
    """
    if dataset.kind == "text":
        texts = dataset.df[dataset.text_column]
        return (featurizer or TextFeaturizer(texts)).transform_all(texts, on_progress)
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
        image = read_image(value, at_least=THUMBNAIL_SIDE)
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

        if features.nnz == 0 or n <= 2:  # no words, or too few rows for directions: nothing to explore by
            return np.zeros((n, 1), dtype=np.float32)
        if p <= 1:
            return np.asarray(features.todense(), dtype=np.float32)
        # fitted on a sample, on its most frequent columns, and applied in chunks: on a million rows
        # of 2**18 hashed columns the SVD's work arrays would be several times the embeddings' size;
        # the leading directions of a 20,000-row sample come from its frequent terms
        sample = features[sample_rows(n, SAMPLE_ROWS, random_state)].tocsc()
        frequency = np.diff(sample.indptr)
        columns = np.sort(np.argsort(-frequency, kind="stable")[:min(p, _SVD_COLUMNS, int((frequency > 0).sum()))])
        if len(columns) <= 1:
            return np.zeros((n, 1), dtype=np.float32)
        svd = TruncatedSVD(n_components=min(dim, len(columns) - 1), random_state=random_state,
                           algorithm="randomized", n_iter=4)
        with np.errstate(divide="ignore", invalid="ignore"):  # identical sample rows: no variance to share
            svd.fit(sample[:, columns].tocsr())
        components = svd.components_.T.astype(np.float32)
        embedded = np.empty((n, components.shape[1]), dtype=np.float32)
        for start in range(0, n, CHUNK_ROWS):  # normalised chunk by chunk: a norm over all rows copies them
            block = np.asarray(features[start : start + CHUNK_ROWS][:, columns] @ components, dtype=np.float32)
            norms = np.linalg.norm(block, axis=1, keepdims=True)
            embedded[start : start + CHUNK_ROWS] = block / np.where(norms > 0, norms, 1.0)
        return embedded
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
