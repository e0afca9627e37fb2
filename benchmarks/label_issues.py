"""Label issues: how many of the hand labels flagged as likely wrong really are, next to cleanlab?

Measures :func:`activelabel_widget.label_issues.find_label_issues` against cleanlab's
``cleanlab.filter.find_label_issues(labels, pred_probs, return_indices_ranked_by="self_confidence")``
(default ``filter_by="prune_by_noise_rate"``) on labels with known errors:

* data sets: scikit-learn's digits (pixels / 16, 10 classes) and the movie reviews bundled with
  the package (``load_movie_reviews(with_truth=True)``: ``positive``, ``negative``, ``plot``; the
  product's own text features, ``features.compute_features(Dataset(frame, text="text"))``,
  computed once on all 5,022 texts, no labels involved);
* per seed (0..4): a stratified draw of 300 rows, and 10% of them (30) given a different label
  at random (uniform over the other classes);
* out-of-fold probabilities two ways: ``same`` is scikit-learn's
  ``cross_val_predict(LogisticRegression(max_iter=1000), X, noisy, cv=5, method="predict_proba")``;
  ``ours`` is the product's committee, ``models.cross_validate([models.default_model(kind)], X, noisy,
  n_classes=K, random_state=seed).proba`` (stratified, shuffled 5-fold, the product's model);
* both methods flag from the same probabilities; the top k = 30 (the number of flipped labels) of
  each ranking is scored against the flipped rows: precision = flipped among those taken, recall
  = flipped found / 30. When fewer than 30 rows are flagged, precision is over those flagged and
  recall still over 30 (the table shows the mean number flagged).

Also reported: the out-of-fold accuracy against the true labels (how good the probabilities are),
on how many seeds the two methods flag exactly the same rows, and the time per call (median over
seeds). cleanlab runs with ``n_jobs=1``: its flags do not depend on it, and the time then holds no
process pool start-up.

Environment (outside the repository; cleanlab is a benchmark-only dependency)::

    python3 -m venv /tmp/bench-venv
    /tmp/bench-venv/bin/pip install cleanlab scikit-learn numpy pandas matplotlib
    /tmp/bench-venv/bin/pip install --no-deps -e .

Run from the repository root::

    /tmp/bench-venv/bin/python benchmarks/label_issues.py           # 5 seeds, saves the table
    /tmp/bench-venv/bin/python benchmarks/label_issues.py --seeds 2 # quicker, not saved

A run with the default seeds saves what it prints to ``benchmarks/results/label_issues.txt``.
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict, train_test_split

from activelabel_widget import models
from activelabel_widget.dataset import Dataset
from activelabel_widget.demo_data import MOVIE_REVIEW_LABELS, load_movie_reviews
from activelabel_widget.features import compute_features
from activelabel_widget.label_issues import find_label_issues

RESULTS = Path(__file__).parent / "results" / "label_issues.txt"
COMMAND = "/tmp/bench-venv/bin/python benchmarks/label_issues.py"
ROWS = 300
NOISE = 0.10
DEFAULT_SEEDS = 5


def load(name: str):
    """``(X, y, K, kind)`` of a data set: features of every row and true label codes."""
    if name == "digits":
        digits = load_digits()
        return digits.data / 16.0, digits.target, 10, "table"
    frame = load_movie_reviews(with_truth=True)
    y = frame["category"].map({label: code for code, label in enumerate(MOVIE_REVIEW_LABELS)}).to_numpy()
    X = compute_features(Dataset(frame.drop(columns="category"), text="text"))
    return X.tocsr(), y, len(MOVIE_REVIEW_LABELS), "text"


def draw(y: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, noisy labels, flipped positions)``: 300 stratified rows, 10% relabeled to another class."""
    rows, _ = train_test_split(np.arange(len(y)), train_size=ROWS, stratify=y, random_state=seed)
    rng = np.random.default_rng(seed)
    noisy = y[rows].copy()
    flipped = np.sort(rng.choice(ROWS, size=int(round(NOISE * ROWS)), replace=False))
    noisy[flipped] = (noisy[flipped] + rng.integers(1, k, size=len(flipped))) % k  # never the same class
    return rows, noisy, flipped


