"""Weak supervision on real data: how good the weak labels are, and what they add to a model.

Data sets: scikit-learn's breast cancer (569 rows, 2 labels; threshold rules on a few
features), digits (1,797 rows, 10 labels; rules on pixel regions) and the package's movie
reviews (5,022 snippets, labels positive / negative / plot; keyword and regex rules). Each is
split 70/30 into a pool and a test set. N pool rows (50 and 200, drawn at random) are labeled
by hand; a logistic regression trained on them joins the heuristics as a weak classifier voting
through ``model_votes`` (threshold 0.8; on the hand-labeled rows its votes are out of fold, so
its estimated accuracy is honest).

For each aggregation the table gives, on the pool rows without a hand label, the share that got
a weak label (coverage) and the share of those that are right (accuracy); the share promoted
(confidence >= --min-confidence) and their accuracy; and the test accuracy of the same model
trained on hand + promoted labels, against hand labels alone (``hand only``, the baseline; the
ratio column is test accuracy / baseline's, from the same run). Means over --repeats draws.

Methods: ``majority``, ``weighted`` (the default), ``dawid_skene`` (EM label model, hand
labels clamped), ``dawid_skene/unsup`` (no hand labels), and ``snorkel`` (Snorkel's LabelModel,
unsupervised) when a Python with ``snorkel`` is found: the current one, or the interpreter named
by the SNORKEL_PYTHON environment variable (Snorkel is not a dependency of this project).

Then: the speed of applying heuristics to --rows rows (default 1,000,000) of review text, a
vectorised keyword rule and a row-wise function against ``DataFrame.apply`` per row (the way
Snorkel's PandasLFApplier runs), and of aggregating a label matrix of that many rows.

Run::

    SNORKEL_PYTHON=/path/to/python-with-snorkel python benchmarks/weak_supervision.py \\
        | tee benchmarks/results/weak_supervision.txt
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, train_test_split
from sklearn.preprocessing import StandardScaler

from activelabel_widget.demo_data import MOVIE_REVIEW_LABELS, load_movie_reviews
from activelabel_widget.weak import (
    aggregate,
    apply_heuristics,
    conflict_scores,
    keywords,
    labeling_function,
    model_votes,
    promote,
    regex,
    summarize,
)

warnings.filterwarnings("ignore", category=ConvergenceWarning)

VOTE_THRESHOLD = 0.8  # model_votes' default


# --- data sets and their heuristics -------------------------------------------------------------


@dataclass
class Task:
    name: str
    frame: pd.DataFrame  # what heuristics see
    features: np.ndarray | None  # model features (None: built per split, e.g. TF-IDF)
    truth: np.ndarray  # label codes
    labels: list
    heuristics: list
    text_column: str | None = None
    C: float = 1.0


def breast_cancer() -> Task:
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.drop(columns="target")
    labels = list(data.target_names)  # malignant, benign

    def above(column, threshold, label):
        lf = labeling_function(label=label, name=f"{column} > {threshold}", vectorized=True)
        return lf(lambda df: df[column] > threshold)

    def below(column, threshold, label):
        lf = labeling_function(label=label, name=f"{column} < {threshold}", vectorized=True)
        return lf(lambda df: df[column] < threshold)

    heuristics = [
        above("mean radius", 16, "malignant"),
        below("mean radius", 12, "benign"),
        above("worst concave points", 0.16, "malignant"),
        below("worst concave points", 0.10, "benign"),
        above("worst area", 1000, "malignant"),
        below("mean texture", 15, "benign"),
        above("mean texture", 23, "malignant"),
    ]
    features = StandardScaler().fit_transform(frame.to_numpy())
    return Task("breast cancer", frame, features, data.target.to_numpy(), labels, heuristics)


def digits() -> Task:
    data = load_digits()
    images = data.images  # (n, 8, 8), values 0..16
    frame = pd.DataFrame(data.data, columns=[f"r{r}c{c}" for r in range(8) for c in range(8)])
    labels = [str(d) for d in range(10)]

    def region(df, rows, cols):
        names = [f"r{r}c{c}" for r in rows for c in cols]
        return df[names].to_numpy().mean(axis=1)

    def rule(label, name, test):
        return labeling_function(label=label, name=name, vectorized=True)(test)

    heuristics = [
        rule("0", "hole in the middle, both sides inked",
             lambda df: (region(df, [3, 4], [3, 4]) < 3) & (region(df, [2, 3, 4, 5], [2]) > 9)
             & (region(df, [2, 3, 4, 5], [5]) > 8)),
        rule("1", "ink only in the central columns",
             lambda df: (region(df, range(8), [3, 4]) > 11) & (region(df, range(1, 7), [1, 6]) < 1.5)),
        rule("2", "full bottom bar, empty left middle",
             lambda df: (region(df, [6, 7], [2, 3, 4, 5, 6]) > 10) & (region(df, [3, 4], [1, 2]) < 3)),
        rule("4", "horizontal bar across row 4, empty bottom corners",
             lambda df: (region(df, [4], [1, 2, 3, 4, 5]) > 11) & (region(df, [7], [1, 5, 6]) < 2)),
        rule("6", "empty top right, inked bottom left",
             lambda df: (region(df, [0, 1, 2, 3], [5, 6]) < 1.5) & (region(df, [4, 5, 6], [2]) > 12)),
        rule("7", "top bar, empty bottom right",
             lambda df: (region(df, [0, 1], [2, 3, 4, 5, 6]) > 10) & (region(df, [6, 7], [5, 6]) < 1)),
        rule("9", "loop on top, empty lower left",
             lambda df: (region(df, [4, 5], [1, 2, 3]) < 3) & (region(df, [2, 3], [5]) > 12)),
        rule("5", "top bar, empty right under it",
             lambda df: (region(df, [0], [3, 4, 5]) > 11) & (region(df, [2, 3], [5, 6]) < 2)),
    ]
    return Task("digits", frame, data.data / 16.0, data.target, labels, heuristics)


def movie_reviews() -> Task:
    frame = load_movie_reviews(with_truth=True)
    truth = pd.Index(MOVIE_REVIEW_LABELS).get_indexer(frame.pop("category"))

    @labeling_function(label="plot", vectorized=True)
    def long_text(df):
        return df.text.str.len() > 300

    heuristics = [
        keywords("positive", column="text", name="praise",
                 words=["masterpiece", "brilliant", "superb", "excellent", "wonderful", "terrific", "best"]),
        keywords("positive", column="text", name="enjoyment",
                 words=["enjoy", "fun", "charming", "delight", "beautiful", "great", "moving", "hilarious"]),
        keywords("negative", column="text", name="contempt",
                 words=["worst", "awful", "waste", "pointless", "stupid", "tedious", "boring", "dull"]),
        keywords("negative", column="text", name="letdown",
                 words=["bad", "mess", "fails", "predictable", "clich", "flat", "disappoint", "lacks",
                        "unfortunately"]),
        long_text,
        regex("plot", column="text", name="actor in parentheses", pattern=r"\([A-Z][a-z]+ [A-Z][a-z]+\)", case=True),
        keywords("plot", column="text", name="narration", words=["his wife", "her husband", "finds himself", "must "]),
    ]
    return Task("movie reviews", frame, None, truth, list(MOVIE_REVIEW_LABELS), heuristics, text_column="text", C=10.0)


# --- one draw ------------------------------------------------------------------------------------


def full_proba(model, X, n_classes):
    """predict_proba with one column per label code, zeros for labels the model never saw."""
    out = np.zeros((X.shape[0], n_classes))
    out[:, model.classes_] = model.predict_proba(X)
    return out


def fit(X, y, C):
    return LogisticRegression(C=C, max_iter=2000).fit(X, y)


def model_proba(X_pool, hand_positions, hand_y, n_classes, C, seed):
    """The weak classifier's probabilities on the pool: out of fold on the hand-labeled rows."""
    proba = full_proba(fit(X_pool[hand_positions], hand_y, C), X_pool, n_classes)
    folds = KFold(n_splits=5, shuffle=True, random_state=seed)
    for train, held in folds.split(hand_positions):
        if len(np.unique(hand_y[train])) < 2:
            proba[hand_positions[held]] = np.nan  # cannot train on one label: abstain there
            continue
        model = fit(X_pool[hand_positions[train]], hand_y[train], C)
        proba[hand_positions[held]] = full_proba(model, X_pool[hand_positions[held]], n_classes)
    return proba


