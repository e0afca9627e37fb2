"""The kernel's own time per answer from the card, at 3,000 and 1,000,000 rows.

Run:  .venv/bin/python benchmarks/answer_speed.py [--sizes 3000 1000000] [--answers 300]

Drives the card's real path with no browser: ``LabelingWidget.handle_intent`` with the answers
the page sends (label the record on screen, name the one it shows next), on a SQLite store in a
temp dir, with a table of Gaussian blobs (8 columns, 3 labels) and ``retrain_every=10`` run in
the background as in the notebook. Per answer it times the kernel's work: the commit (fsync
included), moving the session's card to the page's next record, and topping up the page's line
(the records after the card with their payloads, suggestions and votes), then the serialisation
of the traits that changed into the JSON the comm would send. ``preload=8`` is the card's
default; ``preload=1`` is the card without a line in the page (the kernel only sends its card).

Medians and 95th percentiles on a shared machine: compare the rows of one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ipywidgets.widgets.widget import _remove_buffers  # noqa: E402

from activelabel_widget import ActiveLabeler  # noqa: E402

LABELS = ["a", "b", "c"]


def blobs(n: int, d: int = 8, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=4.0, size=(3, d))
    X = centers[rng.integers(3, size=n)] + rng.normal(size=(n, d))
    return pd.DataFrame(X.astype(np.float32), columns=[f"x{i}" for i in range(d)])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(n: int, preload: int, answers: int) -> dict:
    df = blobs(n)
    with tempfile.TemporaryDirectory() as folder:
        al = ActiveLabeler(df, labels=LABELS, features=list(df.columns), store=Path(folder) / "speed.db",
                           retrain_every=10, preload=preload)
        widget = al.widget
        al.session.wait_idle(600)
        handle, encode = [], []
        try:
            for seq in range(1, answers + 1):
                card, ahead = widget.card, widget.upcoming
                intent = {"action": "label", "key": card["key"], "token": card["token"], "view": "bench", "seq": seq,
                          "label": LABELS[seq % 3], "suggested": None, "confidence": None,
                          "next": ahead[0]["key"] if ahead else None}
                started = time.perf_counter()
                widget.handle_intent(intent)
                handle.append(1000 * (time.perf_counter() - started))
                started = time.perf_counter()
                state = widget.get_state(["card", "upcoming", "progress", "suggestion", "votes", "answered", "image"])
                state, _, _ = _remove_buffers(state)  # image bytes travel as binary buffers, the rest as JSON
                json.dumps(state)
                encode.append(1000 * (time.perf_counter() - started))
            refused = sum(len(v["refused"]) for v in widget.answered.values())
            stored = len(al.labeled)
        finally:
            al.close()
    return {"n": n, "preload": preload, "handle": handle, "encode": encode, "refused": refused, "stored": stored}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[3000, 1_000_000])
    parser.add_argument("--answers", type=int, default=300)
    parser.add_argument("--preloads", nargs="+", type=int, default=[8, 1])
    args = parser.parse_args()
    print(f"kernel time per answer from the card ({args.answers} answers, table of 8 columns, retrain_every=10, "
          "fits in the background)")
    print(f"{'rows':>9} {'preload':>7} | {'handle median':>13} {'p95':>6} | {'encode median':>13} {'p95':>6} | "
          f"{'stored':>6} {'refused':>7}")
    for n in args.sizes:
        for preload in args.preloads:
            r = run(n, preload, args.answers)
            print(f"{n:>9,} {preload:>7} | {statistics.median(r['handle']):>10.2f} ms {percentile(r['handle'], .95):>6.2f} | "
                  f"{statistics.median(r['encode']):>10.2f} ms {percentile(r['encode'], .95):>6.2f} | "
                  f"{r['stored']:>6} {r['refused']:>7}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
