import { describe, expect, it } from "vitest";
import { commandForKey, keyOf, keymapRows, labelForKey } from "../keys.js";

// Every expectation below is written out by hand, key by key: none is read from the
// table in keys.js, so a key dropped from (or changed in) the table fails here.

// twelve labels as the kernel's key map gives them keys: 1..9, 0, then the first free letters
const keyMap = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`L${i + 1}`, "1234567890ab"[i]]));
const card = { keyMap, hasSuggestion: true, active: true, overlayOpen: false };
const overlay = { ...card, overlayOpen: true };
const key = (k, extra = {}) => ({ key: k, target: { tagName: "DIV" }, ...extra });

const taken = (rest) => ({ ...rest, preventDefault: true });
const idle = { preventDefault: true };

describe("each key's command, by name", () => {
  // [key, expected command with a record, a suggestion and a closed overlay]
  it.each([
    ["1", taken({ intent: { action: "label", label: "L1" } })],
    ["9", taken({ intent: { action: "label", label: "L9" } })],
    ["0", taken({ intent: { action: "label", label: "L10" } })],
    ["a", taken({ intent: { action: "label", label: "L11" } })],
    ["B", taken({ intent: { action: "label", label: "L12" } })],
    ["Enter", taken({ intent: { action: "accept" } })],
    ["s", taken({ intent: { action: "skip" } })],
    ["S", taken({ intent: { action: "skip" } })],
    ["z", taken({ intent: { action: "undo" } })],
    ["Z", taken({ intent: { action: "undo" } })],
    ["Backspace", taken({ intent: { action: "undo" } })],
    ["r", taken({ intent: { action: "retrain" } })],
    ["i", taken({ ui: "insights" })],
    ["?", taken({ ui: "keymap" })],
    ["Escape", null],
  ])("%s on a card with a record and a suggestion", (name, expected) => {
    expect(commandForKey(key(name), card)).toEqual(expected);
  });

  // [key, expected command with no record on the card (done / empty), overlay open]
  it.each([
    ["1", idle],
    ["9", idle],
    ["0", idle],
    ["Enter", idle],
    ["s", idle],
    ["S", idle],
    ["z", taken({ intent: { action: "undo" } })],
    ["Z", taken({ intent: { action: "undo" } })],
    ["Backspace", taken({ intent: { action: "undo" } })],
    ["r", taken({ intent: { action: "retrain" } })],
    ["i", taken({ ui: "insights" })],
    ["?", taken({ ui: "keymap" })],
    ["Escape", taken({ ui: "close" })],
  ])("%s with no record on the card and a panel open", (name, expected) => {
    expect(commandForKey(key(name), { ...overlay, active: false })).toEqual(expected);
  });

  it("Enter does nothing without a suggestion, but still stays on the card", () => {
    expect(commandForKey(key("Enter"), { ...card, hasSuggestion: false })).toEqual(idle);
  });

  it("a key with no label does nothing, but still stays out of the notebook", () => {
    const two = { ...card, keyMap: { bug: "1", feature: "2" } };
    expect(commandForKey(key("2"), two)).toEqual(taken({ intent: { action: "label", label: "feature" } }));
    expect(commandForKey(key("3"), two)).toEqual({ preventDefault: false });
    expect(commandForKey(key("0"), two)).toEqual({ preventDefault: false });
  });

  it("a label's key is the one the key map gives it, digits named after themselves too", () => {
    const digits = { ...card, keyMap: { 0: "0", 1: "1", 2: "2" } };
    expect(commandForKey(key("1"), digits)).toEqual(taken({ intent: { action: "label", label: "1" } }));
    expect(commandForKey(key("0"), digits)).toEqual(taken({ intent: { action: "label", label: "0" } }));
    const chosen = { ...card, keyMap: { ham: "1", spam: "x" } };
    expect(commandForKey(key("X"), chosen)).toEqual(taken({ intent: { action: "label", label: "spam" } }));
  });

  it("R and I work like r and i", () => {
    expect(commandForKey(key("R"), card)).toEqual(taken({ intent: { action: "retrain" } }));
    expect(commandForKey(key("I"), card)).toEqual(taken({ ui: "insights" }));
  });

  it("hands out a fresh intent each time", () => {
    const first = commandForKey(key("s"), card);
    first.intent.action = "changed";
    expect(commandForKey(key("s"), card).intent).toEqual({ action: "skip" });
  });
});

