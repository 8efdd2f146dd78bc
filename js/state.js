// Pure state logic of the annotation widget: no DOM here, so it is easy to test.
//
// The kernel is the authority: its `queue` trait lists the tasks handed to front ends and not yet
// answered, `history` the last decisions, `acks` the last message number it processed from each
// front end. A key press must not wait for the kernel, so the view keeps its own unacknowledged
// operations and re-applies them on top of the kernel's state every time it renders
// ("optimistic update + rebase"). When the kernel acknowledges an operation it drops out of the
// local list; if the kernel rejected it (say the database was locked), the kernel's state simply
// shows the task again.

/** @typedef {import("./messages.js").Task} Task */
/** @typedef {import("./messages.js").Span} Span */
/** @typedef {import("./messages.js").HistoryRow} HistoryRow */
/** @typedef {import("./messages.js").Answer} Answer */
/** @typedef {import("./messages.js").Counts} Counts */
/** @typedef {import("./messages.js").Progress} Progress */
/** @typedef {import("./messages.js").Op} Op */
/** @typedef {import("./messages.js").Derived} Derived */

/** @type {Answer[]} */
export const ANSWERS = ["accept", "reject", "ignore"];

/**
 * Code-point aware slice: Python offsets count code points, JS strings count UTF-16 units.
 * @param {string[]} chars
 * @param {number} start
 * @param {number} end
 */
export function cpSlice(chars, start, end) {
  return chars.slice(start, end).join("");
}

/**
 * Split a task's text into [before, span, after] around its first span (code-point offsets).
 * @param {Task} task
 */
export function splitText(task) {
  const text = typeof task.text === "string" ? task.text : String(task.text ?? "");
  const chars = Array.from(text);
  const span = (task.spans || [])[0];
  if (!span) return { before: text, span: "", after: "", spanObj: null };
  const start = Math.max(0, Math.min(chars.length, Number(span.start) || 0));
  const end = Math.max(start, Math.min(chars.length, Number(span.end) || 0));
  return {
    before: cpSlice(chars, 0, start),
    span: cpSlice(chars, start, end),
    after: cpSlice(chars, end, chars.length),
    spanObj: span,
  };
}

/**
 * True for a "is this the complete analysis?" task (all the sentence's entities, or none).
 * @param {Task | null | undefined} task
 */
export function isWhole(task) {
  return Boolean(task && task.meta && task.meta.whole);
}

/**
 * True when `task` is a question about one span (not a whole analysis, not a manual text) whose
 * span shares a character with `span` on the same text: once `span` is accepted its answer is
 * known (entities do not overlap), and the kernel settles it too.
 * @param {Task | null | undefined} task
 * @param {string | undefined} inputHash
 * @param {Span} span
 */
export function overlapsAccepted(task, inputHash, span) {
  if (!task || task.input_hash !== inputHash || isWhole(task) || task.view_id === "ner_manual") return false;
  const spans = task.spans || [];
  if (spans.length !== 1) return false;
  return Number(spans[0].start) < Number(span.end) && Number(span.start) < Number(spans[0].end);
}

/**
 * Split a task's text into segments, each {text} or {text, span} for every span, in order
 * (code-point offsets; overlapping spans are skipped, as spaCy entities cannot overlap).
 * @param {Task} task
 * @returns {({text: string, span?: Span})[]}
 */
export function segments(task) {
  const text = typeof task.text === "string" ? task.text : String(task.text ?? "");
  const chars = Array.from(text);
  const spans = [...(task.spans || [])].sort((a, b) => Number(a.start) - Number(b.start));
  const out = [];
  let pos = 0;
  for (const span of spans) {
    const wanted = Number(span.start) || 0;
    if (pos > 0 && wanted < pos) continue; // overlaps the span before
    const start = Math.max(pos, Math.min(chars.length, wanted));
    const end = Math.max(start, Math.min(chars.length, Number(span.end) || 0));
    if (end === start) continue;
    if (start > pos) out.push({ text: cpSlice(chars, pos, start) });
    out.push({ text: cpSlice(chars, start, end), span });
    pos = end;
  }
  if (pos < chars.length) out.push({ text: cpSlice(chars, pos, chars.length) });
  return out;
}

/**
 * A history row for a task answered locally (same shape as the kernel's rows). `spans`: the
 * edited spans sent with a manual answer.
 * @param {Task} task
 * @param {Answer} answer
 * @param {{start: number, end: number, label: string}[]} [spans]
 * @returns {HistoryRow}
 */
