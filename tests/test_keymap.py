"""Keys for every label: one table (label -> key) for the card's buttons, key map and key handling."""

import re
from pathlib import Path

import pytest

from activelabel_widget import ActiveLabeler
from activelabel_widget.errors import LabelError
from activelabel_widget.keymap import COMMAND_KEYS, LABEL_KEYS, assign_keys

from conftest import LABELS, ticket_frame

ROOT = Path(__file__).resolve().parents[1]


def test_labels_get_1_to_9_then_0_then_free_letters_that_never_clash_with_a_command():
    twelve = [f"class{i}" for i in range(1, 13)]
    keys = assign_keys(twelve)
    assert list(keys.values()) == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "a", "b"]
    many = assign_keys([f"c{i}" for i in range(40)])
    given = [k for k in many.values() if k is not None]
    assert len(given) == len(set(given)) == len(LABEL_KEYS) == 31
    assert not set(given) & {k.lower() for k in COMMAND_KEYS}
    assert list(many.values())[31:] == [None] * 9  # no key left: these are clicked


def test_labels_named_like_a_key_get_that_key():
    digits = [str(i) for i in range(10)]
    assert assign_keys(digits) == {d: d for d in digits}  # key 1 saves "1", key 0 saves "0"
    assert assign_keys(["yes", "n", "5"]) == {"yes": "1", "n": "n", "5": "5"}
    assert assign_keys(["S", "ok"]) == {"S": "1", "ok": "2"}  # s skips: a label "S" cannot have it
    assert assign_keys(["A", "a"]) == {"A": "a", "a": "1"}  # the first one named like the key gets it


def test_a_users_key_map_comes_first_and_a_bad_one_says_what_to_do():
    assert assign_keys(["ham", "spam", "eggs"], keys={"spam": "X", "eggs": "1"}) == {"ham": "2", "spam": "x",
                                                                                       "eggs": "1"}
    with pytest.raises(LabelError, match="gives 'x' to both 'ham' and 'spam'"):
        assign_keys(["ham", "spam"], keys={"ham": "x", "spam": "X"})
    with pytest.raises(LabelError, match="the card uses it for a command"):
        assign_keys(["ham", "spam"], keys={"spam": "s"})
    with pytest.raises(LabelError, match="one digit or one letter"):
        assign_keys(["ham", "spam"], keys={"spam": "F1"})
    with pytest.raises(LabelError, match="not one of the labels"):
        assign_keys(["ham", "spam"], keys={"eggs": "e"})
    with pytest.raises(LabelError, match="must be a dict"):
        assign_keys(["ham", "spam"], keys=["e"])


def test_the_command_keys_are_the_cards_commands():
    table = (ROOT / "js" / "keys.js").read_text().split("export const COMMANDS", 1)[1].split("]);", 1)[0]
    card_keys = {key for group in re.findall(r"keys: \[([^\]]*)\]", table) for key in re.findall(r'"([^"]+)"', group)}
    assert card_keys == set(COMMAND_KEYS)


def test_the_card_gets_the_key_map_and_a_bad_one_is_refused_before_any_file_is_written(tmp_path):
    al = ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "s.db", background=False,
                       keys={"question": "q"})
    assert al.widget.key_map == {"bug": "1", "feature": "2", "question": "q"}
    al.close()
    with pytest.raises(LabelError, match="command"):
        ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "other.db", keys={"bug": "z"})
    assert not (tmp_path / "other.db").exists()


def test_each_label_has_the_plots_colour_and_its_guideline_on_the_card(tmp_path):
    from activelabel_widget.plots import label_colors

    al = ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "s.db", background=False,
                       guidelines={"bug": "the app breaks or loses data"})
    assert al.widget.label_colors == dict(zip(LABELS, label_colors(3)))
    assert al.widget.guidelines == {"bug": "the app breaks or loses data"}
    al.add_label("other")
    assert al.widget.label_colors == dict(zip([*LABELS, "other"], label_colors(4)))
    al.close()
    for bad, message in (({"spam": "x"}, "not one of the labels"), ({"bug": ""}, "1 to 300 characters"),
                         ({"bug": "x" * 301}, "1 to 300 characters"), (["bug"], "must be a dict")):
        with pytest.raises(LabelError, match=message):
            ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "t.db", guidelines=bad)
