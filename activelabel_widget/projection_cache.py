"""The 2-D projection of the embeddings, kept beside the label store so reopening does not recompute it.

A projection of a million rows takes seconds to minutes (UMAP); the map and the coverage plot
need it every time a labeler opens. It is saved as ``<store>.projection.npz`` next to the store,
with a fingerprint of what it was computed from: the rows' content, the embeddings' shape and a
sample of their values, the method and the random state. A file whose fingerprint differs (the
data or the embeddings changed), that is truncated or unreadable is ignored and replaced; it is
a cache, never a source of labels, so it is written atomically and losing it costs only time.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["cache_path", "fingerprint", "load", "save"]

#: Rows of the embeddings whose values enter the fingerprint (spread evenly over the pool).
_SAMPLED_ROWS = 1_000


def cache_path(store_path: str | os.PathLike | None) -> Path | None:
    """Where the projection of a store's data is kept; None for an in-memory store."""
    if store_path is None or str(store_path) in ("", ":memory:"):
        return None
    path = Path(store_path)
    return path.with_name(path.name + ".projection.npz")


def fingerprint(record_hashes: np.ndarray, embeddings, method: str, random_state) -> str:
    """A short hex digest of what a projection depends on (rows, embeddings, method, seed)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(np.ascontiguousarray(record_hashes, dtype=np.uint64).tobytes())
    shape = np.shape(embeddings)
    digest.update(repr((tuple(shape), str(getattr(embeddings, "dtype", "")), method, random_state)).encode())
    if shape and shape[0]:
        rows = np.unique(np.linspace(0, shape[0] - 1, num=min(_SAMPLED_ROWS, shape[0])).astype(np.int64))
        sample = embeddings[rows]
        sample = sample.toarray() if hasattr(sample, "toarray") else np.asarray(sample)
        digest.update(np.ascontiguousarray(sample, dtype=np.float64).tobytes())
    return digest.hexdigest()


def load(path: Path | None, expected: str, n_rows: int) -> np.ndarray | None:
    """The cached (n_rows, 2) projection when its fingerprint is ``expected``; None otherwise."""
    if path is None or not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            if str(saved["fingerprint"]) != expected:
                return None
            xy = np.asarray(saved["xy"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # truncated or not ours: recompute and overwrite
    if xy.shape != (n_rows, 2) or not np.isfinite(xy).all():
        return None
    return xy


def save(path: Path | None, key: str, xy: np.ndarray) -> bool:
    """Write the projection atomically (a reader never sees half a file); False when it cannot be written."""
    if path is None:
        return False
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as file:
            np.savez(file, fingerprint=np.array(key), xy=np.asarray(xy, dtype=np.float32))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
        return True
    except OSError:  # a read-only folder or a full disk: the map still works, it recomputes next time
        temporary.unlink(missing_ok=True)
        return False
