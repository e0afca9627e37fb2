"""What filled the page's main thread while the keys were pressed, from a browser trace.

Run:  ACTIVELABEL_LOAD_TRACE=/tmp/trace.json ACTIVELABEL_LOAD_KIND=text ACTIVELABEL_LOAD_PRESSES=200 \\
          .venv/bin/python -m pytest tests/ui/test_load.py -m browser -p no:cacheprovider
      .venv/bin/python benchmarks/trace_summary.py /tmp/trace.json

Reads the Chromium trace ``tests/ui/test_load.py`` records with ``ACTIVELABEL_LOAD_TRACE`` and
prints, between the first and the last key press: how long the page's main thread was busy (the
union of its tasks), how many kernel messages JupyterLab's websocket handler took in, and how many
frames the page painted (its outermost paints). Compare traces of the same command, made one after the other.
"""

from __future__ import annotations

import argparse
import json


def summarize(events: list[dict]) -> dict:
    """Presses, typing time, main-thread busy time, kernel messages and frames in ``events``."""
    keys = [e for e in events if e.get("name") == "EventDispatch" and e.get("ph") == "X"
            and e.get("args", {}).get("data", {}).get("type") == "keydown"]
    if not keys:
        raise SystemExit("no key presses in this trace: was it recorded by tests/ui/test_load.py?")
    pid, tid = keys[0]["pid"], keys[0]["tid"]
    first, last = keys[0]["ts"], keys[-1]["ts"]
    main = [e for e in events if e.get("pid") == pid and e.get("tid") == tid and e.get("ph") == "X"
            and first <= e.get("ts", 0) <= last]
    busy, end = 0, 0
    for task in sorted((e for e in main if e["name"] == "RunTask"), key=lambda e: e["ts"]):
        start, stop = task["ts"], task["ts"] + task["dur"]
        busy += max(0, stop - max(start, end))  # nested or overlapping tasks count once
        end = max(end, stop)
    messages = sum(1 for e in main if e["name"] == "FunctionCall"
                   and "_onWSMessage" in e.get("args", {}).get("data", {}).get("functionName", ""))
    frames, end = 0, 0
    for paint in sorted((e for e in main if e["name"] == "Paint"), key=lambda e: e["ts"]):
        frames += paint["ts"] >= end  # a frame's paint holds the paints of its layers: count the outer ones
        end = max(end, paint["ts"] + paint["dur"])
    return {"presses": len(keys), "typing_ms": (last - first) / 1000, "busy_ms": busy / 1000,
            "kernel_messages": messages, "frames": frames}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("traces", nargs="+", help="trace files (JSON) from ACTIVELABEL_LOAD_TRACE")
    args = parser.parse_args()
    print(f"{'trace':<40} {'presses':>7} {'typing':>9} {'main thread busy':>18} {'kernel messages':>15} {'frames':>6}")
    for path in args.traces:
        with open(path) as file:
            data = json.load(file)
        s = summarize(data["traceEvents"] if isinstance(data, dict) else data)
        print(f"{path:<40} {s['presses']:>7} {s['typing_ms'] / 1000:>7.1f} s {s['busy_ms'] / 1000:>8.1f} s "
              f"({s['busy_ms'] / s['typing_ms']:>5.0%}) {s['kernel_messages']:>15} {s['frames']:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
