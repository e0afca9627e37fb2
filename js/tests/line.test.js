// @vitest-environment jsdom
// The page's short line (line.js): answers show the next record at once, the kernel settles them
// in order, reranks replace only what the user has not seen, undo walks back across answers
// still on their way, and refusals are shown.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ANSWERS_APART_MS, createPageLine, kernelLine } from "../line.js";
import widget from "../widget.js";
import { core, mountCard, press, sentAnswers, settle, textCard, unmountCards, upcomingRecord } from "./fake-model.js";

const VIEW = "view-test";

/** A clock for the line that moves only when told: ``tick()`` as much as between a labeler's presses. */
function testClock() {
  let now = 0;
  const clock = () => now;
  clock.tick = (ms = ANSWERS_APART_MS) => {
    now += ms;
  };
  return clock;
}

/** The kernel's traits with its card at ``head`` and ``rest`` after it; ``through`` settled. */
function kernel(head, rest, through = 0, refused = []) {
  return {
    card: head === null ? { token: 99, key: "", key_label: "", kind: "done", text: "All 10 records are labeled" }
      : textCard({ key: `i:${head}`, key_label: String(head), token: head, text: `record ${head}` }),
    suggestion: {},
    votes: [],
    image: null,
    upcoming: rest.map((k) => upcomingRecord(k)),
    answered: through ? { [VIEW]: { through, refused } } : {},
  };
}

const keyOf = (entry) => (entry ? entry.key : null);
const keys = (entries) => entries.map(keyOf);

