// @vitest-environment jsdom
// Every label on the card: its colour (the plots' colour for it) and its guideline.
import { afterEach, describe, expect, it } from "vitest";
import { guidelineText, safeColor } from "../card.js";
import widget from "../widget.js";
import { labelButton, press, mountCard, unmountCards } from "./fake-model.js";

afterEach(unmountCards);
const mount = (state = {}) => mountCard(widget, state);

const COLORS = { bug: "#0072b2", feature: "#d55e00", question: "#009e73" };

describe("label colours", () => {
  it("paint a swatch on each button, in the plots' colour", () => {
    const { root } = mount({ label_colors: COLORS });
    const swatches = [...root.querySelectorAll("button.al-label .al-swatch")];
    expect(swatches.map((s) => s.style.backgroundColor)).toEqual(["rgb(0, 114, 178)", "rgb(213, 94, 0)", "rgb(0, 158, 115)"]);
    expect(swatches.every((s) => s.getAttribute("aria-hidden") === "true")).toBe(true);
  });

  it("colour the labels in the recent answers and the key map", () => {
    const recent = [{ key: "i:1", key_label: "1", snippet: "x", action: "label", label: "feature", previous: null,
      source: "hand", annotator: "a", at: "", count: 1, open: true }];
    const { root } = mount({ label_colors: COLORS, recent });
    expect(root.querySelector(".al-recent-label .al-swatch").style.backgroundColor).toBe("rgb(213, 94, 0)");
    press(root, "?");
    expect(root.querySelectorAll(".al-keylabels .al-swatch").length).toBe(3);
  });

  it("take only #rrggbb from the kernel: anything else paints nothing", () => {
    expect(["#0072b2", "red", "#fff", "url(x)", "#0072b2;background:url(x)", null].map(safeColor))
      .toEqual(["#0072b2", null, null, null, null, null]);
    const { root } = mount({ label_colors: { bug: "url(javascript:alert(1))", feature: "#d55e00" } });
    expect(labelButton(root, "bug").querySelector(".al-swatch")).toBeNull();
    expect(labelButton(root, "feature").querySelector(".al-swatch")).not.toBeNull();
  });
});

describe("label guidelines", () => {
  it("show under each label in the key map and on the button's tooltip, as text", () => {
    const guidelines = { bug: "the app breaks or loses data", question: "<b>how</b> do I…" };
    const { root } = mount({ guidelines });
    expect(labelButton(root, "bug").title).toBe("label as bug (1) · the app breaks or loses data");
    press(root, "?");
    const rows = [...root.querySelectorAll(".al-keylabels dd")].map((dd) => dd.textContent);
    expect(rows).toEqual(["label as bugthe app breaks or loses data", "label as feature", "label as question<b>how</b> do I…"]);
    expect(root.querySelector(".al-keylabels b")).toBeNull();
    expect(guidelineText({ bug: "  x " }, "bug")).toBe("x");
    expect(guidelineText(null, "bug")).toBe("");
  });
});
