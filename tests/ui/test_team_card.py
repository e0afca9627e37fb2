"""The card of an annotator in a team, in a real JupyterLab: another annotator labels on the same
PostgreSQL project, and the card says so within seconds and never offers their records."""

from __future__ import annotations

import json

import pytest

from test_card_in_jupyter import (
    CARD,
    TEXT_SETUP,
    assert_no_card_errors,
    assert_readable,
    cell_output,
    current_key,
    focus_card,
    open_notebook,
    run_cell,
    screenshot,
    show_card,
    wait_card,
    write_notebook,
)

pytestmark = pytest.mark.browser

#: A second annotator in the same kernel (as if in another notebook): labels three records.
BEN = '''\
import json
from activelabel_widget import LabelingSession
ben = LabelingSession(df, text="body", labels=["bug", "feature", "question"], store=URL, annotator="ben",
                      background=False)
taken = []
for label in ["bug", "feature", "question"]:
    taken.append(int(ben.current))
    ben.label(ben.current, label)
print("BEN=" + json.dumps(taken))'''


def test_a_team_card_shows_the_others_progress_and_never_their_records(start_jupyter, page, artifacts, postgres_server,
                                                                     publish_screenshot):
    url = postgres_server.new_database() + "?project=tickets"
    setup = TEXT_SETUP.replace('store="labels.db")', 'store=URL, annotator="ana")')
    assert setup != TEXT_SETUP
    server = start_jupyter("lab")
    nb = write_notebook(server.root, "team.ipynb", [f"URL = {url!r}\n" + setup, BEN])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    show_card(page)
    wait_card(page, progress=["0 / 20 labeled by 0 people", "0 with others now"])
    shown_first = current_key(page)

    run_cell(page, 1)
    taken = json.loads(cell_output(page, 1, "BEN="))
    assert str(shown_first) not in {str(key) for key in taken}  # ben never got the record on ana's card
    # the card follows the others every second: ben's three labels and the records ben holds now
    wait_card(page, progress=["3 / 20 labeled by 1 person", "with others now"])

    focus_card(page)
    page.keyboard.press("1")  # ana labels the record on her card
    wait_card(page, key_not=shown_first, progress=["4 / 20 labeled by 2 people", "1 by you this session"])
    assert current_key(page) not in {str(key) for key in taken}
    progress = page.locator(f"{CARD} .al-progress").inner_text()
    assert "with others now" in progress, progress
    card_shot, _ = screenshot(page, artifacts, "lab-team-card")
    publish_screenshot(card_shot, "team-card.png")
    assert_readable(page, artifacts, "lab-team-card")
    assert_no_card_errors(page)
