// @vitest-environment jsdom
// Multi-label cards: keys and buttons toggle labels, Enter saves the chosen set (empty allowed),
// the suggested set starts chosen, and the card says what each label's probability is.
import { afterEach, describe, expect, it } from "vitest";
import { binaryConfidence } from "../card.js";
import { commandForKey, keymapRows } from "../keys.js";
import { labelText } from "../line.js";
import widget from "../widget.js";
import { labelButton, mountCard, press, textCard, unmountCards, upcomingRecord } from "./fake-model.js";

afterEach(unmountCards);

const SUGGESTED = { label: "bug + question", labels: ["bug", "question"], confidence: 0.31, weak: true, accuracy: 0.7,
                    per_label: { bug: 0.91, feature: 0.12, question: 0.55 } };
const mount = (state = {}) => mountCard(widget, { multi_label: true, upcoming: [upcomingRecord(7)], ...state });
const chosen = (root) => [...root.querySelectorAll("button.al-label")].filter((b) => b.getAttribute("aria-pressed") === "true")
  .map((b) => b.dataset.label);

describe("multi-label keys", () => {
  it("toggle with label keys and save with Enter, with or without a suggestion", () => {
    const context = { keyMap: { bug: "1" }, active: true, multiLabel: true };
    expect(commandForKey(new KeyboardEvent("keydown", { key: "1" }), context)).toEqual({ ui: "toggle", label: "bug", preventDefault: true });
    expect(commandForKey(new KeyboardEvent("keydown", { key: "Enter" }), context)).toEqual({ ui: "submit", preventDefault: true });
    expect(commandForKey(new KeyboardEvent("keydown", { key: "Enter", shiftKey: true }), context)).toBeNull();
    expect(keymapRows(true)[0].does).toMatch(/save the chosen labels/);
    expect(keymapRows(false)[0].does).toMatch(/accept the suggestion/);
  });
});

describe("a multi-label card", () => {
  it("toggles labels by key and by click, and saves the chosen set in label order", () => {
    const { root, model } = mount();
    press(root, "3");
    labelButton(root, "bug").click();
    expect(chosen(root)).toEqual(["bug", "question"]);
    expect(model.sent).toEqual([]); // toggling sends nothing
    press(root, "3");
    expect(chosen(root)).toEqual(["bug"]);
    press(root, "Enter");
    expect(model.sent[0]).toMatchObject({ action: "label", key: "i:42", label: ["bug"], suggested: null, next: "i:7" });
    expect(root.querySelector(".al-body").textContent).toBe("record 7");
    expect(chosen(root)).toEqual([]); // the next record starts with nothing chosen
  });

  it("saves the empty set when nothing is chosen", () => {
    const { root, model } = mount();
    press(root, "Enter");
    expect(model.sent[0]).toMatchObject({ action: "label", label: [] });
  });

  it("starts with the suggested set chosen: Enter accepts it, a change corrects it", () => {
    const { root, model } = mount({ suggestion: SUGGESTED });
    expect(chosen(root)).toEqual(["bug", "question"]);
    expect(root.querySelector(".al-suggestion").textContent).toContain("bug + question");
    expect(labelButton(root, "question").querySelector(".al-label-p").textContent).toBe("0.55");
    expect(labelButton(root, "bug").title).toContain("model: probability 0.91, confidence 0.56");
    expect([0.5, 0, 1, 0.9].map((p) => binaryConfidence(p).toFixed(3))).toEqual(["0.000", "1.000", "1.000", "0.531"]);
    press(root, "Enter"); // weak, yet one Enter: the chosen labels are on screen
    expect(model.sent[0]).toMatchObject({ action: "accept", label: ["bug", "question"], suggested: ["bug", "question"] });

    const second = mount({ suggestion: SUGGESTED });
    press(second.root, "1");
    press(second.root, "Enter");
    expect(second.model.sent[0]).toMatchObject({ action: "label", label: ["question"], suggested: ["bug", "question"] });
  });

  it("has a save button for the mouse, and says how the keys work before the first fit", () => {
    const { root, model } = mount();
    const save = root.querySelector("button.al-save");
    expect(save.hidden).toBe(false);
    expect(root.querySelector(".al-suggestion").textContent).toContain("Enter saves them");
    labelButton(root, "feature").click();
    save.click();
    expect(model.sent[0]).toMatchObject({ action: "label", label: ["feature"] });
  });

  it("shows a single-label card without toggles or a save button", () => {
    const { root } = mountCard(widget, {});
    expect(root.querySelector("button.al-save").hidden).toBe(true);
    expect(root.querySelector(".al-toggle")).toBeNull();
  });

  it("names a set the way the recent answers and undo show it", () => {
    expect([labelText(["a", "b"]), labelText([]), labelText("bug"), labelText(undefined)])
      .toEqual(["a + b", "no label", "bug", null]);
  });

  it("keeps a record shown in review when its set is saved unchanged, and corrects it otherwise", () => {
    const given = { label: "bug", labels: ["bug"], source: "hand", annotator: "a", at: "" };
    const { root, model } = mount({ card: textCard({ review: true, given }) });
    expect(chosen(root)).toEqual(["bug"]);
    press(root, "Enter");
    expect(model.sent[0]).toMatchObject({ action: "keep", key: "i:42" });
  });
});
