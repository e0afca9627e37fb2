// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import widget from "../widget.js";
import { mapConfirmText, mapSelectionText, opaqueHex } from "../card.js";
import { mountCard, unmountCards } from "./fake-model.js";

const mount = (state = {}) => mountCard(widget, state);

afterEach(unmountCards);

const bar = (root) => root.querySelector(".al-map-bar");
const buttons = (root) => [...root.querySelectorAll(".al-map-bar button")].map((b) => b.textContent);

describe("the map's selection on the card", () => {
  it("says nothing while nothing is selected", () => {
    const { root } = mount();
    expect(bar(root).hidden).toBe(true);
    expect(mapSelectionText({})).toBe("");
  });

  it("says how many are selected and queued, and offers every label", () => {
    const { root } = mount({ map_selection: { id: 3, count: 1200, unlabeled: 1150 } });
    expect(bar(root).hidden).toBe(false);
    expect(root.querySelector(".al-map-text").textContent).toBe("1,200 records selected on the map: 1,150 unlabeled, queued first");
    expect(buttons(root)).toEqual(["clear selection", "bug", "feature", "question"]);
  });

  it("asks before labeling, and sends the label with the selection it asked about", () => {
    const { model, root } = mount({ map_selection: { id: 3, count: 40, unlabeled: 38 } });
    [...root.querySelectorAll(".al-map-label")].find((b) => b.textContent === "feature").click();
    expect(model.sent.filter((m) => m.action === "map_label")).toEqual([]);
    expect(root.querySelector(".al-map-question").textContent).toBe(
      'Label 38 records "feature" at once? The 2 labeled already keep their labels. One undo (z) takes them all back.');
    root.querySelector(".al-map-confirm").click();
    expect(model.sent.filter((m) => m.action === "map_label")).toEqual([
      expect.objectContaining({ action: "map_label", label: "feature", selection: 3 }),
    ]);
    expect(root.querySelector(".al-map-question")).toBe(null);
  });

  it("drops a question when the selection changes under it", () => {
    const { model, root } = mount({ map_selection: { id: 3, count: 40, unlabeled: 40 } });
    root.querySelector(".al-map-label").click();
    expect(root.querySelector(".al-map-confirm")).not.toBe(null);
    model.set("map_selection", { id: 4, count: 5, unlabeled: 5 });
    expect(root.querySelector(".al-map-confirm")).toBe(null);
    expect(root.querySelector(".al-map-text").textContent).toContain("5 records selected");
  });

  it("cancel sends nothing and clear asks the kernel to drop the selection", () => {
    const { model, root } = mount({ map_selection: { id: 1, count: 2, unlabeled: 2 } });
    root.querySelector(".al-map-label").click();
    [...root.querySelectorAll(".al-map-bar button")].find((b) => b.textContent === "cancel").click();
    expect(root.querySelector(".al-map-confirm")).toBe(null);
    root.querySelector(".al-map-clear").click();
    expect(model.sent.map((m) => m.action)).toEqual(["map_clear"]);
  });

  it("offers no label when every selected record is labeled", () => {
    const { root } = mount({ map_selection: { id: 1, count: 2, unlabeled: 0 } });
    expect(root.querySelector(".al-map-text").textContent).toBe("2 records selected on the map, all labeled already");
    expect(buttons(root)).toEqual(["clear selection"]);
  });

  it("keeps hostile label names as text in the question", () => {
    const hostile = "<img src=x onerror=window.__pwned=1>";
    expect(mapConfirmText({ count: 1, unlabeled: 1 }, hostile)).toContain(hostile);
    const { root } = mount({ labels: [hostile], key_map: { [hostile]: "1" }, map_selection: { id: 1, count: 1, unlabeled: 1 } });
    root.querySelector(".al-map-label").click();
    expect(root.querySelector(".al-map-bar img")).toBe(null);
    expect(window.__pwned).toBeUndefined();
  });
});

describe("the page's background for the map", () => {
  it("reads a computed colour as hex, and only an opaque one", () => {
    expect(opaqueHex("rgb(33, 33, 33)")).toBe("#212121");
    expect(opaqueHex("rgba(255, 255, 255, 1)")).toBe("#ffffff");
    expect(opaqueHex("rgba(0, 0, 0, 0)")).toBe(null);
    expect(opaqueHex("var(--al-bg)")).toBe(null);
    expect(opaqueHex("")).toBe(null);
  });
});
