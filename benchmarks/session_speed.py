"""Click-path and rescoring speed of a LabelingSession on large synthetic pools.

Run:  .venv/bin/python benchmarks/session_speed.py [--sizes 10000 100000 1000000] [--dims 64 384]

For each pool size n and dimension d (Gaussian blobs, 3 labels, 300 rows labeled first):

- ``label+next``: ``session.label(current, ...)`` end to end: the SQLite commit of the event
  (fsync included) and taking the next record from the line, median over 200 clicks;
- ``next only``: the same minus the commit (the line's pop and the card payload), to show what
  does not depend on the disk;
- ``rescore``: what a background round does after a fit to the pool: the committee's
  probabilities in chunks plus ranking with the default strategy, against the floor
  ``predict_proba`` + ``argpartition`` of the uncertainty over the same pool (ratio = ours/floor);
- ``to_frame``: ``session.to_frame()`` (every row, label columns, the model's prediction) with the
  700 labels made above, beside ``df.copy()`` of the user's frame, the floor of any such hand-off;
- peak RSS of the process after the size's runs.

Numbers are medians on a shared machine; compare ratios within one run, not across runs.

With ``--rounds``, one text round instead: the product's ``LabelingSession`` with its default text
features, its round run inline (``retrain(wait=True)``: fit, 5-fold cross-validated estimate,
scores over the pool, ranking) and ``FitRecord.seconds``, at 50/100/200/300 labels, on the same
rows in the same order, for each variant of ``--variants``:

- ``default``: the product as it is (hashed TF-IDF features; a Newton-CG logistic regression
  solved on the columns the labeled rows use, ``models.UsedColumnsLogisticRegression``);
- ``TF-IDF vocabulary (before)``: the product before hashing, in the same session: its text
  features (``TfidfVectorizer(sublinear_tf=True, max_features=100_000, ngram_range=(1, 2))``
  fitted on every text, given to the pool with ``use_features``) and its model
  (``LogisticRegression(C=10, solver="newton-cg", max_iter=1000, class_weight="balanced")``,
  passed as ``model=``);
- ``L-BFGS (earlier)``: the default features with the model before Newton-CG
  (``LogisticRegression(C=10, max_iter=1000, class_weight="balanced")``) passed as ``model=``.

Accuracy is the round's model on 1,000 rows never labeled. Data, all built from the bundled
movie reviews (nothing downloaded):

- ``reviews``: the 5,022 snippets (3 labels);
- ``long docs 3k`` / ``long docs 20k``: news-length documents, each 8 snippets joined, 4 of its
  label and 4 drawn from all (so a third of its text argues for another label), 300 words on
  average (median 180);
- ``text 1M`` / ``table 1M``: the frames of ``--first-suggestion`` at 1,000,000 rows (the
  default model only).

Run:  .venv/bin/python benchmarks/session_speed.py --rounds [--round-sets reviews "long docs 3k"]

With ``--first-suggestion``: the time from creating a ``LabelingSession`` (background rounds, as
the card runs it) on a store that already holds 10 labels to the first suggestion on its card
(``session.suggestion`` no longer None), and to the pool being ready (every row scored, embeddings
and index built); text (the review snippets repeated, each made unique) and table data (20 numeric
columns, 3 Gaussian blobs) at 10,000, 100,000 and 1,000,000 rows. Each size runs in fresh
processes: one writes the store, one measures. Memory: ``frame MB`` is the measuring process's
resident size with the user's frame built (interpreter and libraries included), ``peak RSS MB``
its peak from then until the pool is ready (the peak is reset after the frame is built, so the
frame's construction does not count), ``labeler MB`` the difference: what the labeler adds. Then
``to_frame s``: ``session.to_frame()`` (every row with its label columns and prediction), median of
3, beside ``df.copy s``, the floor of any hand-off that adds columns to the user's frame.

Run:  .venv/bin/python benchmarks/session_speed.py --first-suggestion [--sizes 10000 100000] [--kinds text]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activelabel_widget import LabelingSession  # noqa: E402
from activelabel_widget.demo_data import MOVIE_REVIEW_LABELS, load_movie_reviews  # noqa: E402
from activelabel_widget import models as _models  # noqa: E402
from activelabel_widget.strategies import confidence, rank_pool  # noqa: E402

LABELS = ["a", "b", "c"]


def pool(n: int, d: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(3, d)).astype(np.float32)
    truth = rng.integers(0, 3, size=n)
    X = centers[truth] + rng.normal(size=(n, d)).astype(np.float32)
    frame = pd.DataFrame({"title": [f"record {i}" for i in range(n)]})
    return frame, X, truth


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def run(n: int, d: int) -> dict:
    frame, X, truth = pool(n, d)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        session = LabelingSession(frame, features=["title"], labels=LABELS, store=Path(folder) / "s.db",
                                  embeddings=X, background=False, retrain_every=10**9)
        session.pool.use_features(X)  # the model learns from the embeddings themselves
        construct = time.perf_counter() - started
        positions = np.random.default_rng(1).choice(n, size=300, replace=False)
        session.label_many(positions, [LABELS[t] for t in truth[positions]], source="hand")
        session.retrain(wait=True)

        clicks = []
        for _ in range(200):
            key = session.current
            t0 = time.perf_counter()
            session.label(key, LABELS[truth[session.current_position]])
            clicks.append(time.perf_counter() - t0)

        skips = []
        for _ in range(200):
            t0 = time.perf_counter()
            session.skip()
            session.current_payload()
            skips.append(time.perf_counter() - t0)

        frames, copies = [], []
        for _ in range(3):
            t0 = time.perf_counter()
            session.to_frame()
            frames.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            frame.copy()  # the floor: any frame of every row with columns added copies the user's first
            copies.append(time.perf_counter() - t0)

        codes = session.hand_codes()
        labeled = np.flatnonzero(codes >= 0)
        committee = _models.fit_committee([LogisticRegression(max_iter=1000)], X[labeled], codes[labeled],
                                          n_classes=3)
        mask = codes >= 0
        ours, floor = [], []
        for _ in range(3):
            t0 = time.perf_counter()
            proba, each = _models.predict_proba(committee, X)
            rank_pool("hybrid", k=512, labeled_mask=mask, proba=proba, committee_proba=each, index=session.pool.index)
            ours.append(time.perf_counter() - t0)

            t0 = time.perf_counter()
            raw = committee.estimators[0].predict_proba(X)
            uncertainty = 1.0 - confidence(raw)
            uncertainty[mask] = -np.inf
            np.argpartition(-uncertainty, 512)[:512]
            floor.append(time.perf_counter() - t0)
        session.close()
    return {
        "n": n, "d": d, "construct s": round(construct, 2),
        "label+next ms": round(median_ms(clicks), 2), "label+next p95 ms": round(np.percentile(clicks, 95) * 1000, 2),
        "skip+next ms": round(median_ms(skips), 3),
        "rescore s": round(statistics.median(ours), 3), "floor s": round(statistics.median(floor), 3),
        "rescore/floor": round(statistics.median(ours) / statistics.median(floor), 2),
        "to_frame s": round(statistics.median(frames), 3), "df.copy s": round(statistics.median(copies), 3),
        "peak RSS MB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


ROUND_SETS = ("reviews", "long docs 3k", "long docs 20k", "text 1M", "table 1M")
ROUND_LABELS = (50, 100, 200, 300)


def text_set(name: str, seed: int = 0) -> pd.DataFrame:
    """One of :data:`ROUND_SETS` as a frame with ``text`` and the true ``category``."""
    reviews = load_movie_reviews(with_truth=True)
    if name == "reviews":
        return reviews[["text", "category"]].reset_index(drop=True)
    n = {"long docs 3k": 3_000, "long docs 20k": 20_000}[name]
    rng = np.random.default_rng(seed)
    texts, categories = reviews["text"].to_numpy(), reviews["category"].to_numpy()
    of_label = {label: np.flatnonzero(categories == label) for label in MOVIE_REVIEW_LABELS}
    truth = rng.choice(MOVIE_REVIEW_LABELS, size=n)
    documents = [" ".join(texts[np.concatenate([rng.choice(of_label[label], 4), rng.integers(len(texts), size=4)])])
                 for label in truth]
    return pd.DataFrame({"text": documents, "category": truth})


def previous_text_model():
    """The default text model before Newton-CG: the same logistic regression, solved by L-BFGS."""
    return LogisticRegression(C=10.0, max_iter=1000, class_weight="balanced")


def round_set(name: str) -> tuple[pd.DataFrame, dict, np.ndarray]:
    """``(frame, session options, true label names)`` of one of :data:`ROUND_SETS`."""
    if name in ("text 1M", "table 1M"):
        frame, options, codes = first_suggestion_frame(name.split()[0], 1_000_000)
        return frame, options, np.asarray(options["labels"], dtype=object)[codes]
    frame = text_set(name)
    return frame[["text"]], dict(text="text", labels=list(MOVIE_REVIEW_LABELS)), frame["category"].to_numpy()


VARIANTS = ("TF-IDF vocabulary (before)", "default", "L-BFGS (earlier)")


def vocabulary_features(texts: pd.Series):
    """The text features before hashing: a TF-IDF vocabulary of uni- and bigrams fitted on every text."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=1, max_features=100_000, ngram_range=(1, 2),
                                 dtype=np.float32)
    return vectorizer.fit_transform(texts.tolist())


