"""Every notebook in notebooks/ runs end to end in a fresh kernel."""

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_end_to_end(path, tmp_path):
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    notebook = nbformat.read(copy, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert list(tmp_path.glob("*.labels.db")), "the notebook saved its labels next to itself"


def test_there_is_a_quickstart_notebook():
    assert any(p.name == "quickstart.ipynb" for p in NOTEBOOKS)


def test_the_bundled_reviews_are_plain_text():
    from activelabel_widget.demo_data import load_movie_reviews

    reviews = load_movie_reviews()
    assert len(reviews) == 5022 and not reviews["text"].str.contains(r"&(?:amp|lt|gt|quot|#\d+);").any()
