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
        "from activelabel_widget.demo_data import MOVIE_REVIEW_LABELS, load_movie_reviews\n\n"
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
    nbf.v4.new_markdown_cell(
        "## What does the model know?\n\n"
        "Confidence is 1 − normalised entropy of the model's probabilities: 0 when every label is "
        "equally likely, 1 when it is sure. The coverage map shows which parts of the data have a "
        "label nearby; grey areas with no coloured points are unexplored. The same two plots are in "
        "the card's insights panel (`i`)."
    ),
    nbf.v4.new_code_cell("al.plot_confidence()"),
    nbf.v4.new_code_cell("al.plot_coverage()"),
    nbf.v4.new_code_cell("al.plot_learning_curve()"),
    nbf.v4.new_markdown_cell(
        "## Label by region on the map\n\n"
        "Every review is a point; the record on the card is the largest, the next ones are larger than the rest, "
        "and labels take their colour as you make them. Hover a point to read it. Click the map's lasso button "
        "and drag round a cluster: its records are queued first, and the card offers to label them all at once "
        "(after asking; one `z` takes them back)."
    ),
    nbf.v4.new_code_cell("al.show_map()   # the card beside the map; al.map.selection holds the keys you lassoed"),
    nbf.v4.new_markdown_cell(
        "## A committee of heuristics labels the rest\n\n"
        "Labeling functions vote a label or abstain; the trained model votes where it is confident. "
        "The summary checks each one against your hand labels."
    ),
    nbf.v4.new_code_cell(
        "from activelabel_widget import keywords, labeling_function\n\n"
        "@labeling_function(label=\"plot\")\n"
        "def tells_the_story(row):\n"
        "    return any(w in row.text.lower() for w in (\" his \", \" her \", \" must \", \" finds \", \" when \"))\n\n"
        "al.add_heuristic(\n"
        "    tells_the_story,\n"
        "    keywords(label=\"positive\", column=\"text\", words=[\"best\", \"funny\", \"delight\", \"beautiful\"]),\n"
        "    keywords(label=\"negative\", column=\"text\", words=[\"dull\", \"boring\", \"mess\", \"worst\"]),\n"
        ")\n"
        "al.heuristics_summary()"
    ),
    nbf.v4.new_code_cell(
        "weak = al.weak_labels()\n"
        "weak[\"weak_label\"].value_counts(dropna=False)"
    ),
    nbf.v4.new_code_cell("al.plot_labels()"),
    nbf.v4.new_markdown_cell("## Hand-off: plain pandas for the next cell"),
    nbf.v4.new_code_cell("al.labeled.tail()"),
    nbf.v4.new_code_cell(
        "frame = al.to_frame()   # every row: label, who labeled it, the model's prediction, the weak label\n"
        "frame[[\"text\", \"label\", \"source\", \"prediction\", \"prediction_confidence\", \"weak_label\"]].head()"
    ),
]

notebook = nbf.v4.new_notebook(cells=cells)
notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbf.write(notebook, Path(__file__).with_name("quickstart.ipynb"))