def run_rounds(name: str, model_name: str) -> dict:
    """Round time and held-out accuracy of one data set with one model, at each of :data:`ROUND_LABELS`."""
    frame, options, truth = round_set(name)
    rng = np.random.default_rng(1)
    order = rng.permutation(len(frame))
    test, to_label = order[:1000], order[1000:]
    model = {"L-BFGS (earlier)": previous_text_model(),
             "TF-IDF vocabulary (before)": LogisticRegression(C=10.0, solver="newton-cg", max_iter=1000,
                                                              class_weight="balanced")}.get(model_name)
    started = time.perf_counter()
    session = LabelingSession(frame, store=":memory:", model=model, background=False, retrain_every=10**9, **options)
    if model_name == "TF-IDF vocabulary (before)":
        session.pool.use_features(vocabulary_features(frame[options["text"]]))
    session.pool.prepare()  # features, embeddings and index: the session's start, timed with its construction
    row = {"data": name, "rows": len(frame), "model": model_name, "start s": round(time.perf_counter() - started, 1)}
    done = 0
    for n in ROUND_LABELS:
        batch = to_label[done:n]
        session.label_many(batch, list(truth[batch]), source="hand")
        done = n
        seconds = []
        for _ in range(3):
            session.retrain(wait=True)
            seconds.append(session.fit_history[-1].seconds)
        predicted = session.to_frame()["prediction"].to_numpy()[test]
        row[f"round s @{n}"] = round(statistics.median(seconds), 2)
        row[f"acc @{n}"] = round(float((predicted == truth[test]).mean()), 3)
    row["peak RSS MB"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    session.close()
    return row


def first_suggestion_frame(kind: str, n: int) -> tuple[pd.DataFrame, dict, np.ndarray]:
    """``(frame, session options, true label codes)`` for ``--first-suggestion`` (and the 1M round sets)."""
    if kind == "text":
        reviews = load_movie_reviews(with_truth=True)
        texts, categories = reviews["text"].tolist(), reviews["category"].to_numpy()
        frame = pd.DataFrame({"text": [texts[i % len(texts)] + ("" if i < len(texts) else f" ({i})") for i in range(n)]})
        truth = np.array([MOVIE_REVIEW_LABELS.index(categories[i % len(texts)]) for i in range(n)])
        return frame, dict(text="text", labels=list(MOVIE_REVIEW_LABELS)), truth
    _, values, truth = pool(n, 20)  # the 3 Gaussian blobs of the click-path table, 20 columns
    frame = pd.DataFrame(values, columns=[f"x{j}" for j in range(20)])
    return frame, dict(features=list(frame.columns), labels=LABELS), truth


def _write_store(kind: str, n: int, path: str) -> None:
    """(A child process) a store with 10 labels, 4/3/3 over the three labels, on the frame's first rows."""
    import os

    frame, options, truth = first_suggestion_frame(kind, n)
    session = LabelingSession(frame, store=path, retrain_every=10**9, **options)
    labels = options["labels"]
    rows = np.concatenate([np.flatnonzero(truth == code)[:count] for code, count in enumerate((4, 3, 3))])
    session.label_many(rows, [labels[truth[row]] for row in rows], source="hand")
    session.close()
    os._exit(0)  # without waiting for the round that started preparing the pool


def _memory_mb(field: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak since the last reset) of this process, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _measure_first_suggestion(kind: str, n: int, path: str, queue) -> None:
    """(A child process) open the labeled store and time the first suggestion; put the figures on ``queue``."""
    import gc
    import os

    frame, options, _ = first_suggestion_frame(kind, n)
    gc.collect()
    rss_before = _memory_mb("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # resets the peak (VmHWM) to the resident size now: the frame's construction is over
    started = time.perf_counter()
    session = LabelingSession(frame, store=path, **options)
    created = time.perf_counter() - started
    suggestion = ready = None
    while suggestion is None or ready is None:
        now = time.perf_counter() - started
        if suggestion is None and session.suggestion is not None:
            suggestion = now
        if ready is None and session.pool.ready:
            ready = now
        if now > 1800:
            break
        time.sleep(0.01)
    peak = _memory_mb("VmHWM")  # before the hand-off below, which copies the frame
    handoffs, copies = [], []
    for _ in range(3):  # the hand-off of every row once the pool is scored, beside its floor (a copy of the frame)
        t0 = time.perf_counter()
        session.to_frame()
        handoffs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        frame.copy()
        copies.append(time.perf_counter() - t0)
    queue.put({"kind": kind, "n": n, "labels in store": session.progress["labeled"], "create s": round(created, 2),
               "first suggestion s": None if suggestion is None else round(suggestion, 1),
               "pool ready s": None if ready is None else round(ready, 1),
               "frame MB": round(rss_before), "peak RSS MB": round(peak), "labeler MB": round(peak - rss_before),
               "to_frame s": round(statistics.median(handoffs), 3), "df.copy s": round(statistics.median(copies), 3)})
    queue.close()
    queue.join_thread()  # the figures are sent before the process ends without waiting for its rounds
    session.close()
    os._exit(0)


def main_first_suggestion(sizes, kinds) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    rows = []
    for kind in kinds:
        for n in sizes:
            with tempfile.TemporaryDirectory() as folder:
                path = str(Path(folder) / "labels.db")
                writer = context.Process(target=_write_store, args=(kind, n, path))
                writer.start()
                writer.join()
                queue = context.Queue()
                measurer = context.Process(target=_measure_first_suggestion, args=(kind, n, path, queue))
                measurer.start()
                rows.append(queue.get())
                measurer.join()
            print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
    print()
    print(pd.DataFrame(rows).to_string(index=False))


def main_rounds(sets, variants) -> None:
    rows = []
    for name in sets:
        # at a million rows the default only: the earlier variants take minutes and gigabytes there
        for model_name in ("default",) if name.endswith("1M") else variants:
            rows.append(run_rounds(name, model_name))
            print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
    print()
    print(pd.DataFrame(rows).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--dims", type=int, nargs="+", default=[64, 384])
    parser.add_argument("--rounds", action="store_true", help="time text rounds instead (see the docstring)")
    parser.add_argument("--round-sets", nargs="+", default=list(ROUND_SETS), choices=ROUND_SETS)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS[:2]), choices=VARIANTS,
                        help="with --rounds: which features and model (see the docstring)")
    parser.add_argument("--first-suggestion", action="store_true",
                        help="time to the first suggestion instead (see the docstring)")
    parser.add_argument("--kinds", nargs="+", default=["table", "text"], choices=["table", "text"],
                        help="with --first-suggestion: which data")
    args = parser.parse_args()
    if args.first_suggestion:
        main_first_suggestion(args.sizes, args.kinds)
        return
    if args.rounds:
        main_rounds(args.round_sets, args.variants)
        return
    rows = []
    for d in args.dims:
        for n in args.sizes:
            rows.append(run(n, d))
            print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
    print()
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
