"""Write notebooks/quickstart.ipynb from the cells below (keeps the notebook reviewable as code)."""

from pathlib import Path

import nbformat as nbf

cells = [
    nbf.v4.new_markdown_cell(
        "# Quickstart: label movie reviews with a model that trains as you label\n\n"
        "5,022 Rotten Tomatoes snippets ship with the package: positive reviews, negative reviews and plot "
        "descriptions. Run the cells, then label on the card: click it and use the keys."
    ),
    nbf.v4.new_code_cell(
        "from activelabel_widget import ActiveLabeler\n"
        "from activelabel_widget.datasets import MOVIE_REVIEW_LABELS, load_movie_reviews\n\n"
        "reviews = load_movie_reviews()\n"
        "reviews.head()"
    ),
    nbf.v4.new_code_cell(
        "al = ActiveLabeler(\n"
        "    reviews,\n"
        '    text="text",\n'
        "    labels=MOVIE_REVIEW_LABELS,      # keys 1, 2, 3\n"
        '    show=["movie"],                  # extra context under the text\n'
        '    store="movie_reviews.labels.db", # every label is saved here as you make it\n'
        ")\n"
        "al"
    ),
    nbf.v4.new_markdown_cell(
        "**Keys** (click the card first): `1`–`3` label · `Enter` accept the suggestion · `s` skip · "
        "`z`/`Backspace` undo · `r` retrain now · `i` insights · `?` all keys.\n\n"
        "The model retrains in the background every 10 labels; the card shows its suggestion, its "
        "confidence and a cross-validated accuracy so you know when to trust it. Restart the kernel "
        "and run the cells again: every label is still there.\n\n"
        "No time to click? The next cell labels 40 records through the same session the card uses, "
        "taking the true category as the answer (watch the card move)."
    ),
    nbf.v4.new_code_cell(
        "truth = load_movie_reviews(with_truth=True)[\"category\"]\n"
        "session = al.session\n"
        "for _ in range(40):\n"
        "    if session.current is None:\n"
        "        break\n"
        "    session.label(session.current, truth[session.current])\n"
        "session.retrain(wait=True)\n"
        "session.model_status"
    ),
    nbf.v4.new_markdown_cell("## Hand-off: plain pandas for the next cell"),
    nbf.v4.new_code_cell("al.labeled.tail()"),
    nbf.v4.new_code_cell(
        "frame = al.to_frame()   # every row: label (if any), who labeled it, the model's prediction\n"
        "frame[[\"text\", \"label\", \"source\", \"prediction\", \"prediction_confidence\"]].head()"
    ),
]

notebook = nbf.v4.new_notebook(cells=cells)
notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbf.write(notebook, Path(__file__).with_name("quickstart.ipynb"))