describe("keys the card lets through or keeps", () => {
  it("leaves keys with ctrl, meta or alt alone", () => {
    for (const modifier of ["ctrlKey", "metaKey", "altKey"]) {
      for (const name of ["1", "s", "z", "Enter", "Escape"]) {
        expect(commandForKey(key(name, { [modifier]: true }), overlay)).toBeNull();
      }
    }
  });

  it("lets Shift+Enter through to run the cell", () => {
    expect(commandForKey(key("Enter", { shiftKey: true }), card)).toBeNull();
  });

  it("lets Escape through unless a panel is open", () => {
    expect(commandForKey(key("Escape"), card)).toBeNull();
    expect(commandForKey(key("Escape"), overlay)).toEqual(taken({ ui: "close" }));
  });

  it("leaves the keys of form fields to them, out of the notebook's reach", () => {
    for (const tagName of ["SELECT", "INPUT", "TEXTAREA"]) {
      for (const name of ["1", "s", "Enter", "x"]) {
        expect(commandForKey({ key: name, target: { tagName } }, card)).toEqual({ preventDefault: false });
      }
    }
    const editable = { tagName: "DIV", isContentEditable: true };
    expect(commandForKey({ key: "z", target: editable }, card)).toEqual({ preventDefault: false });
  });

  it("lets Enter and Space press a focused button", () => {
    const button = { tagName: "BUTTON" };
    expect(commandForKey({ key: "Enter", target: button }, card)).toEqual({ preventDefault: false });
    expect(commandForKey({ key: " ", target: button }, card)).toEqual({ preventDefault: false });
    expect(commandForKey({ key: "s", target: button }, card)).toEqual(taken({ intent: { action: "skip" } }));
  });

  it("keeps other printable keys from the notebook without preventing their default", () => {
    for (const name of ["c", "x", "d", "M", "!"]) expect(commandForKey(key(name), card)).toEqual({ preventDefault: false });
  });

  it("lets Space, Tab and arrows through", () => {
    for (const name of [" ", "Tab", "ArrowDown", "ArrowUp", "PageDown"]) expect(commandForKey(key(name), card)).toBeNull();
  });
});

describe("label keys", () => {
  it("are read from the kernel's key map both ways, letters in either case", () => {
    expect(["L1", "L10", "L12", "nope"].map((label) => keyOf(keyMap, label))).toEqual(["1", "0", "b", null]);
    expect(keyOf({ x: null }, "x")).toBeNull();
    expect(keyOf(undefined, "x")).toBeNull();
    expect(["1", "0", "A", "c", "10", "", undefined].map((k) => labelForKey(keyMap, k)))
      .toEqual(["L1", "L10", "L11", null, null, null, null]);
  });
});

describe("the key map on the card", () => {
  // [key, how the row writes its keys, what the row says it does]
  it.each([
    ["Enter", "Enter", "accept the suggestion (in review: keep the label)"],
    ["s", "s", "skip: put the record at the back of the line (in review: move on)"],
    ["Delete", "Del", "reject: the record is unusable (out of training and the line)"],
    ["z", "z or Backspace", "undo the last label or skip"],
    ["Backspace", "z or Backspace", "undo the last label or skip"],
    ["v", "v", "review labeled records, or go back to labeling"],
    ["r", "r", "retrain the model now"],
    ["i", "i", "show or hide insights"],
    ["?", "?", "show or hide this key map"],
    ["Escape", "Esc", "close the key map and insights"],
  ])("has a row for %s", (name, written, does) => {
    const rows = keymapRows().filter((row) => row.keys.includes(name));
    expect(rows.length).toBe(1);
    const [row] = rows;
    expect(row.shown.join(row.between)).toBe(written);
    expect(row.does).toBe(does);
  });

  it("has exactly these rows, in this order", () => {
    expect(keymapRows().map((row) => row.shown.join(row.between))).toEqual(
      ["Enter", "s", "Del", "z or Backspace", "v", "r", "i", "?", "Esc"],
    );
  });
});
