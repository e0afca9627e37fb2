// @vitest-environment jsdom
// Reviewing and trusting the labels on the card: the recent answers (click one to change its
// label), review mode (Enter keeps, a key corrects, v leaves), "N labels look wrong", the stop hint.
import { afterEach, describe, expect, it } from "vitest";
import { givenText, issuesText, recentText, reviewText, timeText } from "../card.js";
import { commandForKey } from "../keys.js";
import { createPageLine } from "../line.js";
import widget from "../widget.js";
import { labelButton, press, settle, textCard, upcomingRecord, mountCard, unmountCards } from "./fake-model.js";

afterEach(unmountCards);
const mount = (state = {}) => mountCard(widget, state);

const GIVEN = { label: "bug", source: "hand", annotator: "ana", at: "2026-12-02T14:02:00+00:00" };
const ORDERS = { issues: "likely label errors", disagreement: "disagreement with the model", label: "by label",
  annotator: "by annotator", time: "newest first" };

function reviewState(overrides = {}) {
  return {
    card: textCard({ review: true, given: GIVEN, reason: "likely label error (score 0.91): the model says feature" }),
    suggestion: { label: "feature", confidence: 0.81, weak: false, accuracy: 0.9 },
    upcoming: [upcomingRecord(43, { review: true, given: { ...GIVEN, label: "question" } })],
    review: { by: "issues", caption: "likely label errors", index: 2, total: 5 },
    review_orders: ORDERS,
    checks: { issues: 5, stop_ready: false, stop_message: "predictions are still changing" },
    ...overrides,
  };
}

const RECENT = [
  { key: "i:42", key_label: "42", snippet: "The app crashes when I open settings", action: "label", label: "feature",
    previous: "bug", source: "corrected", annotator: "ana", at: "2026-12-02T14:05:00+00:00", count: 1, open: true },
  { key: "i:7", key_label: "7", snippet: "<img src=x onerror=alert(1)>", action: "skip", label: null, previous: null,
    source: null, annotator: "ana", at: "2026-12-02T14:04:00+00:00", count: 1, open: true },
  { key: null, key_label: "", snippet: "300 labels saved together", action: "group", label: "bug", previous: null,
    source: "weak", annotator: "ana", at: "2026-12-02T14:03:00+00:00", count: 300, open: false },
];

describe("texts of review and trust", () => {
  it("writes times as the clock today and with the date before", () => {
    const now = new Date("2026-12-02T18:00:00");
    expect(timeText("2026-12-02T14:02:00", now)).toBe("14:02");
    expect(timeText("2026-11-30T09:15:00", now)).toBe("Nov 30, 09:15");
    expect(timeText("not a time", now)).toBe("");
    expect(timeText(null, now)).toBe("");
  });

  it("says which label a record carries, from whom", () => {
    expect(givenText({ label: "bug", source: "hand", annotator: "ana", at: "" })).toBe("labeled bug · hand · by ana");
    expect(givenText(null)).toBe("");
    expect(givenText({ label: "" })).toBe("");
  });

  it("says where the review is, how many labels look wrong, and what an answer was", () => {
    expect(reviewText({ by: "issues", caption: "likely label errors", index: 2, total: 5 }))
      .toBe("reviewing likely label errors · 2 of 5");
    expect(reviewText({})).toBe("");
    expect([issuesText(null), issuesText(0), issuesText(1), issuesText(1200)])
      .toEqual(["", "", "1 label looks wrong", "1,200 labels look wrong"]);
    expect(RECENT.map(recentText)).toEqual(["feature (was bug)", "skipped", "300 labels saved together (weak)"]);
  });
});

describe("keys in review", () => {
  const enter = { key: "Enter", target: null };
  it("Enter keeps the label in review, even with no suggestion, and accepts a suggestion otherwise", () => {
    expect(commandForKey(enter, { active: true, review: true }).intent).toEqual({ action: "keep" });
    expect(commandForKey(enter, { active: true, hasSuggestion: true }).intent).toEqual({ action: "accept" });
    expect(commandForKey(enter, { active: true }).intent).toBeUndefined();
    expect(commandForKey({ key: "v", target: null }, {}).ui).toBe("review");
  });
});