describe("the page's line", () => {
  it("starts with the kernel's card on screen and its next records behind it", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2, 3, 4]));
    expect(keyOf(line.screen())).toBe("i:1");
    expect(keys(line.ahead())).toEqual(["i:2", "i:3", "i:4"]);
    expect(line.pending()).toBe(0);
  });

  it("shows the next record at once on an answer, and names the one the user saw", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2, 3]));
    const intent = line.answer("label", "bug");
    expect(intent).toMatchObject({ action: "label", key: "i:1", label: "bug", view: VIEW, seq: 1, next: "i:2" });
    expect(keyOf(line.screen())).toBe("i:2");
    expect(line.pending()).toBe(1);
  });

  it("says with each answer how many earlier answers are still on their way, so the kernel sends that many more", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2, 3, 4, 5]));
    expect(line.answer("label", "bug").behind).toBe(0);
    expect(line.answer("skip").behind).toBe(1);
    expect(line.answer("label", "bug").behind).toBe(2);
    line.receive(kernel(3, [4, 5, 6], 2)); // the kernel settled the first two
    expect(line.answer("label", "bug").behind).toBe(1);
  });

  it("is topped up by the kernel while answers are on their way, never showing an answered record again", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2, 3]));
    line.answer("label", "bug"); // 1
    line.answer("label", "bug"); // 2 -> screen 3
    // the kernel has committed the first answer only: its card is 2 (answered here, in flight)
    line.receive(kernel(2, [3, 4, 5, 6], 1));
    expect(keyOf(line.screen())).toBe("i:3");
    expect(keys(line.ahead())).toEqual(["i:4", "i:5", "i:6"]);
    expect(line.pending()).toBe(1);
    line.receive(kernel(3, [4, 5, 6, 7], 2));
    expect(line.pending()).toBe(0);
    expect(keyOf(line.screen())).toBe("i:3");
    expect(keys(line.ahead())).toEqual(["i:4", "i:5", "i:6", "i:7"]);
  });

  it("lets a rerank replace the records not yet shown, never the one on screen", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2, 3, 4]));
    line.answer("label", "bug"); // screen 2, answer 1 in flight
    // a fit reranked the line before the answer was committed: 9, 8, 7 come next
    line.receive(kernel(1, [9, 8, 7]));
    expect(keyOf(line.screen())).toBe("i:2");
    expect(keys(line.ahead())).toEqual(["i:9", "i:8", "i:7"]);
  });

  it("keeps the record on screen when the kernel's new card is a different one, until all is settled", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2, 3]));
    line.answer("skip"); // screen 2
    line.receive(kernel(5, [2, 6], 0)); // not settled yet
    expect(keyOf(line.screen())).toBe("i:2");
    expect(keys(line.ahead())).toEqual(["i:5", "i:6"]);
  });

  it("undoes across answers still on their way: each undo brings the last answered record back", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2, 3, 4]));
    line.answer("label", "bug");
    line.answer("label", "feature");
    expect(keyOf(line.screen())).toBe("i:3");
    const first = line.undo();
    expect(first).toMatchObject({ action: "undo", key: "i:2", seq: 3 });
    expect(line.screen()).toMatchObject({ key: "i:2", previous_label: "feature" });
    const second = line.undo();
    expect(second).toMatchObject({ action: "undo", key: "i:1", seq: 4 });
    expect(line.screen()).toMatchObject({ key: "i:1", previous_label: "bug" });
    expect(keys(line.ahead())).toEqual(["i:2", "i:3", "i:4"]);
    expect(line.pending()).toBe(4);
    // the kernel applies all four in order: it is back where it began
    line.receive(kernel(1, [2, 3, 4], 4));
    expect(keyOf(line.screen())).toBe("i:1");
    expect(line.pending()).toBe(0);
  });

  it("undo of a skip shows the record again without a previous label", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2]));
    line.answer("skip");
    line.undo();
    expect(line.screen()).toMatchObject({ key: "i:1", previous_label: null });
  });

  it("an undo names the answer it takes back, so a keep in review is never taken for a label", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2]));
    line.answer("label", "bug");
    expect(line.undo()).toMatchObject({ action: "undo", key: "i:1", undoes: "label" });
    expect(line.undo()).toMatchObject({ action: "undo", key: null });
  });

  it("an answer the kernel refused leaves the undo history: the next undo names the one before", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2, 3]));
    line.answer("label", "bug"); // seq 1, saved
    line.answer("label", "feature"); // seq 2, refused: row 2 was labeled elsewhere
    line.receive(kernel(3, [4], 2, [[2, "i:2", "Row 2 already has the label 'question'."]]));
    expect(line.undo()).toMatchObject({ action: "undo", key: "i:1" });
    expect(line.screen()).toMatchObject({ key: "i:1", previous_label: "bug" });
  });

  it("undo with nothing answered on this page follows the kernel's card once it is settled", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(5, [6]));
    expect(line.undo()).toMatchObject({ action: "undo", key: null, seq: 1 });
    expect(keyOf(line.screen())).toBe("i:5");
    line.receive(kernel(4, [5, 6], 1)); // the kernel took back row 4, answered in an earlier session
    expect(keyOf(line.screen())).toBe("i:4");
  });

  it("shows a refusal and forgets it on the next answer", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2, 3]));
    line.answer("label", "bug");
    line.receive(kernel(2, [3], 1, [[1, "i:1", "Row 1 already has the label 'feature'; nothing changed."]]));
    expect(line.refusal()).toBe("Row 1 already has the label 'feature'; nothing changed.");
    expect(line.pending()).toBe(0);
    line.answer("label", "bug");
    expect(line.refusal()).toBe("");
  });

  it("says the next record is on its way when the page has answered all it held", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, []));
    line.answer("label", "bug");
    expect(line.screen()).toBeNull();
    expect(line.answer("label", "bug")).toBeNull(); // nothing to answer: nothing sent
    line.receive(kernel(2, [3], 1));
    expect(keyOf(line.screen())).toBe("i:2");
  });

  it("keeps a record it showed after running out, when the kernel settles everything with a card of its own", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2]));
    line.answer("label", "bug"); // screen 2
    const last = line.answer("label", "bug"); // nothing more in the page: the kernel is told of no next record
    expect(last.next).toBeNull();
    line.receive(kernel(2, [3, 4], 1)); // a top-up while the answer on 2 is on its way: 3 comes on screen
    expect(keyOf(line.screen())).toBe("i:3");
    // every answer settled; told of no next record, the kernel put its own pick on after a fit: 9
    line.receive(kernel(9, [3, 4], 2));
    expect(keyOf(line.screen())).toBe("i:3"); // the record the user is looking at stays
    expect(keys(line.ahead())).toEqual(["i:9", "i:4"]);
    const next = line.answer("label", "feature");
    expect(next.key).toBe("i:3");
    expect(next.next).toBe("i:9");
    // once the kernel follows the page again its card is the screen as before
    line.receive(kernel(9, [4], 3));
    expect(keyOf(line.screen())).toBe("i:9");
  });

  it("keeps a record it showed after running out though a rerank left it out of the kernel's short line", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, []));
    line.answer("label", "bug");
    line.receive(kernel(1, [3, 4], 0)); // a top-up before the answer is settled: 3 on screen
    expect(keyOf(line.screen())).toBe("i:3");
    line.receive(kernel(9, [8, 4], 1)); // a fit: the kernel's line is 9, 8, 4 now, 3 further down
    expect(keyOf(line.screen())).toBe("i:3");
    expect(keys(line.ahead())).toEqual(["i:9", "i:8", "i:4"]);
    expect(line.answer("label", "bug").key).toBe("i:3");
  });

  it("follows the kernel's card as before when the record on screen is the kernel's own", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2]));
    line.answer("label", "bug"); // screen 2, announced as the answer's next record
    line.receive(kernel(9, [2], 1)); // the kernel put another card on (a review, a record brought back)
    expect(keyOf(line.screen())).toBe("i:9");
  });

  it("shows the kernel's done card when every record is labeled and nothing is on its way", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(null, []));
    expect(line.screen()).toMatchObject({ kind: "done" });
    expect(line.answer("label", "bug")).toBeNull();
  });

  it("accepts the suggestion that was on screen, and nothing without one", () => {
    const line = createPageLine(VIEW);
    const state = kernel(1, [2]);
    state.suggestion = { label: "feature", confidence: 0.91, weak: false };
    line.receive(state);
    expect(line.answer("accept")).toMatchObject({ action: "accept", key: "i:1", label: "feature", confidence: 0.91 });
    expect(line.answer("accept")).toBeNull(); // row 2 has no suggestion
  });

  it("sends each answer at once while the kernel keeps up, and a burst beyond eight unsettled as one message", () => {
    // eight messages of one answer each are unsettled: the next answers wait, then leave as one
    const clock = testClock();
    const line = createPageLine(VIEW, clock);
    line.receive(kernel(1, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]));
    const alone = [];
    for (let i = 0; i < 8; i += 1) {
      clock.tick();
      line.answer("label", "bug");
      alone.push(...line.outgoing());
    }
    expect(alone.map((intent) => intent.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    clock.tick();
    line.answer("skip");
    line.undo();
    line.answer("label", "feature");
    expect(line.outgoing()).toEqual([]); // eight unsettled: these wait
    expect(line.leavesIn()).toBe(null); // for the kernel, not for the clock
    expect(line.pending()).toBe(11);
    line.receive(kernel(4, [5, 6, 7, 8, 9, 10, 11, 12, 13], 3)); // the kernel settled three
    const together = line.outgoing();
    expect(together.map((intent) => [intent.seq, intent.action])).toEqual([[9, "skip"], [10, "undo"], [11, "label"]]);
    expect(line.outgoing()).toEqual([]);
    expect(line.pending()).toBe(8);
  });

  it("keeps the next message queued behind the one the kernel handles, however many answers it carries", () => {
    const clock = testClock();
    const line = createPageLine(VIEW, clock);
    line.receive(kernel(1, Array.from({ length: 30 }, (_, i) => i + 2)));
    for (let i = 0; i < 10; i += 1) line.answer("label", "bug");
    expect(line.outgoing().map((intent) => intent.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // one message
    clock.tick();
    line.answer("skip");
    expect(line.outgoing().map((intent) => intent.seq)).toEqual([11]); // a second one, queued behind it
    clock.tick();
    line.answer("skip");
    line.answer("skip");
    expect(line.outgoing()).toEqual([]); // two messages and eleven answers unsettled: these wait
    line.receive(kernel(11, Array.from({ length: 20 }, (_, i) => i + 12), 10)); // the first message settled
    expect(line.outgoing().map((intent) => intent.seq)).toEqual([12, 13]);
  });

  it("lets every waiting answer leave when forced (the card goes away)", () => {
    const clock = testClock();
    const line = createPageLine(VIEW, clock);
    line.receive(kernel(1, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
    for (let i = 0; i < 10; i += 1) {
      clock.tick();
      line.answer("label", "bug");
      line.outgoing();
    }
    clock.tick();
    line.answer("skip");
    expect(line.outgoing()).toEqual([]); // 9, 10 and 11 wait behind eight unsettled messages
    expect(line.outgoing(true).map((intent) => intent.seq)).toEqual([9, 10, 11]);
  });

  it("sends an answer pressed soon after the last message with the next press, or once ANSWERS_APART_MS has passed", () => {
    const clock = testClock();
    const line = createPageLine(VIEW, clock);
    line.receive(kernel(1, Array.from({ length: 12 }, (_, i) => i + 2)));
    line.answer("label", "bug");
    expect(line.outgoing().map((intent) => intent.seq)).toEqual([1]); // the first leaves at once
    expect(line.leavesIn()).toBe(null);
    clock.tick(50);
    line.answer("label", "bug");
    expect(line.outgoing()).toEqual([]); // 50 ms after the last message: it waits
    expect(line.leavesIn()).toBe(ANSWERS_APART_MS - 50);
    expect(line.pending()).toBe(2); // and counts as on its way
    clock.tick(ANSWERS_APART_MS - 50);
    line.answer("skip");
    expect(line.outgoing().map((intent) => [intent.seq, intent.action])).toEqual([[2, "label"], [3, "skip"]]);
    clock.tick(30);
    line.undo();
    expect(line.outgoing()).toEqual([]);
    clock.tick(line.leavesIn()); // no press came: the clock lets it go
    expect(line.outgoing().map((intent) => [intent.seq, intent.action])).toEqual([[4, "undo"]]);
    clock.tick(5 * ANSWERS_APART_MS); // a labeler who pauses
    line.answer("label", "feature");
    expect(line.outgoing().map((intent) => intent.seq)).toEqual([5]);
    line.answer("label", "feature");
    expect(line.outgoing(true).map((intent) => intent.seq)).toEqual([6]); // forced: at once
  });

  it("puts back answers that failed to leave together, newest first, undo included", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2, 3, 4]));
    line.answer("label", "bug"); // 1 -> screen 2
    line.answer("label", "bug"); // 2 -> screen 3
    line.undo(); // 3 -> screen 2 again
    line.undo(); // 4 -> screen 1 again
    const batch = line.outgoing();
    for (const intent of batch.slice().reverse()) line.retract(intent);
    expect(keyOf(line.screen())).toBe("i:1");
    expect(keys(line.ahead())).toEqual(["i:2", "i:3", "i:4"]);
    expect(line.pending()).toBe(0);
    expect(line.answer("label", "bug").seq).toBe(1); // none of them left: the numbers are free again
  });

  it("puts the page back when an answer could not be sent", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2, 3]));
    const intent = line.answer("label", "bug");
    line.retract(intent);
    expect(keyOf(line.screen())).toBe("i:1");
    expect(keys(line.ahead())).toEqual(["i:2", "i:3"]);
    expect(line.pending()).toBe(0);
  });

  it("reads the kernel's card with its suggestion, votes and image as the head of the line", () => {
    const image = new DataView(new ArrayBuffer(3));
    const line = kernelLine({ card: textCard(), suggestion: { label: "bug" }, votes: [["kw", "bug"]], image, upcoming: [] });
    expect(line[0]).toMatchObject({ key: "i:42", suggestion: { label: "bug" }, votes: [["kw", "bug"]], image });
  });
});

