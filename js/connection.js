// The view's link to the kernel: custom messages out (numbered operations), acknowledgements in
// (the `acks` trait), and a lost kernel (a send that throws: the comm is closed).
//
// Speed rule: an operation is applied locally at once and travels to the kernel as a message; the
// kernel's acknowledgement arrives later and drops it from the local list (see state.js).

import { unacked } from "./state.js";

/** @typedef {import("./messages.js").Model} Model */
/** @typedef {import("./messages.js").Op} Op */
/** @typedef {import("./messages.js").HelloMessage} HelloMessage */

/** A random id naming this view in its messages (the kernel acknowledges per client). */
export function newClientId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  return `c${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
}

/**
 * @param {Model} model
 * @param {() => void} onLost called once, when the first send fails
 */
export function createConnection(model, onLost) {
  const client = newClientId();
  /** @type {Op[]} local operations not yet acknowledged by the kernel */
  let ops = [];
  let seq = 0;
  let lost = false; // model.send threw: the kernel (and the widget's comm) is gone

  // The kernel closed the session (session.close(), or a re-run cell's newer session took over):
  // the comm works, but nothing should be answered here any more.
  const closed = () => model.get("status") === "closed";

  /**
   * Send a message to the kernel; false when the comm is gone (onLost is called).
   * @param {HelloMessage | Op} content
   */
  function post(content) {
    if (lost || closed()) return false;
    try {
      model.send({ ...content, client });
      return true;
    } catch {
      // After a kernel restart the widget stays on the page but its comm is closed: every send
      // throws ("Cannot send"). Nothing can reach the kernel any more, so stop taking answers.
      lost = true;
      onLost();
      return false;
    }
  }

  /**
   * Number and send an operation, and keep it until the kernel acknowledges it. False when it
   * was not sent (then it is not applied either, and its number stays free).
   * @param {Op} op
   */
  function send(op) {
    op.seq = seq + 1;
    if (!post(op)) return false;
    seq = op.seq;
    ops.push(op);
    return true;
  }

  return {
    client,
    post,
    send,
    closed,
    /** Drop the operations the kernel has acknowledged; returns the ones left. */
    reconcile() {
      ops = unacked(ops, model.get("acks"), client);
      return ops;
    },
    /** @param {string} taskHash an operation on this task is in flight */
    pendingOn(taskHash) {
      return ops.some((op) => "task_hash" in op && op.task_hash === taskHash);
    },
    get ops() {
      return ops;
    },
    get lost() {
      return lost;
    },
    /** Nothing can be answered any more: the kernel is gone or the session is closed. */
    get off() {
      return lost || closed();
    },
  };
}