def out_of_fold(source: str, X, noisy: np.ndarray, k: int, kind: str, seed: int) -> np.ndarray:
    if source == "same":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cross_val_predict(LogisticRegression(max_iter=1000), X, noisy, cv=5, method="predict_proba")
    return models.cross_validate([models.default_model(kind)], X, noisy, n_classes=k, random_state=seed).proba


def ours(noisy, proba):
    return find_label_issues(noisy, proba).flagged


def cleanlab_default(noisy, proba):
    from cleanlab.filter import find_label_issues as cleanlab_find

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cleanlab_find(noisy, proba, return_indices_ranked_by="self_confidence", n_jobs=1)


METHODS = {"ours": ours, "cleanlab": cleanlab_default}


def run(seeds: int) -> list[dict]:
    rows_out = []
    for name in ("digits", "movie_reviews"):
        X_all, y_all, k, kind = load(name)
        for source in ("same", "ours"):
            cells = {method: {"precision": [], "recall": [], "flagged": [], "seconds": []} for method in METHODS}
            accuracy, same_flags = [], 0
            for seed in range(seeds):
                rows, noisy, flipped = draw(y_all, k, seed)
                proba = np.asarray(out_of_fold(source, X_all[rows], noisy, k, kind, seed), dtype=np.float64)
                if proba.shape != (ROWS, k) or not np.isfinite(proba).all():
                    raise RuntimeError(f"{name}/{source}: out-of-fold probabilities of shape {proba.shape} with NaN")
                accuracy.append(float((proba.argmax(axis=1) == y_all[rows]).mean()))
                flags = {}
                for method, find in METHODS.items():
                    if seed == 0:
                        find(noisy, proba)  # a warm-up call, so that imports are not timed
                    start = time.perf_counter()
                    flagged = np.asarray(find(noisy, proba))
                    cells[method]["seconds"].append(time.perf_counter() - start)
                    flags[method] = flagged
                    top = flagged[: len(flipped)]
                    hits = int(np.isin(top, flipped).sum())
                    cells[method]["precision"].append(hits / len(top) if len(top) else np.nan)
                    cells[method]["recall"].append(hits / len(flipped))
                    cells[method]["flagged"].append(len(flagged))
                same_flags += set(flags["ours"].tolist()) == set(flags["cleanlab"].tolist())
            for method, cell in cells.items():
                rows_out.append({"data": name, "source": source, "method": method, "accuracy": np.mean(accuracy),
                                 "same": f"{same_flags}/{seeds}", **cell})
    return rows_out


def table(results: list[dict], seeds: int) -> str:
    lines = [
        f"Label issues: top {int(NOISE * ROWS)} flagged of {ROWS} rows with {int(NOISE * ROWS)} labels flipped "
        f"({NOISE:.0%}), seeds 0..{seeds - 1}; mean +- sd over seeds",
        "precision = flipped among the top 30 (over those flagged when fewer than 30 are); recall = flipped found / 30",
        "same = seeds on which ours and cleanlab flag exactly the same rows; acc = out-of-fold accuracy against the "
        "true labels; ms = median time per call",
        f"python {platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
        f"cleanlab {_cleanlab_version()}",
        "",
        "data          | OOF  | acc   | method   | precision      | recall         | flagged | same | ms",
        "--- | --- | --- | --- | --- | --- | --- | --- | ---",
    ]
    for row in results:
        precision, recall = np.array(row["precision"]), np.array(row["recall"])
        lines.append(
            f"{row['data']:<13} | {row['source']:<4} | {row['accuracy']:.3f} | {row['method']:<8} | "
            f"{np.nanmean(precision):.3f} +- {np.nanstd(precision):.3f} | {recall.mean():.3f} +- {recall.std():.3f} | "
            f"{np.mean(row['flagged']):7.1f} | {row['same']:<4} | {1000 * np.median(row['seconds']):.2f}"
        )
    return "\n".join(lines)


def _cleanlab_version() -> str:
    import cleanlab

    return cleanlab.__version__


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help="number of seeds (default 5; saved only then)")
    args = parser.parse_args()
    started = time.perf_counter()
    text = table(run(args.seeds), args.seeds)
    text += f"\n\nwall time {time.perf_counter() - started:.0f} s"
    print(text)
    if args.seeds == DEFAULT_SEEDS:
        RESULTS.write_text(f"# {COMMAND}   (2-core machine)\n{text}\n")


if __name__ == "__main__":
    main()
