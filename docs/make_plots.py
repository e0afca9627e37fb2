"""Draw the README's plots on the bundled movie reviews: 150 labels by an oracle, then each plot.

Run: .venv/bin/python docs/make_plots.py   (writes docs/plots/*.png and prints timings and sizes)

The PNGs are the notebook figures (700 px wide), rendered as the notebook and the card render
them: transparent, so they read on a light and on a dark page.
"""

import tempfile
import time
from pathlib import Path

from activelabel_widget import ActiveLabeler, keywords
from activelabel_widget.demo_data import MOVIE_REVIEW_LABELS, load_movie_reviews
from activelabel_widget.plots import figure_to_png

OUT = Path(__file__).parent / "plots"

reviews = load_movie_reviews(with_truth=True)
with tempfile.TemporaryDirectory() as folder:
    al = ActiveLabeler(reviews.drop(columns="category"), text="text", labels=MOVIE_REVIEW_LABELS,
                       store=Path(folder) / "demo.labels.db", background=False)
    session = al.session
    for _ in range(150):  # a user who presses Enter when the suggestion is right, else types the label
        truth = reviews.loc[session.current, "category"]
        suggestion = session.suggestion
        session.accept() if suggestion and suggestion[0] == truth else session.label(session.current, truth)
    al.add_heuristic(keywords(label="negative", column="text", words=["dull", "boring", "mess"]),
                     keywords(label="plot", column="text", words=["must", "finds", "his", "her"]))
    print(al.heuristics_summary()[["coverage", "n_checked", "accuracy"]])
    print("promoted:", al.promote_weak(min_confidence=0.75))
    for name in ("confidence", "coverage", "learning_curve", "labels"):
        started = time.perf_counter()
        figure = getattr(al, f"plot_{name}")()
        (OUT / f"{name}.png").write_bytes(figure_to_png(figure))
        width, height = (round(size * figure.dpi) for size in figure.get_size_inches())
        print(f"{name:>15}: {time.perf_counter() - started:.2f} s, {width} x {height} px")
    print(session.model_status)
    al.close()