export function historyRow(task, answer, spans) {
  if (task.view_id === "ner_manual") {
    const chars = Array.from(typeof task.text === "string" ? task.text : String(task.text ?? ""));
    return {
      task_hash: task.task_hash, text: task.text, span_text: "", label: null, whole: false,
      manual: true, answer, score: null, source: null, pending: true,
      spans: (spans || task.spans || []).map((s) => ({ text: cpSlice(chars, s.start, s.end), label: s.label })),
    };
  }
  const whole = isWhole(task);
  const { span, spanObj } = whole ? { span: "", spanObj: null } : splitText(task);
  return {
    task_hash: task.task_hash,
    text: task.text,
    span_text: span,
    label: spanObj ? spanObj.label : "",
    whole,
    spans: whole ? segments(task).filter((s) => s.span).map((s) => ({ text: s.text, label: /** @type {Span} */ (s.span).label })) : [],
    answer,
    score: spanObj ? spanObj.score ?? null : null,
    source: spanObj ? spanObj.source ?? null : null,
    pending: true,
  };
}

/**
 * Operations not yet acknowledged by the kernel (seq greater than the kernel's ack).
 * @param {Op[]} ops
 * @param {Record<string, number> | undefined} acks
 * @param {string} client
 */
export function unacked(ops, acks, client) {
  const done = (acks && acks[client]) || 0;
  return ops.filter((op) => /** @type {number} */ (op.seq) > done);
}

/**
 * @returns {Counts}
 */
function emptyCounts() {
  return { accept: 0, reject: 0, ignore: 0, total: 0 };
}

/**
 * @param {Counts | null} counts
 * @param {Answer} answer
 * @param {number} by
 */
function bump(counts, answer, by) {
  if (!counts || !ANSWERS.includes(answer)) return;
  counts[answer] = (counts[answer] || 0) + by;
  counts.total = (counts.total || 0) + by;
}

/**
 * True for a completion question ("are your accepts and the model's rest all the entities?").
 * @param {Task | null | undefined} task
 */
export function isCompletion(task) {
  return Boolean(task && task.meta && task.meta.completion);
}

/**
 * True for the correction of a rejected whole analysis (teach, correct_rejected): a manual task.
 * @param {Task | null | undefined} task
 */
export function isCorrection(task) {
  return Boolean(task && task.view_id === "ner_manual" && task.meta && task.meta.correction);
}

/**
 * Count actions into the progress' `actions` (if the kernel sends them).
 * @param {Progress} progress
 * @param {import("./messages.js").Actions | undefined} actions
 */
function addActions(progress, actions) {
  const counts = progress.actions;
  if (!counts || !actions) return;
  for (const [kind, n] of Object.entries(actions)) {
    if (typeof n !== "number" || !Number.isFinite(n)) continue;
    const k = /** @type {import("./messages.js").ActionKind} */ (kind);
    counts[k] = (counts[k] || 0) + n;
    counts.total = (counts.total || 0) + n;
  }
}

/**
 * What the view shows: the kernel's state with the local, unacknowledged operations applied.
 *
 * server: {queue, history, progress}; ops: unacknowledged ops in order; cache: Map task_hash ->
 * task of every task this view has seen (an undo brings one back before the kernel says so);
 * shown: task_hash of the card on screen (the last derived task), if any.
 * @param {{queue?: Task[], history?: HistoryRow[], progress?: Progress}} server
 * @param {Op[]} ops
 * @param {Map<string, Task>} cache
 * @param {string | null} [shown]
 * @returns {Derived}
 */