describe("the page's line in review", () => {
  it("marks answers on reviewed records, keeps only in review, and undo shows the record with its label", () => {
    const line = createPageLine("view-r");
    line.receive({ card: textCard({ key: "i:1", review: true, given: GIVEN }), suggestion: {}, votes: [], image: null,
      upcoming: [upcomingRecord(2, { review: true, given: GIVEN })], answered: {} });
    const kept = line.answer("keep");
    expect(kept).toMatchObject({ action: "keep", key: "i:1", review: true, next: "i:2" });
    const corrected = line.answer("label", "feature");
    expect(corrected).toMatchObject({ action: "label", key: "i:2", label: "feature", review: true });
    expect(line.undo()).toMatchObject({ action: "undo", key: "i:2" });
    expect(line.screen()).toMatchObject({ key: "i:2", given: GIVEN, previous_label: "feature" });

    const labeling = createPageLine("view-l");
    labeling.receive({ card: textCard({ key: "i:9" }), suggestion: {}, votes: [], image: null, upcoming: [], answered: {} });
    expect(labeling.answer("keep")).toBeNull(); // nothing to keep on a record with no label
    expect(labeling.answer("label", "bug")).not.toHaveProperty("review");
  });
});

describe("the card in review", () => {
  it("shows the walk, the label the record carries, the model's out-of-fold word, and the given label's button", () => {
    const { root } = mount(reviewState());
    const bar = root.querySelector(".al-review");
    expect(bar.hidden).toBe(false);
    expect(root.querySelector(".al-review-text").textContent).toBe("reviewing likely label errors · 2 of 5");
    expect(root.classList.contains("al-reviewing")).toBe(true);
    expect(root.querySelector(".al-given-text").textContent).toMatch(/^labeled bug · hand · by ana · /);
    expect(root.querySelector(".al-reason").textContent).toBe("in review: likely label error (score 0.91): the model says feature");
    expect(root.querySelector(".al-suggestion").textContent).toBe("The model says feature (confidence 0.81) — Enter keeps bug");
    expect(labelButton(root, "bug").classList.contains("al-given")).toBe(true);
    expect(labelButton(root, "bug").getAttribute("aria-pressed")).toBe("true");
    expect(labelButton(root, "feature").classList.contains("al-suggested")).toBe(false); // no "accept" look in review
    expect(root.querySelector(".al-review-menu select").value).toBe("issues");
  });

  it("names a walk of chosen records in the review menu too", () => {
    const { root } = mount(reviewState({ review: { by: "keys", caption: "chosen records", index: 1, total: 1 } }));
    const select = root.querySelector(".al-review-menu select");
    expect(select.value).toBe("keys");
    expect(select.selectedOptions[0].textContent).toBe("chosen records");
  });

  it("Enter keeps the label and shows the next reviewed record at once; a key corrects it", () => {
    const { model, root } = mount(reviewState());
    press(root, "Enter");
    expect(model.sent[0]).toMatchObject({ action: "keep", key: "i:42", review: true, next: "i:43" });
    expect(root.querySelector(".al-given-text").textContent).toMatch(/^labeled question/);
    press(root, "1");
    expect(model.sent[1]).toMatchObject({ action: "label", key: "i:43", label: "bug", review: true });
  });

  it("v, the menu and the button leave review or start it, likely errors first when there are any", () => {
    const { model, root } = mount(reviewState());
    press(root, "v");
    root.querySelector(".al-review .al-button").click();
    const select = root.querySelector(".al-review-menu select");
    select.value = "label";
    select.dispatchEvent(new Event("change"));
    expect(model.sent.map(({ action, by }) => [action, by])).toEqual([["review", null], ["review", null], ["review", "label"]]);
    expect([...select.options].map((o) => o.textContent)).toEqual(["off (labeling)", ...Object.values(ORDERS)]);

    const labeling = mount({ review: {}, review_orders: ORDERS, checks: { issues: 0, stop_ready: false, stop_message: "" } });
    press(labeling.root, "v");
    expect(labeling.model.sent[0]).toMatchObject({ action: "review", by: "time" });
    expect(labeling.root.querySelector(".al-review").hidden).toBe(true);
    labeling.model.set("checks", { issues: 3, stop_ready: false, stop_message: "" });
    press(labeling.root, "v");
    expect(labeling.model.sent[1]).toMatchObject({ action: "review", by: "issues" });
  });
});

