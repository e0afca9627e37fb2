// The page's short line: the record on screen, the few after it, and the answers on their way.
//
// The kernel syncs the record on its card and the next few (`card`, `suggestion`, `votes`,
// `image`, `upcoming`). A key press answers the record on screen and shows the next one from
// this line at once, with no round trip; the answer goes to the kernel with the key of the
// record the user saw and a sequence number. The kernel applies answers in the order pressed
// and reports, per page view, the last one it has committed (`answered[view].through`) and the
// ones it refused. Pure: no DOM, no model; widget.js wires it.

/** Answers kept for undo (older ones are undone by the kernel alone, and the card follows it). */
const HISTORY_KEPT = 200;

/** What a record of the line says that never changes: sent once, kept by the page. */
const CONTENT = ["key_label", "kind", "text", "fields", "problem", "image"];

/** How many sent answers may be unsettled before new ones wait to leave together (a kernel keeping up sees each at once). */
const SENT_UNSETTLED_MOST = 8;

/**
 * Answers pressed within this long of the last message wait and leave together, with the next
 * press after it or when it has passed. Every message costs the kernel a round (its status goes
 * busy and idle, and it sends the card's state back), and the page, and the notebook around the
 * card, the work of taking those in: at typing speed this halves them, and the browser's frames
 * come more regularly (benchmarks/README.md). A labeler who pauses sends each answer at once.
 */
export const ANSWERS_APART_MS = 100;

/** Whether a record can be answered (not the "done" or "empty" placeholder). */
function answerable(entry) {
  return !!entry && typeof entry.key === "string" && entry.key !== "" && entry.kind !== "done" && entry.kind !== "empty";
}

/** Whether two records of the line say the same (each sync brings new objects for unchanged records). */
function sameEntry(a, b) {
  if (a === b) return true;
  if (!a || !b) return false;
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const name of names) {
    const x = a[name];
    const y = b[name];
    if (Object.is(x, y)) continue;
    if (x && y && typeof x === "object" && typeof y === "object") {
      if (ArrayBuffer.isView(x) || ArrayBuffer.isView(y)) {
        if (!(ArrayBuffer.isView(x) && ArrayBuffer.isView(y) && x.byteLength === y.byteLength)) return false;
        continue; // the same record's image: its bytes do not change within a session
      }
      if (JSON.stringify(x) === JSON.stringify(y)) continue;
    }
    return false;
  }
  return true;
}

/** ``next`` unless it says the same as ``current``: the card redraws only what changed. */
function keepIfSame(current, next) {
  return sameEntry(current, next) ? current : next;
}

/** A label as the card writes it: a label set as "a + b" ("no label" when empty). */
export function labelText(label) {
  if (Array.isArray(label)) return label.length ? label.join(" + ") : "no label";
  return label ?? null;
}

function suggestionOf(entry) {
  const s = entry && entry.suggestion;
  return s && typeof s === "object" && typeof s.label === "string" && s.label !== "" ? s : null;
}

/**
 * The kernel's short line as records: its card (with the card's suggestion, votes and image)
 * first, then the upcoming ones.
 */
export function kernelLine({ card, suggestion, votes, image, upcoming }) {
  const shown = !!card && typeof card === "object"
    && (answerable(card) || card.kind === "done" || card.kind === "empty");
  // a card named by key (`same`) takes its content, image included, from the page's copy
  const content = shown && card.same === true ? {} : { image: image ?? null };
  const head = shown
    ? [{ ...card, suggestion: suggestion || {}, votes: Array.isArray(votes) ? votes : [], ...content }]
    : [];
  const rest = Array.isArray(upcoming) ? upcoming.filter(answerable) : [];
  return head.concat(rest);
}

/**
 * Create the page's line for one view.
 *
 * @param {string} view this page view's id, sent with every answer.
 * @param {() => number} clock the time in ms (monotonic), for ANSWERS_APART_MS.
 * @returns the line: `receive(traits)` with the synced traits, `answer(action, label)` and
 *   `undo()` which return the intent to send (or null), `outgoing()` and `leavesIn()` which say
 *   what to send and when, and reads `screen()`, `ahead()`, `pending()`, `refusal()`.
 */