@dataclass
class Draw:
    task: Task
    n_hand: int
    seed: int
    matrix: np.ndarray  # pool rows x (heuristics + weak classifier)
    proba: np.ndarray  # the weak classifier's probabilities on the pool
    hand: np.ndarray  # pool hand codes, -1 where none
    pool_truth: np.ndarray
    X_pool: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    names: list


def make_draw(task: Task, n_hand: int, seed: int) -> Draw:
    positions = np.arange(len(task.truth))
    pool, test = train_test_split(positions, test_size=0.3, random_state=seed, stratify=task.truth)
    if task.features is None:
        vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2))
        X_pool = vectorizer.fit_transform(task.frame[task.text_column].iloc[pool])
        X_test = vectorizer.transform(task.frame[task.text_column].iloc[test])
    else:
        X_pool, X_test = task.features[pool], task.features[test]
    rng = np.random.default_rng(seed)
    pool_truth = task.truth[pool]
    while True:
        hand_positions = np.sort(rng.choice(len(pool), n_hand, replace=False))
        if len(np.unique(pool_truth[hand_positions])) >= 2:
            break
    hand = np.full(len(pool), -1)
    hand[hand_positions] = pool_truth[hand_positions]
    result = apply_heuristics(task.heuristics, task.frame.iloc[pool], task.labels)
    if result.errors:
        raise RuntimeError(f"{task.name}: heuristics failed: {result.errors}")
    proba = model_proba(X_pool, hand_positions, pool_truth[hand_positions], len(task.labels), task.C, seed)
    matrix = np.column_stack([result.matrix, model_votes(proba, threshold=VOTE_THRESHOLD)])
    names = result.names + [f"logistic regression on {n_hand} labels"]
    return Draw(task, n_hand, seed, matrix, proba, hand, pool_truth, X_pool, X_test, task.truth[test], names)