describe("v follows the screen, not the kernel's lagging word", () => {
  it("after Enter on the last reviewed record, v starts a review again even before the kernel says the walk ended", () => {
    const { model, root } = mount(reviewState({ upcoming: [], review: { by: "keys", caption: "chosen records", index: 1, total: 1 } }));
    press(root, "Enter"); // the page shows "on its way" at once; the kernel still says "reviewing"
    expect(root.querySelector(".al-review").hidden).toBe(true);
    press(root, "v");
    expect(model.sent.map((m) => m.action)).toEqual(["keep", "review"]);
    expect(model.sent[1].by).toBe("issues");
  });
});

describe("trust on the card", () => {
  it("says how many labels look wrong (a link into review) and what the stop hint says", () => {
    const { model, root } = mount({ checks: { issues: 3, stop_ready: false, stop_message: "too few labels of question" },
      review_orders: ORDERS, review: {} });
    const issues = root.querySelector(".al-issues");
    expect(issues.hidden).toBe(false);
    expect(issues.textContent).toBe("3 labels look wrong: review");
    issues.click();
    expect(model.sent[0]).toMatchObject({ action: "review", by: "issues" });
    expect(root.querySelector(".al-stop").textContent).toBe("stop hint: too few labels of question");
    model.set("checks", { issues: 0, stop_ready: true, stop_message: "predictions have stopped changing" });
    expect(issues.hidden).toBe(true);
    const stop = root.querySelector(".al-stop");
    expect(stop.textContent).toBe("You could stop: predictions have stopped changing");
    expect(stop.classList.contains("al-stop-ready")).toBe(true);
  });

  it("says nothing of label errors before a cross-validated fit", () => {
    const { root } = mount({ checks: { issues: null, stop_ready: false, stop_message: "" } });
    expect(root.querySelector(".al-issues").hidden).toBe(true);
    expect(root.querySelector(".al-stop").hidden).toBe(true);
  });
});

describe("the recent answers", () => {
  it("lists the newest answers, and a click brings that record back on the card", () => {
    const { model, root } = mount({ recent: RECENT });
    const section = root.querySelector(".al-recent");
    expect(section.hidden).toBe(false);
    const items = [...root.querySelectorAll(".al-recent-item")];
    expect(items.map((item) => item.querySelector(".al-recent-label").textContent))
      .toEqual(["feature (was bug)", "skipped", "300 labels saved together (weak)"]);
    expect(items[0].querySelector(".al-recent-meta").textContent).toMatch(/^corrected · /);
    expect(items.map((item) => item.tagName)).toEqual(["BUTTON", "BUTTON", "LI"]); // a group has no one record
    items[0].click();
    items[1].click();
    expect(model.sent.map(({ action, key }) => [action, key])).toEqual([["revisit", "i:42"], ["revisit", "i:7"]]);
  });

  it("keeps a hostile snippet as text", () => {
    const { root } = mount({ recent: RECENT });
    expect(root.querySelector(".al-recent img")).toBeNull();
    expect(root.querySelectorAll(".al-recent-snippet")[1].textContent).toBe("<img src=x onerror=alert(1)>");
  });

  it("is hidden while there are none, and a key on a focused entry still reaches it", () => {
    const { model, root } = mount({ recent: [] });
    expect(root.querySelector(".al-recent").hidden).toBe(true);
    model.set("recent", RECENT);
    const first = root.querySelector("button.al-recent-item");
    first.focus();
    const event = press(first, "Enter");
    expect(event.defaultPrevented).toBe(false); // the browser presses the focused button
    expect(model.sent).toEqual([]);
  });
});

describe("a review through the kernel", () => {
  it("the kernel settles the answers and the card follows its walk", () => {
    const records = [upcomingRecord(43, { review: true, given: GIVEN }), upcomingRecord(44, { review: true, given: GIVEN })];
    const { model, root } = mount(reviewState({ upcoming: records }));
    press(root, "Enter");
    settle(model, records);
    expect(root.querySelector(".al-given-text").textContent).toMatch(/^labeled bug/);
    expect(root.querySelector(".al-record").textContent).toContain("record 43");
  });
});
