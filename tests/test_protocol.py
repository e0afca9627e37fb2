"""docs/protocol.md is the card's contract: it lists exactly the traits, card fields and intents in the code."""

import re
from pathlib import Path

import anywidget

from activelabel_widget import ActiveLabeler
from activelabel_widget.widget import LabelingWidget

from conftest import LABELS, ticket_frame

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text()


def table_after(heading: str) -> list[list[str]]:
    """The rows of the first Markdown table after ``heading``, cells stripped (header row dropped)."""
    section = PROTOCOL.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]


def test_every_synced_trait_is_documented_and_nothing_else():
    ours = set(LabelingWidget.class_trait_names(sync=True)) - set(anywidget.AnyWidget.class_trait_names(sync=True))
    documented = {row[0].strip("`") for row in table_after("## State")}
    assert documented == ours


def test_every_card_field_is_documented_and_nothing_else(tmp_path):
    al = ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    try:
        shown = set(al.widget.card)
    finally:
        al.close()
    block = PROTOCOL.split("`card`:", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    documented = set(re.findall(r'^\s*"(\w+)":', block, flags=re.MULTILINE))
    assert documented == shown


def test_every_intent_is_documented_and_handled_and_sent_by_the_card():
    from activelabel_widget.widget import ANSWERS

    documented = {re.search(r'action: "(\w+)"', row[0]).group(1) for row in table_after("## Intents")}
    handled = set(re.findall(r'action == "(\w+)"', (ROOT / "activelabel_widget" / "widget.py").read_text())) | set(ANSWERS)
    js = "".join(path.read_text() for path in (ROOT / "js").glob("*.js"))
    sent = set(re.findall(r'send\("(\w+)"', js)) | set(re.findall(r'action: "(\w+)"', js))
    assert documented == handled == sent


def test_the_answers_from_the_pages_line_are_the_ones_documented():
    from activelabel_widget.widget import ANSWERS

    answers = {re.search(r'action: "(\w+)"', row[0]).group(1) for row in table_after("## Intents") if row[2] == "yes"}
    assert answers == set(ANSWERS)


def test_every_key_of_the_card_is_documented():
    table = (ROOT / "js" / "keys.js").read_text().split("export const COMMANDS", 1)[1].split("]);", 1)[0]
    keys = set(re.findall(r'shown: \[([^\]]*)\]', table)) 
    names = {name for group in keys for name in re.findall(r'"([^"]+)"', group)}
    for entry in re.findall(r'\{ keys: \[([^\]]*)\](?!.*shown)', table):
        names |= set(re.findall(r'"([^"]+)"', entry))
    names.discard("Escape")  # shown as Esc
    for name in names | {"Esc", "0"}:
        assert f"`{name}`" in PROTOCOL or f"`{name.replace('–', '`..`')}`" in PROTOCOL, name