def print_thresholds(draws: list[Draw], thresholds=(0.5, 0.6, 0.7, 0.8, 0.9, 0.95)):
    """Coverage and precision of the weak classifier's votes per threshold, on rows without a hand label."""
    rows = []
    for draw in draws:
        unlabeled = draw.hand < 0
        top = np.nan_to_num(draw.proba[unlabeled], nan=0).argmax(axis=1)
        overall = _share(top == draw.pool_truth[unlabeled])
        record = {"data": draw.task.name, "N": draw.n_hand, "accuracy (all rows)": overall}
        for threshold in thresholds:
            votes = model_votes(draw.proba[unlabeled], threshold=threshold)
            voted = votes >= 0
            record[f"{threshold} cov"] = voted.mean()
            record[f"{threshold} prec"] = _share(votes[voted] == draw.pool_truth[unlabeled][voted])
        rows.append(record)
    table = pd.DataFrame(rows).groupby(["data", "N"], sort=False).mean()
    print(table.to_string(float_format=lambda v: f"{v:.2f}", na_rep="-"))


# --- Snorkel, out of process ---------------------------------------------------------------------

SNORKEL_SCRIPT = textwrap.dedent(
    """
    import sys, numpy as np
    from snorkel.labeling.model import LabelModel
    jobs = np.load(sys.argv[1])
    out = {}
    for key in jobs.files:
        if not key.startswith("L_"):
            continue
        name = key[2:]
        L = jobs[key].astype(int)
        k = int(jobs["k_" + name])
        model = LabelModel(cardinality=k, verbose=False)
        model.fit(L, n_epochs=500, lr=0.01, seed=int(jobs["seed_" + name]), progress_bar=False)
        out["p_" + name] = model.predict_proba(L)
    np.savez(sys.argv[2], **out)
    """
)


def snorkel_python() -> str | None:
    candidate = os.environ.get("SNORKEL_PYTHON")
    if candidate:
        return candidate
    try:
        import snorkel  # noqa: F401
    except ImportError:
        return None
    return sys.executable