describe("the card with the page's line", () => {
  const mount = (state = {}) => mountCard(widget, state);

  beforeEach(() => {
    URL.createObjectURL = vi.fn(() => "blob:card");
    URL.revokeObjectURL = vi.fn();
    vi.spyOn(console, "warn").mockImplementation(() => {});
  });

  afterEach(() => {
    unmountCards();
    vi.restoreAllMocks();
  });

  it("answers a burst of presses faster than the kernel, each on the record that was on screen", () => {
    const records = [7, 8, 9, 10, 11, 12, 13].map((k) => upcomingRecord(k));
    const { model, root } = mount({ upcoming: records });
    const seen = [];
    for (const key of ["1", "2", "3", "1", "s", "2"]) {
      seen.push(root.querySelector(".al-key").textContent);
      press(root, key);
    }
    expect(seen).toEqual(["row 42", "row 7", "row 8", "row 9", "row 10", "row 11"]);
    expect(model.sent.map((m) => [m.key, m.action, m.label ?? null])).toEqual([
      ["i:42", "label", "bug"], ["i:7", "label", "feature"], ["i:8", "label", "question"],
      ["i:9", "label", "bug"], ["i:10", "skip", null], ["i:11", "label", "feature"],
    ]);
    expect(root.querySelector(".al-store").textContent).toBe("saving to /data/tickets.labels.db · 6 answers on their way");
    settle(model, records);
    expect(root.querySelector(".al-store").textContent).toBe("saving to /data/tickets.labels.db · all saved");
    expect(root.querySelector(".al-key").textContent).toBe("row 12");
  });

  it("sends a burst that outruns the kernel by more than eight as one message, in the order pressed", () => {
    const records = Array.from({ length: 14 }, (_, i) => upcomingRecord(i + 1));
    const { model, root } = mount({ upcoming: records });
    const keysPressed = ["1", "2", "3", "1", "2", "3", "1", "2", "s", "z", "3"];
    for (const key of keysPressed) press(root, key);
    expect(model.sent.map((m) => m.action)).toEqual(["label", "label", "label", "label", "label", "label", "label", "label"]);
    expect(root.querySelector(".al-store").textContent).toContain("11 answers on their way");
    // the kernel settles the first eight: the three pressed meanwhile leave together
    model.setMany({ answered: { [model.sent[0].view]: { through: 8, refused: [] } } });
    const batch = model.sent.at(-1);
    expect(batch.action).toBe("answers");
    expect(batch.answers.map((a) => [a.seq, a.action, a.key])).toEqual([[9, "skip", "i:8"], [10, "undo", "i:8"], [11, "label", "i:8"]]);
    expect(sentAnswers(model).map((a) => a.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    settle(model, records);
    expect(root.querySelector(".al-store").textContent).toContain("all saved");
  });

  it("sends answers pressed less than ANSWERS_APART_MS after the last message together, and a session intent after them", () => {
    vi.useFakeTimers({ toFake: ["performance", "setTimeout", "clearTimeout"] });
    const records = Array.from({ length: 10 }, (_, i) => upcomingRecord(i + 1));
    const { model, root } = mount({ upcoming: records });
    const messages = () => model.sent.map((m) => (m.action === "answers" ? m.answers.map((a) => a.seq) : [m.seq ?? m.action]));
    for (const key of ["1", "2", "3", "1", "2"]) { // 25 presses a second
      press(root, key, { quick: true });
      vi.advanceTimersByTime(0.4 * ANSWERS_APART_MS);
    }
    // the first at once; the next two when the clock let them go, then the two after those
    expect(messages()).toEqual([[1], [2, 3], [4, 5]]);
    press(root, "3", { quick: true });
    expect(messages().length).toBe(3); // it waits, and counts as on its way
    expect(root.querySelector(".al-store").textContent).toContain("6 answers on their way");
    press(root, "r", { quick: true }); // retrain: the answer pressed before it reaches the kernel first
    expect(messages()).toEqual([[1], [2, 3], [4, 5], [6], ["retrain"]]);
    vi.advanceTimersByTime(ANSWERS_APART_MS);
    expect(sentAnswers(model).map((a) => a.seq)).toEqual([1, 2, 3, 4, 5, 6]); // each answer once
  });

  it("sends the answers still waiting when the page is closed or left", () => {
    const records = Array.from({ length: 12 }, (_, i) => upcomingRecord(i + 1));
    const { model, root } = mount({ upcoming: records });
    for (const key of "1231231231") press(root, key);
    expect(sentAnswers(model).map((a) => a.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    window.dispatchEvent(new Event("pagehide"));
    expect(sentAnswers(model).map((a) => a.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("a card whose kernel dies with answers on their way says how many were not saved", () => {
    const { model, root } = mount({ upcoming: [7, 8, 9].map((k) => upcomingRecord(k)) });
    press(root, "1");
    press(root, "2");
    model.killKernel();
    press(root, "3"); // this one never leaves the page: its record stays on the card
    const banner = root.querySelector(".al-dead");
    expect(banner.hidden).toBe(false);
    expect(banner.textContent).toContain("2 answers were on the way and may not be saved");
    expect(root.querySelector(".al-key").textContent).toBe("row 8");
    expect(model.sent.map(core).map((m) => m.key)).toEqual(["i:42", "i:7"]);
  });

  it("takes back an answer still waiting to leave when the kernel goes: its record stays on the card, not counted as sent", () => {
    const { model, root } = mount({ upcoming: [7, 8, 9].map((k) => upcomingRecord(k)) });
    press(root, "1");
    press(root, "2", { quick: true }); // waits: pressed right after the last message
    model.emit("comm:close");
    const banner = root.querySelector(".al-dead");
    expect(banner.textContent).toContain("1 answer was on the way and may not be saved");
    expect(root.querySelector(".al-key").textContent).toBe("row 7");
    expect(sentAnswers(model).map((a) => a.key)).toEqual(["i:42"]);
  });

  it("takes back an answer whose time to leave comes after the kernel is gone, and shows its record again", () => {
    vi.useFakeTimers({ toFake: ["performance", "setTimeout", "clearTimeout"] });
    const { model, root } = mount({ upcoming: [7, 8, 9].map((k) => upcomingRecord(k)) });
    press(root, "1");
    press(root, "2", { quick: true });
    expect(root.querySelector(".al-key").textContent).toBe("row 8");
    model.killKernel(); // nothing says so until a send fails
    vi.advanceTimersByTime(ANSWERS_APART_MS);
    expect(root.querySelector(".al-dead").textContent).toContain("1 answer was on the way and may not be saved");
    expect(root.querySelector(".al-key").textContent).toBe("row 7");
  });

  it("shows the kernel's refusal of an answer on the card", () => {
    const { model, root } = mount({ upcoming: [upcomingRecord(7)] });
    press(root, "1");
    const [sent] = model.sent;
    model.set("answered", { [sent.view]: { through: 1, refused: [[1, "i:42", "Row 42 already has the label 'bug'."]] } });
    expect(root.querySelector(".al-notice").textContent).toBe("Row 42 already has the label 'bug'.");
  });
});

describe("the record on screen is redrawn only when it changed", () => {
  it("keeps the same object when the kernel's next message says the same about it", () => {
    const line = createPageLine(VIEW);
    const state = kernel(1, [2, 3]);
    line.receive(state);
    const before = line.screen();
    line.receive({ ...state, card: { ...state.card }, upcoming: state.upcoming.map((r) => ({ ...r })) });
    expect(line.screen()).toBe(before);
    line.receive({ ...state, card: { ...state.card, reason: "picked before the latest fit" } });
    expect(line.screen()).not.toBe(before);
    expect(line.screen().reason).toBe("picked before the latest fit");
  });

  it("keeps the same object while answers are on their way and nothing about it changed", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2, 3]));
    line.answer("label", "bug");
    const onScreen = line.screen();
    line.receive(kernel(1, [2, 3]));
    expect(line.screen()).toBe(onScreen);
  });
});

describe("undo while the kernel is behind", () => {
  it("keeps the records an undo brought back ahead, though the kernel's next message does not list them yet", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2, 3, 4, 5, 6, 7]));
    for (const label of ["bug", "feature", "question", "bug", "feature"]) line.answer("label", label); // 1..5
    expect(keyOf(line.screen())).toBe("i:6");
    line.undo(); // 5 back
    line.undo(); // 4 back
    expect(keyOf(line.screen())).toBe("i:4");
    // the kernel has committed only the first answer: 4 and 5 are labeled in its view
    line.receive(kernel(2, [3, 6, 7, 8], 1));
    expect(keys(line.ahead())).toEqual(["i:5", "i:6", "i:7", "i:8"]);
    line.answer("label", "question"); // 4 relabeled
    expect(keyOf(line.screen())).toBe("i:5");
    line.answer("label", "bug");
    expect(keyOf(line.screen())).toBe("i:6");
  });
});

