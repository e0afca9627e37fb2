// @vitest-environment jsdom
// Answers besides a label on the card: reject a record (Delete or the button) and a note on it.
import { afterEach, describe, expect, it } from "vitest";
import { recentText } from "../card.js";
import widget from "../widget.js";
import { pace, press, textCard, upcomingRecord, mountCard, unmountCards } from "./fake-model.js";

afterEach(unmountCards);
const mount = (state = {}) => mountCard(widget, state);

describe("reject", () => {
  it("Delete and the button reject the record on screen and show the next at once", () => {
    const { model, root } = mount({ upcoming: [upcomingRecord(7), upcomingRecord(8)] });
    press(root, "Delete");
    expect(model.sent[0]).toMatchObject({ action: "reject", key: "i:42", seq: 1, next: "i:7" });
    expect(root.querySelector(".al-key").textContent).toBe("row 7");
    pace();
    [...root.querySelectorAll("button")].find((b) => b.textContent.endsWith("reject")).click();
    expect(model.sent[1]).toMatchObject({ action: "reject", key: "i:7", seq: 2, next: "i:8" });
    press(root, "z");
    expect(model.sent[2]).toMatchObject({ action: "undo", key: "i:7" });
    expect(root.querySelector(".al-key").textContent).toBe("row 7");
  });

  it("does nothing without a record on the card", () => {
    const { model, root } = mount({ card: { token: 3, key: "", key_label: "", kind: "done", text: "All done" } });
    press(root, "Delete");
    expect(model.sent).toEqual([]);
  });

  it("says what each recent answer was", () => {
    expect(recentText({ action: "reject" })).toBe("rejected");
    expect(recentText({ action: "note", note: "dup of 12" })).toBe("note: dup of 12");
    expect(recentText({ action: "note", note: "" })).toBe("note cleared");
  });
});

describe("a note on the record", () => {
  it("shows the record's note and saves a change for the record it was typed on", () => {
    const { model, root } = mount({ card: textCard({ note: "seen before" }) });
    const field = root.querySelector(".al-note-field");
    expect(root.querySelector(".al-note").hidden).toBe(false);
    expect(field.value).toBe("seen before");
    field.focus();
    field.value = "duplicate of 12";
    const event = press(field, "s"); // typing in the field: the card takes no command
    expect(event.defaultPrevented).toBe(false);
    field.dispatchEvent(new Event("change"));
    expect(model.sent).toEqual([expect.objectContaining({ action: "note", key: "i:42", text: "duplicate of 12" })]);
  });

  it("keeps what the user is typing when a sync comes, and follows the next record", () => {
    const { model, root } = mount({ card: textCard({ note: "" }) });
    const field = root.querySelector(".al-note-field");
    field.focus();
    field.value = "half a tho";
    model.set("progress", { labeled: 1, total: 5, session: 1, skipped: 0 });
    expect(field.value).toBe("half a tho");
    model.set("card", textCard({ key: "i:43", key_label: "43", token: 2, note: "other note" }));
    expect(field.value).toBe("other note");
  });
});