def snorkel_probas(draws: list[Draw]) -> dict | None:
    """Snorkel LabelModel posteriors per draw (unsupervised), or None when Snorkel is missing."""
    python = snorkel_python()
    if python is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        jobs, out, script = (Path(folder) / name for name in ("jobs.npz", "out.npz", "run.py"))
        arrays = {}
        for i, draw in enumerate(draws):
            arrays[f"L_{i}"] = draw.matrix
            arrays[f"k_{i}"] = np.array(len(draw.task.labels))
            arrays[f"seed_{i}"] = np.array(draw.seed)
        np.savez(jobs, **arrays)
        script.write_text(SNORKEL_SCRIPT)
        done = subprocess.run([python, str(script), str(jobs), str(out)], capture_output=True, text=True)
        if done.returncode != 0:
            print(f"# snorkel failed, left out: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            return None
        result = np.load(out)
        return {i: result[f"p_{i}"] for i in range(len(draws))}


def decide(proba: np.ndarray, covered: np.ndarray):
    """Codes and confidences from label-model posteriors, ties abstaining, as ``aggregate`` does."""
    top = proba.argmax(axis=1)
    ordered = np.sort(proba, axis=1)
    decided = covered & (ordered[:, -1] - ordered[:, -2] > 1e-9)
    codes = np.where(decided, top, -1)
    confidence = np.where(decided, ordered[:, -1], np.nan)
    return codes, confidence


# --- evaluation ----------------------------------------------------------------------------------


def evaluate(draw: Draw, codes, confidence, min_confidence) -> dict:
    unlabeled = draw.hand < 0
    covered = unlabeled & (codes >= 0)
    promoted = unlabeled & (codes >= 0) & (np.nan_to_num(confidence, nan=-1) >= min_confidence)
    rows = np.flatnonzero((draw.hand >= 0) | promoted)
    y = np.where(draw.hand >= 0, draw.hand, codes)[rows]
    test_accuracy = test_score(draw, rows, y)
    return {
        "coverage": covered.sum() / unlabeled.sum(),
        "weak acc": _share(codes[covered] == draw.pool_truth[covered]),
        "promoted": promoted.sum() / unlabeled.sum(),
        "promoted acc": _share(codes[promoted] == draw.pool_truth[promoted]),
        "test acc": test_accuracy,
    }


def test_score(draw: Draw, rows, y) -> float:
    model = fit(draw.X_pool[rows], y, draw.task.C)
    return float((model.predict(draw.X_test) == draw.y_test).mean())


def _share(hits: np.ndarray) -> float:
    return float(hits.mean()) if hits.size else float("nan")


def run_quality(tasks, sizes, repeats, min_confidence):
    draws = [make_draw(task, n, seed) for task in tasks for n in sizes for seed in range(repeats)]
    snorkel = snorkel_probas(draws)
    records = []
    for i, draw in enumerate(draws):
        K = len(draw.task.labels)
        hand_rows = np.flatnonzero(draw.hand >= 0)
        base = {"data": draw.task.name, "N": draw.n_hand, "seed": draw.seed}
        records.append(base | {"method": "hand only", "test acc": test_score(draw, hand_rows, draw.hand[hand_rows])})
        for method, hand in [("majority", draw.hand), ("weighted", draw.hand), ("dawid_skene", draw.hand),
                             ("dawid_skene/unsup", None)]:
            weak = aggregate(draw.matrix, n_classes=K, hand_codes=hand, method=method.split("/")[0])
            if method == "weighted":
                assert not (promote(weak, hand_codes=draw.hand, min_confidence=min_confidence) & (draw.hand >= 0)).any()
            records.append(base | {"method": method} | evaluate(draw, weak.codes, weak.confidence, min_confidence))
        if snorkel is not None:
            codes, confidence = decide(snorkel[i], (draw.matrix >= 0).any(axis=1))
            records.append(base | {"method": "snorkel"} | evaluate(draw, codes, confidence, min_confidence))
    return pd.DataFrame(records), draws, snorkel is not None


def print_quality(frame: pd.DataFrame, order):
    columns = ["coverage", "weak acc", "promoted", "promoted acc", "test acc"]
    table = frame.groupby(["data", "N", "method"], sort=False)[columns].mean()
    baseline = table.xs("hand only", level="method")["test acc"]
    table["vs hand only"] = [row["test acc"] / baseline.loc[(data, n)] for (data, n, _), row in table.iterrows()]
    table = table.reindex(order, level="method")
    lines = table.to_string(float_format=lambda v: f"{v:.3f}", na_rep="-").splitlines()
    print("\n".join(lines))


def print_summary(draw: Draw):
    table = summarize(draw.matrix, draw.names, hand_codes=draw.hand, n_classes=len(draw.task.labels),
                      labels=draw.task.labels)
    table["labels"] = table["labels"].map(lambda labels: ", ".join(map(str, labels)))
    true_accuracy = []
    for column in draw.matrix.T:
        voted = column >= 0
        true_accuracy.append(_share(column[voted] == draw.pool_truth[voted]))
    table["true accuracy"] = true_accuracy
    weak = aggregate(draw.matrix, n_classes=len(draw.task.labels), hand_codes=draw.hand)
    table["weighted est."] = weak.accuracies
    print(table.to_string(float_format=lambda v: f"{v:.3f}", na_rep="-"))


# --- speed ---------------------------------------------------------------------------------------


def timed(func, *args, repeats: int = 1, **kwargs):
    """(best time over ``repeats`` runs in seconds, the last run's value)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        value = func(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, value


def run_speed(n_rows: int, seed: int, repeats: int):
    texts = load_movie_reviews()["text"]
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"text": texts.to_numpy()[rng.integers(0, len(texts), n_rows)]})
    words = ["worst", "awful", "waste", "pointless", "stupid", "tedious", "boring", "dull"]
    labels = list(MOVIE_REVIEW_LABELS)

    @labeling_function(label="negative", name="row-wise")
    def rowwise(row):
        text = row.text.lower()
        return any(word in text for word in words)

    def snorkel_style(df):
        return df.apply(lambda row: any(word in row["text"].lower() for word in words), axis=1)

    rows = []
    baseline_seconds, baseline = timed(snorkel_style, frame, repeats=repeats)
    rows.append(("DataFrame.apply per row (baseline)", baseline_seconds))
    keyword_rule = keywords("negative", column="text", words=words)
    keyword_seconds, by_keywords = timed(apply_heuristics, [keyword_rule], frame, labels, repeats=repeats)
    rows.append(("keywords(), vectorised", keyword_seconds))
    rowwise_seconds, by_rows = timed(apply_heuristics, [rowwise], frame, labels, repeats=repeats,
                                     progress=lambda done, total: None)
    rows.append(("@labeling_function row-wise", rowwise_seconds))
    regex_rule = regex("plot", column="text", pattern=r"\([A-Z][a-z]+ [A-Z][a-z]+\)", case=True)
    regex_seconds, _ = timed(apply_heuristics, [regex_rule], frame, labels, repeats=repeats)
    rows.append(("regex(), vectorised", regex_seconds))
    same = np.array_equal(by_keywords.matrix, by_rows.matrix) and np.array_equal(
        by_rows.matrix[:, 0] >= 0, baseline.to_numpy(dtype=bool))
    print(f"Applying one 8-word negative-keyword rule to {n_rows:,} review snippets, best of {repeats} runs "
          f"(all three give the same votes: {same})")
    print(f"{'how':<38}{'seconds':>9}{'rows/s':>14}{'speed-up':>10}")
    for name, seconds in rows:
        print(f"{name:<38}{seconds:>9.2f}{n_rows / seconds:>14,.0f}{baseline_seconds / seconds:>9.1f}x")

    print()
    matrix = np.column_stack([by_keywords.matrix[:, 0]] + [
        np.where(rng.random(n_rows) < 0.3, rng.integers(0, 3, n_rows), -1) for _ in range(7)]).astype(np.int16)
    hand = np.where(rng.random(n_rows) < 0.001, rng.integers(0, 3, n_rows), -1)
    steps = [("summarize", lambda: summarize(matrix, [f"h{j}" for j in range(8)], hand_codes=hand, n_classes=3)),
             ("conflict_scores", lambda: conflict_scores(matrix))]
    steps += [(f"aggregate, {method}", lambda method=method: aggregate(matrix, n_classes=3, hand_codes=hand,
                                                                       method=method))
              for method in ("majority", "weighted", "dawid_skene")]
    timings = [(name, timed(step, repeats=repeats)[0]) for name, step in steps]
    reference = timings[0][1]
    print(f"Label matrix of {n_rows:,} rows x 8 heuristics, 3 labels, 0.1% hand-labeled, best of {repeats} runs")
    print(f"{'step':<38}{'seconds':>9}{'rows/s':>14}{'vs summarize':>14}")
    for name, seconds in timings:
        print(f"{name:<38}{seconds:>9.2f}{n_rows / seconds:>14,.0f}{seconds / reference:>13.1f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--min-confidence", type=float, default=0.9)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--timing-repeats", type=int, default=3)
    args = parser.parse_args()

    print("$ python benchmarks/weak_supervision.py " + " ".join(sys.argv[1:]))
    print()
    tasks = [breast_cancer(), digits(), movie_reviews()]
    started = time.perf_counter()
    frame, draws, with_snorkel = run_quality(tasks, args.sizes, args.repeats, args.min_confidence)
    order = ["hand only", "majority", "weighted", "dawid_skene", "dawid_skene/unsup"]
    order += ["snorkel"] if with_snorkel else []
    print(f"Weak labels on the pool rows without a hand label, and a logistic regression trained on hand + "
          f"promoted (confidence >= {args.min_confidence}) labels; mean of {args.repeats} draws"
          + ("" if with_snorkel else "; snorkel not found, left out"))
    print_quality(frame, order)
    print()
    for task_name in [task.name for task in tasks]:
        draw = next(d for d in draws if d.task.name == task_name and d.n_hand == max(args.sizes) and d.seed == 0)
        print(f"Heuristics on {task_name}, {draw.n_hand} hand labels (draw 0): summarize() "
              "+ true accuracy on the pool + the weighted method's estimate")
        print_summary(draw)
        print()
    print("The weak classifier's votes per model_votes threshold: share of rows without a hand label it votes "
          "on (cov) and share of those votes that are right (prec); mean over draws")
    print_thresholds(draws)
    print()
    print(f"(quality part: {time.perf_counter() - started:.0f} s)")
    print()
    run_speed(args.rows, seed=0, repeats=args.timing_repeats)


if __name__ == "__main__":
    main()