describe("a record's content travels once", () => {
  /** How the kernel names a record the page holds already: what may change, and `same`. */
  const same = (key, overrides = {}) => ({ key: `i:${key}`, same: true, reason: "confidence 0.30 (hybrid)",
                                           suggestion: {}, votes: [], ...overrides });

  it("takes the content of a record the kernel sent before from the page's copy, with what changed", () => {
    const line = createPageLine(VIEW);
    const image = new DataView(new ArrayBuffer(8));
    line.receive({ ...kernel(1, []), upcoming: [upcomingRecord(2, { kind: "image", text: "", image }), upcomingRecord(3)] });
    line.receive({ ...kernel(1, []), upcoming: [same(3, { suggestion: { label: "bug", confidence: 0.9 } }), same(2), upcomingRecord(4)] });
    const [three, two, four] = line.ahead();
    expect(three).toMatchObject({ key: "i:3", text: "record 3", kind: "text", suggestion: { label: "bug" } });
    expect(three.same).toBeUndefined();
    expect(two.image).toBe(image);
    expect(two.reason).toBe("confidence 0.30 (hybrid)");
    expect(four.text).toBe("record 4");
    expect(line.missing()).toBe(false);
  });

  it("keeps the content of a record it answered and the kernel still lists, by the page's own copy", () => {
    const line = createPageLine(VIEW);
    line.receive(kernel(1, [2, 3]));
    line.answer("label", "bug"); // screen 2
    line.receive({ ...kernel(1, []), upcoming: [same(2), same(3), upcomingRecord(4)] });
    expect(keyOf(line.screen())).toBe("i:2");
    expect(line.screen().text).toBe("record 2");
    expect(line.ahead().map((e) => e.text)).toEqual(["record 3", "record 4"]);
  });

  it("shows the kernel's card named by key from the page's copy, image included, with what changed", () => {
    const line = createPageLine(VIEW);
    const image = new DataView(new ArrayBuffer(8));
    line.receive({ ...kernel(1, []), upcoming: [upcomingRecord(2, { kind: "image", text: "", image }), upcomingRecord(3)] });
    // the card moved to record 2 outside this page (another view, a skip from the notebook): named by key
    const card = { token: 2, key: "i:2", same: true, reason: "picked for coverage", note: "", review: false, given: null };
    const suggestion = { label: "bug", confidence: 0.8 };
    line.receive({ ...kernel(1, []), card, image: new DataView(new ArrayBuffer(0)), suggestion,
      upcoming: [same(3), upcomingRecord(4)] });
    expect(line.screen()).toMatchObject({ key: "i:2", kind: "image", token: 2, reason: "picked for coverage",
      suggestion: { label: "bug" } });
    expect(line.screen().image).toBe(image);
    expect(line.screen().same).toBeUndefined();
    expect(keys(line.ahead())).toEqual(["i:3", "i:4"]);
    expect(line.missing()).toBe(false);
  });

  it("shows nothing for a card named by key it never had, asks, and shows it when it comes whole", () => {
    const line = createPageLine(VIEW);
    const card = { token: 5, key: "i:5", same: true, reason: "r", note: "", review: false, given: null };
    line.receive({ ...kernel(1, []), card, upcoming: [upcomingRecord(6)] });
    expect(line.screen()).toBe(null); // never the next record in its place
    expect(line.missing()).toBe(true);
    line.receive(kernel(5, [6]));
    expect(keyOf(line.screen())).toBe("i:5");
    expect(line.screen().text).toBe("record 5");
    expect(line.missing()).toBe(false);
  });

  it("leaves out a record whose content it never had, and says so", () => {
    const line = createPageLine(VIEW);
    line.receive({ ...kernel(1, []), upcoming: [same(2), upcomingRecord(3)] });
    expect(keys(line.ahead())).toEqual(["i:3"]);
    expect(line.missing()).toBe(true);
    line.receive(kernel(1, [2, 3]));
    expect(keys(line.ahead())).toEqual(["i:2", "i:3"]);
    expect(line.missing()).toBe(false);
  });
});

