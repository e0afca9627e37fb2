import { describe, expect, it } from "vitest";
import { commandForKey, KEY_MAP, keyForLabel, labelIndexForKey } from "../keys.js";

const card = { labels: ["bug", "feature"], hasSuggestion: false, active: true, overlayOpen: false };
const key = (k, extra = {}) => ({ key: k, target: { tagName: "DIV" }, ...extra });

describe("key map", () => {
  it("maps number keys to labels in key order", () => {
    expect(commandForKey(key("1"), card).intent).toEqual({ action: "label", label: "bug" });
    expect(commandForKey(key("2"), card).intent).toEqual({ action: "label", label: "feature" });
    expect(commandForKey(key("3"), card).intent).toBeUndefined();
  });

  it("gives the tenth label the key 0", () => {
    const ten = { ...card, labels: Array.from({ length: 12 }, (_, i) => `L${i + 1}`) };
    expect(commandForKey(key("9"), ten).intent).toEqual({ action: "label", label: "L9" });
    expect(commandForKey(key("0"), ten).intent).toEqual({ action: "label", label: "L10" });
    expect(commandForKey(key("0"), card)).toEqual({ preventDefault: true });
    expect([0, 8, 9, 10, -1].map(keyForLabel)).toEqual(["1", "9", "0", null, null]);
    expect(["1", "9", "0", "a", "10", ""].map(labelIndexForKey)).toEqual([0, 8, 9, -1, -1, -1]);
  });

  it("accepts with Enter only when there is a suggestion", () => {
    expect(commandForKey(key("Enter"), card).intent).toBeUndefined();
    expect(commandForKey(key("Enter"), { ...card, hasSuggestion: true }).intent).toEqual({ action: "accept" });
  });

  it("keeps undo, retrain and the panels when no record is on the card", () => {
    const done = { ...card, active: false, hasSuggestion: true };
    expect(commandForKey(key("1"), done).intent).toBeUndefined();
    expect(commandForKey(key("s"), done).intent).toBeUndefined();
    expect(commandForKey(key("Enter"), done).intent).toBeUndefined();
    expect(commandForKey(key("z"), done).intent).toEqual({ action: "undo" });
    expect(commandForKey(key("Backspace"), done).intent).toEqual({ action: "undo" });
    expect(commandForKey(key("r"), done).intent).toEqual({ action: "retrain" });
    expect(commandForKey(key("i"), done).ui).toBe("insights");
    expect(commandForKey(key("?"), done).ui).toBe("keymap");
  });

  it("leaves keys with ctrl, meta or alt alone", () => {
    for (const modifier of ["ctrlKey", "metaKey", "altKey"]) {
      expect(commandForKey(key("1", { [modifier]: true }), card)).toBeNull();
    }
  });

  it("lets Escape through unless a panel is open", () => {
    expect(commandForKey(key("Escape"), card)).toBeNull();
    expect(commandForKey(key("Escape"), { ...card, overlayOpen: true }).ui).toBe("close");
  });

  it("lists every key it handles", () => {
    const listed = KEY_MAP.map(([keys]) => keys).join(" ");
    for (const k of ["1", "9", "0", "Enter", "s", "z", "Backspace", "r", "i", "?", "Esc"]) expect(listed).toContain(k);
  });
});
