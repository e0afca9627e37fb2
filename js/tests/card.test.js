// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { charsPerLine, isLongText, modelStatusText, progressText } from "../card.js";
import { h, setStyle, show } from "../dom.js";

describe("card text", () => {
  it("formats the progress line with thousands separators", () => {
    expect(progressText({ labeled: 412, total: 5000, session: 23, skipped: 2 }))
      .toBe("412 / 5,000 labeled · 23 this session · 2 skipped");
    expect(progressText({})).toBe("0 / 0 labeled · 0 this session · 0 skipped");
  });

  it("says, labeling as a team, by how many people and how many records others hold now", () => {
    expect(progressText({ labeled: 412, total: 5000, session: 23, skipped: 2, annotators: 3, with_others: 8 }))
      .toBe("412 / 5,000 labeled by 3 people · 23 by you this session · 2 skipped · 8 with others now");
    expect(progressText({ labeled: 1, total: 10, session: 1, skipped: 0, annotators: 1, with_others: 0 }))
      .toBe("1 / 10 labeled by 1 person · 1 by you this session · 0 skipped · 0 with others now");
    expect(progressText({ labeled: 9, total: 10, session: 4, skipped: 0, annotators: 2, with_others: 1, need_another: 3 }))
      .toBe("9 / 10 labeled by 2 people · 4 by you this session · 0 skipped · 1 with others now · 3 need another answer");
  });

  it("says what the model is doing", () => {
    expect(modelStatusText({ state: "none" })).toBe("model: none yet");
    expect(modelStatusText({ state: "none", message: "needs labels from 2 classes" }))
      .toBe("model: none yet · needs labels from 2 classes");
    expect(modelStatusText({ state: "ready", accuracy: null, n_labels: 4 })).toBe("model: fitted on 4 labels");
    expect(modelStatusText({ state: "error", message: "" })).toBe("model error: the model could not be fitted");
  });

  it("calls a text long past about twelve lines", () => {
    expect(isLongText("short")).toBe(false);
    expect(isLongText("a\n".repeat(12))).toBe(false);
    expect(isLongText("a\n".repeat(13))).toBe(true);
    expect(isLongText("y".repeat(5000))).toBe(true);
  });

  it("clips sooner in a narrow card: 700 characters are 8 lines at notebook width, 13 in a 440 px card", () => {
    const review = "word ".repeat(140);
    expect(isLongText(review, charsPerLine(0))).toBe(false);
    expect(isLongText(review, charsPerLine(720))).toBe(false);
    expect(charsPerLine(440)).toBe(58);
    expect(isLongText(review, charsPerLine(440))).toBe(true);
  });
});

describe("node builder", () => {
  it("refuses inline event handler attributes", () => {
    expect(() => h(document, "button", { onclick: "alert(1)" })).toThrow(/addEventListener/);
  });

  it("leaves an element that already looks as asked untouched (a write of the same value still costs a style pass)", async () => {
    const node = h(document, "div", { hidden: true });
    node.style.top = "4px";
    const changes = [];
    const observer = new MutationObserver((records) => changes.push(...records));
    observer.observe(node, { attributes: true });
    show(node, false);
    setStyle(node, "top", "4px");
    await Promise.resolve();
    expect(changes).toEqual([]);
    show(node, true);
    setStyle(node, "top", "8px");
    await Promise.resolve();
    expect(changes.map((c) => c.attributeName)).toEqual(["hidden", "style"]);
    expect(node.hidden).toBe(false);
    observer.disconnect();
  });

  it("turns strings into text, never markup", () => {
    const node = h(document, "div", { text: "<b>x</b>" }, ["<i>y</i>"]);
    expect(node.children.length).toBe(0);
    expect(node.textContent).toBe("<b>x</b><i>y</i>");
  });
});