export function derive(server, ops, cache, shown = null) {
  const queue = (server.queue || []).slice();
  const undone = new Set(); // brought back by a local undo: shown first, whatever they are
  const history = (server.history || []).map((h) => ({ ...h }));
  const progress = JSON.parse(JSON.stringify(server.progress || {}));
  // null: not known (the kernel sends dataset: null once the session is closed); stays so.
  const counts = (/** @type {"session" | "dataset"} */ name) => (progress[name] === null ? null : progress[name] || (progress[name] = emptyCounts()));
  const session = counts("session");
  const dataset = counts("dataset");
  const count = (/** @type {Answer} */ answer, /** @type {number} */ by) => {
    bump(session, answer, by);
    bump(dataset, answer, by);
  };
  for (const op of ops) {
    if (op.type === "answer") {
      const i = queue.findIndex((t) => t.task_hash === op.task_hash);
      const task = i >= 0 ? queue.splice(i, 1)[0] : cache.get(op.task_hash);
      if (task) history.unshift(historyRow(task, op.answer, op.spans));
      addActions(progress, op.actions);
      // A rejected whole analysis turns into its correction at once, as the kernel queues it.
      if (task && op.answer === "reject" && task.correction && !queue.some((t) => t.task_hash === task.correction?.task_hash)) {
        queue.unshift(task.correction);
      }
      if (task && op.answer === "accept") {
        // What the accept settles leaves at once, as in the kernel: a complete analysis (or a
        // correction), its text's other questions; a span, the questions about spans that overlap it.
        const settled = isWhole(task) || isCorrection(task) ? (/** @type {Task} */ q) => q.input_hash === task.input_hash
          : task.view_id !== "ner_manual" && (task.spans || []).length === 1
            ? (/** @type {Task} */ q) => overlapsAccepted(q, task.input_hash, /** @type {Span[]} */ (task.spans)[0]) : null;
        if (settled) {
          for (let j = queue.length - 1; j >= 0; j--) if (settled(queue[j])) queue.splice(j, 1);
        }
      }
      count(op.answer, 1);
    } else if (op.type === "skip") {
      const i = queue.findIndex((t) => t.task_hash === op.task_hash);
      if (i >= 0) queue.splice(i, 1);
      addActions(progress, { skip: 1 });
    } else if (op.type === "undo") {
      const last = history.shift();
      if (!last) continue;
      count(last.answer, -1);
      addActions(progress, { undo: 1 });
      // The correction a reject brought goes with it.
      for (let j = queue.length - 1; j >= 0; j--) {
        const meta = queue[j].meta;
        if (isCorrection(queue[j]) && meta && meta.corrects === last.task_hash) queue.splice(j, 1);
      }
      const task = cache.get(last.task_hash);
      if (task && !queue.some((t) => t.task_hash === task.task_hash)) queue.unshift(task);
      if (task) undone.add(task.task_hash);
    } else if (op.type === "change") {
      const row = history.find((h) => h.task_hash === op.task_hash);
      if (row && row.answer !== op.answer) {
        addActions(progress, { change: 1 });
        count(row.answer, -1);
        count(op.answer, 1);
        row.answer = op.answer;
        row.pending = true;
      }
    }
  }
  // The kernel puts a completion question right after its first card. When this view has
  // answered that card already (not acknowledged yet), the question would come first here and
  // replace the card on screen: it goes right after that card instead.
  const at = queue.findIndex((t) => t.task_hash === shown);
  if (at > 0 && queue.slice(0, at).every((t) => isCompletion(t) && !undone.has(t.task_hash))) {
    queue.unshift(queue.splice(at, 1)[0]);
  }
  if (ops.length > 0 && session && session.accept + session.reject > 0) {
    // Same definition as the kernel's: accepted share of the accept/reject decisions.
    progress.accept_rate = session.accept / (session.accept + session.reject);
  }
  return { queue, history, progress, task: queue[0] || null };
}

// One colour per label. The session's labels (the widget's `labels` trait), sorted, take the palette's
// colours in order, so up to PALETTE.length labels never share one, and the same labels get the same
// colours in every session (whatever the order they were given in). A label outside that list (no
// list at all, or a label the session does not annotate) gets a colour by an FNV-1a hash of its
// name, among the colours the list leaves free.
//
// The palette: light colours on which the widget's dark text (#111) keeps a contrast of at least
// 7:1, so they read the same in light and dark themes; ordered so that the first ones differ most.
export const PALETTE = [
  "#ffd166", "#55c4fe", "#f594c3", "#78fad1", "#a4c295", "#e2ccfd",
  "#fa9d68", "#b6abf9", "#37d8c9", "#fac2af", "#b5e285", "#9bddee",
  "#d8b349", "#f5adf9", "#e1a6a5", "#d5cc97", "#81c4d0", "#96ddb6",
  "#9dc7fe", "#6cd092",
];

/**
 * @param {string} text
 */
function fnv1a(text) {
  let h = 0x811c9dc5;
  for (const ch of text) {
    h ^= /** @type {number} */ (ch.codePointAt(0));
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The colouring of a session with these labels: a function label -> colour.
 * @param {unknown} labels
 * @returns {(label: unknown) => string}
 */
export function labelColors(labels) {
  const known = [...new Set((Array.isArray(labels) ? labels : []).map(String))].sort();
  const index = new Map(known.map((name, i) => [name, i]));
  const free = known.length < PALETTE.length ? PALETTE.slice(known.length) : PALETTE;
  return (label) => {
    const name = String(label ?? "");
    const i = index.get(name);
    return i !== undefined ? PALETTE[i % PALETTE.length] : free[fnv1a(name) % free.length];
  };
}

/**
 * The colour of `label` in a session with these labels (see labelColors).
 * @param {unknown} label
 * @param {unknown} [labels]
 */
export function labelColor(label, labels = []) {
  return labelColors(labels)(label);
}