describe("a card drawn after the kernel sent the line's content", () => {
  const mount = (state = {}) => mountCard(widget, state);
  afterEach(unmountCards);

  it("asks for the whole line once and shows it when it comes", () => {
    const stub = { key: "i:7", same: true, reason: "confidence 0.30 (hybrid)", suggestion: {}, votes: [] };
    const { model, root } = mount({ upcoming: [stub] });
    expect(model.sent.map((m) => m.action)).toContain("line");
    press(root, "1"); // the card's own record is whole: it is answered, and nothing is left to show
    expect(root.textContent).toContain("The next record is on its way");
    model.setMany({ upcoming: [upcomingRecord(8)] });
    expect(root.querySelector(".al-key").textContent).toBe("row 8");
    expect(model.sent.filter((m) => m.action === "line")).toHaveLength(1);
  });

  it("shows no record while the card itself is named by key, asks once, and shows it when it comes whole", () => {
    const card = { token: 7, key: "i:7", same: true, reason: "confidence 0.30 (hybrid)", review: false, given: null, note: "" };
    const { model, root } = mount({ card, upcoming: [upcomingRecord(8)] });
    expect(model.sent.map((m) => m.action)).toEqual(expect.arrayContaining(["line"]));
    expect(root.textContent).toContain("The next record is on its way");
    press(root, "1"); // nothing on screen: nothing is answered
    expect(sentAnswers(model)).toHaveLength(0);
    model.setMany({ card: textCard({ key: "i:7", key_label: "7", token: 7, text: "record seven" }) });
    expect(root.querySelector(".al-key").textContent).toBe("row 7");
    expect(root.textContent).toContain("record seven");
    expect(model.sent.filter((m) => m.action === "line")).toHaveLength(1);
  });
});
