"""The kernel's own time per answer from the card, at 3,000 and 1,000,000 rows.

Run:  .venv/bin/python benchmarks/answer_speed.py [--sizes 3000 1000000] [--answers 300] [--kind table|photos]
                                                  [--batch 1] [--busy]

Drives the card's real path with no browser: ``LabelingWidget.handle_intent`` with the answers
the page sends (label the record on screen, name the one it shows next), on a SQLite store in a
temp dir, with a table of Gaussian blobs (8 columns, 3 labels) and ``retrain_every=10`` run in
the background as in the notebook. Per answer it times the kernel's work: the commit (fsync
included), moving the session's card to the page's next record, and topping up the page's line
(the records after the card with their payloads, suggestions and votes), then the serialisation
of the traits that changed into the JSON the comm would send. ``preload=8`` is the card's
default; ``preload=1`` is the card without a line in the page (the kernel only sends its card).

``--batch K`` sends the answers K at a time in one ``answers`` message, as the page does when it
presses on while earlier answers are unsettled (each says it was pressed ``K`` answers behind);
the times are then per answer (the message's time over K). ``messages/answer`` counts every
message the kernel sends the page during the run (with each answer, and from the rounds between
them: a fit's progress, a new ranking) over the answers. ``--busy`` keeps one core busy with a
second process meanwhile, as ``browser_load.py --busy yes`` does.

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
from browser_load import busy_core  # noqa: E402

LABELS = ["a", "b", "c"]


def blobs(n: int, d: int = 8, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=4.0, size=(3, d))
    X = centers[rng.integers(3, size=n)] + rng.normal(size=(n, d))
    return pd.DataFrame(X.astype(np.float32), columns=[f"x{i}" for i in range(d)])


def photos(n: int, side: int = 640, distinct: int = 20, seed: int = 0) -> pd.DataFrame:
    """``n`` rows of photo-like colour images (``distinct`` different ones, repeated): smooth colour
    gradients with noise, which PNG compresses about as badly as a photograph (~0.5 MB at 512 px)."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0.0, 1.0, side)
    images = []
    for _ in range(distinct):
        colour = rng.uniform(60, 220, size=3)
        base = np.outer(ramp, ramp[::-1] if rng.random() < 0.5 else ramp)[..., None] * colour
        images.append((base + rng.normal(0, 20, size=(side, side, 3))).clip(0, 255).astype(np.uint8))
    return pd.DataFrame({"photo": [images[i % distinct] for i in range(n)]})


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(n: int, preload: int, answers: int, kind: str = "table", batch: int = 1, rate: float = 0.0) -> dict:
    df = blobs(n) if kind == "table" else photos(n)
    data = {"features": list(df.columns)} if kind == "table" else {"image": "photo"}
    with tempfile.TemporaryDirectory() as folder:
        al = ActiveLabeler(df, labels=LABELS, **data, store=Path(folder) / "speed.db", retrain_every=10,
                           preload=preload)
        widget = al.widget
        al.session.wait_idle(600)
        handle, encode, sent = [], [], []
        # what the kernel sends the page while it handles an answer: the comm messages, JSON and buffers
        wire = []
        messages = []  # every message to the page during the run, from the answers and from the rounds' thread
        send = widget._send
        widget._send = lambda msg, buffers=None: (messages.append(1), wire.append(len(json.dumps(msg, default=str)) + sum(
            memoryview(b).nbytes for b in buffers or [])), send(msg, buffers=buffers))[-1]
        try:
            seq = 0
            next_press = time.perf_counter()
            while seq < answers:
                if rate:  # the labeler's pace: the kernel is idle between presses
                    next_press += batch / rate
                    time.sleep(max(0.0, next_press - time.perf_counter()))
                line = [widget.card["key"]] + [record["key"] for record in widget.upcoming]
                pressed = []
                take = min(batch, answers - seq)
                for key, shown_next in zip(line[:take], line[1:take + 1] + [None]):
                    seq += 1
                    pressed.append({"action": "label", "key": key, "view": "bench", "seq": seq, "behind": batch - 1,
                                    "label": LABELS[seq % 3], "suggested": None, "confidence": None,
                                    "next": shown_next})
                intent = pressed[0] if batch == 1 else {"action": "answers", "answers": pressed}
                started = time.perf_counter()
                wire.clear()
                widget.handle_intent(intent)
                handle.append(1000 * (time.perf_counter() - started) / len(pressed))
                sent.append(sum(wire) / 1024 / len(pressed))
                started = time.perf_counter()
                state = widget.get_state(["card", "upcoming", "progress", "suggestion", "votes", "answered", "image"])
                state, _, _ = _remove_buffers(state)  # image bytes travel as binary buffers, the rest as JSON
                json.dumps(state)
                encode.append(1000 * (time.perf_counter() - started))
            al.session.wait_idle(600)  # the last answers' rounds send their messages too
            per_answer = len(messages) / answers
            refused = sum(len(v["refused"]) for v in widget.answered.values())
            stored = len(al.labeled)
        finally:
            al.close()
    return {"n": n, "preload": preload, "handle": handle, "encode": encode, "sent": sent, "refused": refused,
            "stored": stored, "messages": per_answer}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[3000, 1_000_000])
    parser.add_argument("--answers", type=int, default=300)
    parser.add_argument("--preloads", nargs="+", type=int, default=[8, 1])
    parser.add_argument("--kind", choices=["table", "photos"], default="table",
                        help="a table of 8 columns, or 640x640 photo-like colour images (shown at 512 px)")
    parser.add_argument("--batch", type=int, default=1, help="answers per message (the page's burst)")
    parser.add_argument("--busy", action="store_true", help="keep one core busy with a second process")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="answers per second, as a labeler presses (default: back to back)")
    args = parser.parse_args()
    what = "table of 8 columns" if args.kind == "table" else "photo-like images"
    together = f", {args.batch} per message" if args.batch > 1 else ""
    together += f", {args.rate:g} a second" if args.rate else ", back to back"
    load = ", one core kept busy" if args.busy else ""
    print(f"kernel time per answer from the card ({args.answers} answers{together}, {what}, retrain_every=10, "
          f"fits in the background{load}); sent = what the kernel sends the page while it handles the answer")
    hog = busy_core() if args.busy else None
    try:
        report(args)
    finally:
        if hog is not None:
            hog.kill()
    return 0


def report(args) -> None:
    print(f"{'rows':>9} {'preload':>7} | {'handle median':>13} {'p95':>6} | {'encode median':>13} {'p95':>6} | "
          f"{'sent median':>11} {'p95':>8} | {'messages/answer':>15} | {'stored':>6} {'refused':>7}")
    for n in args.sizes:
        for preload in args.preloads:
            r = run(n, preload, args.answers, args.kind, args.batch, args.rate)
            print(f"{n:>9,} {preload:>7} | {statistics.median(r['handle']):>10.2f} ms {percentile(r['handle'], .95):>6.2f} | "
                  f"{statistics.median(r['encode']):>10.2f} ms {percentile(r['encode'], .95):>6.2f} | "
                  f"{statistics.median(r['sent']):>8.1f} KB {percentile(r['sent'], .95):>8.1f} | "
                  f"{r['messages']:>15.2f} | {r['stored']:>6} {r['refused']:>7}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
