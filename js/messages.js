// The typed model of what travels between the kernel (nbannotate/widget.py) and the view: the
// synced traits the kernel sets, the custom messages the view sends, and the shapes inside them
// (task, span, history row, progress). Types only (JSDoc, checked by `npm run typecheck`).

/** @typedef {"accept" | "reject" | "ignore"} Answer */
/** @typedef {"loading" | "ready" | "done" | "error" | "closed"} Status */
/** @typedef {"teach" | "manual" | "review"} Mode */
/** @typedef {"ner" | "ner_manual"} ViewId */

/**
 * A span of a task (code-point offsets). Manual tasks carry token offsets too.
 * @typedef {object} Span
 * @property {number} start
 * @property {number} end
 * @property {string} label
 * @property {number | null} [score]
 * @property {string | null} [source] "model", "pattern", "gold", ...
 * @property {number} [token_start]
 * @property {number} [token_end]
 */

/**
 * A task as the kernel hands it out (widget.view_task). Hashes are strings: they are 64-bit.
 * @typedef {object} Task
 * @property {string} task_hash
 * @property {string} [input_hash]
 * @property {ViewId} [view_id]
 * @property {string} text
 * @property {Span[]} [spans]
 * @property {Record<string, unknown>} [meta] score, whole, completion, model_version, the user's own keys...
 * @property {[number, number][]} [tokens] manual tasks: [start, end] of every token
 * @property {string[]} [labels] manual tasks: the label choices
 * @property {Task} [correction] a whole analysis in teach (correct_rejected): the correction its
 *   reject puts first in the queue (a "ner_manual" task with meta.correction)
 * @property {Version[]} [versions] review tasks: the annotators' versions, most annotators first
 */

/**
 * One version of a review task's text (numbered 1, 2, ...: the keys that load it).
 * @typedef {object} Version
 * @property {number} n
 * @property {"complete" | "binary" | "rejected"} kind
 * @property {string[]} annotators
 * @property {string[]} [datasets]
 * @property {string} [when]
 * @property {Span[]} spans the complete analysis, or the accepted spans (token offsets included)
 * @property {Span[]} [rejected] spans rejected in binary answers
 */

/**
 * One of the last decisions, newest first (kernel's `history` trait, or a local pending one).
 * @typedef {object} HistoryRow
 * @property {string} task_hash
 * @property {string} [text]
 * @property {string} span_text
 * @property {string | null} label
 * @property {Answer} answer
 * @property {boolean} [whole]
 * @property {boolean} [manual]
 * @property {{text: string, label: string}[]} [spans]
 * @property {number | null} [score]
 * @property {string | null} [source]
 * @property {boolean} [pending] answered here, not acknowledged yet
 * @property {number | string | null} [review] review rows: the version chosen, or "edited"
 */

/**
 * Answer counts.
 * @typedef {{accept: number, reject: number, ignore: number, total: number}} Counts
 */

/**
 * The kernel's `progress` trait (session.progress). `dataset` is null once the session is closed.
 * @typedef {object} Progress
 * @property {Counts | null} [session]
 * @property {Counts | null} [dataset]
 * @property {number | null} [accept_rate]
 * @property {number} [updates]
 * @property {number} [model_version]
 * @property {number} [pending_update]
 * @property {number} [update_errors]
 * @property {number | null} [source_total]
 * @property {number} [source_read]
 * @property {number} [skipped_texts]
 * @property {boolean} [exhausted]
 * @property {number | null} [model_precision]
 * @property {number} [model_precision_answers]
 * @property {number[]} [model_precision_history]
 * @property {string} [progress_error]
 * @property {string | null} [annotator] this session's annotator
 * @property {Object<string, number>} [annotators] the dataset's answers per annotator ("": none)
 * @property {number} [held_by_others] texts waiting while another annotator's session holds them
 * @property {string | null} [store_error] the store's last failure (the server away), or null
 * @property {ActionCounts} [actions] the annotator's keys and clicks in the session
 * @property {{question: number | null, correction: number | null}} [entities_per_action] teach:
 *   entities each way of asking brought per action so far (a correction asked directly once it wins)
 * @property {Record<string, number>} [review] a review session's counts of texts
 */

/**
 * Actions per kind (nbannotate/effort.py), and their total.
 * @typedef {Record<ActionKind, number> & {total: number}} ActionCounts
 */

/**
 * The kinds of action: a key or button answering a question, a span selected, a label picked, a
 * span removed, a complete annotation submitted, an undo, a past answer changed, a correction left.
 * @typedef {"answer" | "select" | "label" | "remove" | "submit" | "undo" | "change" | "skip"} ActionKind
 */

/**
 * The actions behind one answer, per kind (kinds with none may be left out).
 * @typedef {Partial<Record<ActionKind, number>>} Actions
 */

/**
 * The synced traits of AnnotationWidget (kernel -> view).
 * @typedef {object} Traits
 * @property {Task[]} queue tasks handed out and not answered, head first
 * @property {HistoryRow[]} history last decisions, newest first
 * @property {Progress} progress
 * @property {Status} status
 * @property {string} error a background error, or why the session is closed
 * @property {string} notice why the last message could not be carried out
 * @property {Record<string, number>} acks last seq processed, per client
 * @property {string} dataset
 * @property {string[]} labels
 * @property {Mode} mode
 */

/**
 * The spans of a manual answer, as sent and stored.
 * @typedef {{start: number, end: number, label: string}} WireSpan
 */

/** @typedef {{type: "hello"}} HelloMessage */
/** @typedef {{type: "answer", task_hash: string, answer: Answer, spans?: WireSpan[], actions?: Actions, seq?: number}} AnswerOp */
/** @typedef {{type: "skip", task_hash: string, seq?: number}} SkipOp leave a correction: nothing stored */
/** @typedef {{type: "undo", seq?: number}} UndoOp */
/** @typedef {{type: "change", task_hash: string, answer: Answer, seq?: number}} ChangeOp */
/**
 * An operation: numbered 1, 2, ... per view (`seq`), carried out by the kernel in that order and
 * acknowledged through the `acks` trait.
 * @typedef {AnswerOp | SkipOp | UndoOp | ChangeOp} Op
 */
/**
 * What the view sends (custom message, view -> kernel): every message names its view (`client`).
 * @typedef {(HelloMessage | Op) & {client: string}} Outgoing
 */

/**
 * The part of anywidget's model the view uses.
 * @typedef {object} Model
 * @property {<K extends keyof Traits>(name: K) => Traits[K] | undefined} get
 * @property {(content: Outgoing) => void} send
 * @property {(event: string, cb: () => void) => void} on
 * @property {(event: string, cb: () => void) => void} off
 */

/**
 * What the view shows: the kernel's state with this view's unacknowledged operations applied.
 * @typedef {object} Derived
 * @property {Task[]} queue
 * @property {HistoryRow[]} history
 * @property {Progress} progress
 * @property {Task | null} task the card on screen
 */

export {};