export function createPageLine(view, clock = () => globalThis.performance.now()) {
  let seq = 0;
  let screen = null; // the record on screen
  let ahead = []; // the records after it, in the kernel's order
  let inflight = []; // answers pressed and not yet settled by the kernel: {seq, action, key, taken}
  let outbox = []; // intents pressed while earlier answers were unsettled: they leave together
  let sentThrough = 0; // the last seq handed out to be sent
  let messages = []; // the last seq of each message handed out and not yet settled
  let lastSentAt = -Infinity; // when the last message was handed out (ms, by `clock`)
  let history = []; // records answered on this page, newest last: {entry, action, label, seq}
  let through = 0; // the last answer the kernel has settled (committed or refused)
  let refusal = ""; // the newest refusal, shown until the next answer
  let returned = []; // records an undo put back ahead of the kernel's line, until the kernel has caught up
  let held = new Map(); // key -> the kernel's line as last received, with content: records after it come as `same`
  let missing = false; // the kernel's line named records by `same` whose content this page never had
  // the record the page put on screen from a top-up after its last answer went with no next record
  // (`next: null`): the kernel was never told it is shown, and picks a card of its own meanwhile
  let unannounced = null;

  /**
   * Take the kernel's latest state. Answers it has settled leave the in-flight list. With none
   * in flight the page and the kernel agree (every answer tells the kernel which record the page
   * shows next), so the screen is the kernel's card. With answers in flight the page is ahead:
   * the record on screen stays (its reason, votes and token follow the kernel, and a suggestion
   * is filled in when it had none) and the records after it are the kernel's, minus the ones
   * answered here and still on their way.
   */
  function receive({ card, suggestion, votes, image, upcoming, answered }) {
    const mine = answered && typeof answered === "object" ? answered[view] : null;
    if (mine && Number.isInteger(mine.through) && mine.through > through) {
      const refused = Array.isArray(mine.refused) ? mine.refused.filter((r) => Array.isArray(r) && r[0] > through) : [];
      if (refused.length) refusal = String(refused[refused.length - 1][2] || "");
      // an answer the kernel refused saved nothing: an undo must not name it
      const unsaved = new Set(refused.map((r) => r[0]));
      history = history.filter((h) => !unsaved.has(h.seq));
      through = mine.through;
      inflight = inflight.filter((a) => a.seq > through);
      messages = messages.filter((last) => last > through);
    }
    const line = withContent(kernelLine({ card, suggestion, votes, image, upcoming }));
    // the kernel's card named by key with no copy here (a card drawn late): nothing to show until it comes
    const cardMissing = !!card && card.same === true && answerable(card) && !(line.length && line[0].key === card.key);
    if (!inflight.length) {
      const kept = keptOnScreen(line, cardMissing);
      unannounced = null;
      returned = [];
      if (kept) {
        // the user is looking at it: it stays, and the next answer names it and the one after it
        screen = kept;
        ahead = line.filter((entry) => answerable(entry) && entry.key !== kept.key);
        return;
      }
      screen = cardMissing ? null : keepIfSame(screen, line[0] || null);
      ahead = cardMissing ? line : line.slice(1);
      return;
    }
    if (answerable(screen)) {
      const fresh = line.find((entry) => entry.key === screen.key);
      if (fresh) screen = refreshed(fresh);
    }
    // answered here and not taken back by an undo, with the answer still on its way
    const flying = new Set(inflight.filter((a) => a.action !== "undo").map((a) => a.key));
    const answeredHere = new Set(history.map((h) => h.entry.key).filter((key) => flying.has(key)));
    const onScreen = answerable(screen) ? screen.key : null;
    // records an undo brought back come first: the kernel's view may not have them yet
    returned = returned.filter((entry) => !answeredHere.has(entry.key) && entry.key !== onScreen);
    const local = new Set(returned.map((entry) => entry.key));
    ahead = returned.concat(line.filter((entry) => answerable(entry) && !answeredHere.has(entry.key)
      && entry.key !== onScreen && !local.has(entry.key)));
    if (!answerable(screen)) {
      screen = ahead.shift() || null;
      unannounced = answerable(screen) ? screen.key : null;
    }
  }

  /**
   * With every answer settled the kernel's card is the page's screen, except for a record the page
   * showed unannounced: the kernel, told of no next record, put a card of its own on (after a fit,
   * another record than the one on screen, and the one on screen may have left the kernel's short
   * line). That record stays; should it have been labeled elsewhere meanwhile, the kernel refuses
   * its answer and says so, as for any record answered twice.
   */
  function keptOnScreen(line, cardMissing) {
    if (!answerable(screen) || screen.key !== unannounced) return null;
    if (!cardMissing && line[0] && line[0].key === screen.key) return null; // the kernel shows it too
    const fresh = line.find((entry) => answerable(entry) && entry.key === screen.key);
    return fresh ? refreshed(fresh) : screen;
  }

  /** The record on screen with what the kernel's copy of it may change: reason, votes, token, a suggestion it lacked. */
  function refreshed(fresh) {
    return keepIfSame(screen, {
      ...screen,
      reason: fresh.reason,
      votes: fresh.votes,
      token: fresh.token ?? screen.token,
      suggestion: suggestionOf(screen) ? screen.suggestion : fresh.suggestion,
    });
  }

  /**
   * A record's content (text, fields, image) travels once: a record the kernel sent before comes
   * as `same: true` with what may have changed, and takes its content from the page's copy. One
   * the page never had (a card drawn after it was sent) is left out, and `missing()` says so.
   */
  function withContent(line) {
    const copies = new Map(held);
    for (const entry of [screen, ...ahead, ...returned, ...history.map((h) => h.entry)]) {
      if (answerable(entry) && !copies.has(entry.key)) copies.set(entry.key, entry);
    }
    missing = false;
    const full = [];
    for (const entry of line) {
      if (entry.same !== true) {
        full.push(entry);
        continue;
      }
      const copy = copies.get(entry.key);
      if (!copy) {
        missing = true;
        continue;
      }
      const { same, ...fresh } = entry;
      full.push({ ...Object.fromEntries(CONTENT.map((name) => [name, copy[name]])), ...fresh });
    }
    held = new Map(full.filter(answerable).map((entry) => [entry.key, entry]));
    return full;
  }

  /**
   * Answer the record on screen ("label" with `label`, "accept", "skip", or "keep" on a record
   * shown in review) and show the next. Returns the intent to send, or null when there is
   * nothing to answer.
   */
  function answer(action, label) {
    if (!answerable(screen)) return null;
    const shown = suggestionOf(screen);
    if (action === "accept" && !shown) return null;
    if (action === "keep" && !screen.review) return null;
    const entry = screen;
    seq += 1;
    // how far the page runs ahead of the kernel: it sends that many more records for the line
    const behind = inflight.length;
    const intent = { action, key: entry.key, token: entry.token ?? null, view, seq, behind };
    if (entry.review) intent.review = true; // a labeled record walked again: another label corrects it
    // a multi-label suggestion names its set in `labels` (`label` is how the card writes it)
    const suggested = shown ? (Array.isArray(shown.labels) ? shown.labels : shown.label) : null;
    if (action === "label") {
      Object.assign(intent, { label, suggested, confidence: shown ? shown.confidence : null });
    } else if (action === "accept") {
      Object.assign(intent, { label: suggested, suggested, confidence: shown.confidence });
    }
    inflight.push({ seq, action, key: entry.key });
    outbox.push(intent);
    history.push({ entry, action, label: labelText(intent.label), seq });
    if (history.length > HISTORY_KEPT) history = history.slice(-HISTORY_KEPT);
    refusal = "";
    screen = ahead.shift() || null;
    unannounced = null;
    returned = returned.filter((e) => e.key !== entry.key && (!screen || e.key !== screen.key));
    intent.next = screen ? screen.key : null; // the kernel makes the page's next record its card
    return intent;
  }

  /** Take back the last answer: its record comes back on screen at once. Returns the intent. */
  function undo() {
    seq += 1;
    const last = history.pop();
    inflight.push({ seq, action: "undo", key: last ? last.entry.key : null, taken: last || null });
    refusal = "";
    unannounced = null;
    if (last) {
      if (answerable(screen)) {
        ahead.unshift(screen);
        returned.unshift(screen);
      }
      screen = { ...last.entry, previous_label: last.action === "skip" ? null : last.label };
    } // else: answered before this page held it: once the undo is settled the kernel's card shows it
    const intent = { action: "undo", key: last ? last.entry.key : null, token: null, view, seq };
    if (last) {
      // what is taken back: a keep in review saved nothing, so the kernel must not take back a label for it
      intent.undoes = last.action;
      if (last.entry.review) intent.review = true;
    }
    outbox.push(intent);
    return intent;
  }

  /** Whether the kernel lags so far behind that new answers wait for it (see `outgoing`). */
  function kernelLags() {
    const unsettled = inflight.filter((a) => a.seq <= sentThrough).length;
    return unsettled >= SENT_UNSETTLED_MOST && messages.length >= 2;
  }

  /**
   * The intents to send now (`force`: all that wait, e.g. as the card goes away). An answer goes
   * at once unless the last message left less than ANSWERS_APART_MS ago: then it waits for the
   * next press after that, or for `leavesIn()`. And while SENT_UNSETTLED_MOST answers sent are
   * unsettled, new ones wait and leave together, as one message, as soon as fewer than two
   * messages are unsettled: a kernel that lags handles one message and one top-up for a whole
   * burst, and always has the next one queued while it handles one, so it catches up instead of
   * falling behind.
   */
  function outgoing(force = false) {
    if (!outbox.length) return [];
    const now = clock();
    if (!force && (kernelLags() || now - lastSentAt < ANSWERS_APART_MS)) return [];
    const batch = outbox;
    outbox = [];
    sentThrough = batch[batch.length - 1].seq;
    messages.push(sentThrough);
    lastSentAt = now;
    return batch;
  }

  /**
   * In how many ms the answers waiting may leave (call `outgoing` then), or null when none waits
   * on the clock: none waits, or they wait for a lagging kernel, whose next state lets them go.
   */
  function leavesIn() {
    if (!outbox.length || kernelLags()) return null;
    return Math.max(0, lastSentAt + ANSWERS_APART_MS - clock());
  }

  /**
   * The newest intent could not be sent (the kernel is gone): put the page back as if the key had
   * not been pressed, so the card shows the record whose answer never left. Intents that failed
   * together are retracted newest first.
   */
  function retract(intent) {
    if (!intent || intent.seq !== seq) return;
    const record = inflight.find((a) => a.seq === intent.seq);
    inflight = inflight.filter((a) => a.seq !== intent.seq);
    outbox = outbox.filter((a) => a.seq !== intent.seq);
    seq -= 1; // it never left: the next press takes its number
    sentThrough = Math.min(sentThrough, seq);
    messages = messages.filter((last) => last <= seq);
    if (intent.action === "undo") {
      if (record && record.taken) {
        history.push(record.taken);
        screen = ahead.shift() || null;
      }
    } else {
      const last = history.pop();
      if (answerable(screen)) ahead.unshift(screen);
      screen = last.entry;
    }
  }

  return {
    receive,
    answer,
    undo,
    outgoing,
    leavesIn,
    retract,
    /** The record on screen (or the kernel's done / empty card), or null while the next is on its way. */
    screen: () => screen,
    /** The records after the one on screen. */
    ahead: () => ahead.slice(),
    /** The last `n` records answered on this page, newest last: what an undo brings back. */
    answeredLast: (n) => (n > 0 ? history.slice(-n).map((h) => h.entry) : []),
    /** Answers pressed and not yet settled by the kernel (sent, or waiting to leave together). */
    pending: () => inflight.length,
    /** The newest answer the kernel refused, "" when none since the last answer. */
    refusal: () => refusal,
    /** Whether the kernel's line named records whose content the page lacks (ask for the whole line). */
    missing: () => missing,
  };
}
