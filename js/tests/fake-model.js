// A stand-in for anywidget's model: get/set/on/off/send/save_changes, and a way for tests to play
// the kernel (set traits, see the custom messages the view sent).
import { Window } from "happy-dom";

export class FakeModel {
  constructor(state = {}) {
    this.state = {
      queue: [], history: [], progress: {}, acks: {}, status: "loading", error: "", notice: "",
      dataset: "test", labels: [], ...state,
    };
    this.listeners = new Map();
    this.sent = [];
  }
  get(name) {
    return this.state[name];
  }
  set(name, value) {
    this.state[name] = value;
  }
  save_changes() {}
  send(content) {
    this.sent.push(content);
  }
  on(event, cb) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(cb);
  }
  off(event, cb) {
    this.listeners.get(event)?.delete(cb);
  }
  /** What the kernel does: set several traits at once, then fire their change events. */
  kernelUpdate(changes) {
    Object.assign(this.state, changes);
    for (const [name, value] of Object.entries(changes)) {
      for (const cb of this.listeners.get(`change:${name}`) || []) cb(this, value);
    }
  }
  answers() {
    return this.sent.filter((m) => m.type !== "hello");
  }
}

export function makeTask(n, { text, label = "PRODUCT", start, end, score = 0.5, source = "model", meta } = {}) {
  const t = text ?? `Text number ${n} mentions gadget${n} here.`;
  const s = start ?? t.indexOf(`gadget${n}`);
  const e = end ?? s + `gadget${n}`.length;
  return {
    task_hash: String(1000000000000000000n + BigInt(n)), // > 2**53: must stay a string
    input_hash: String(n),
    text: t,
    spans: [{ start: s, end: e, label, score, source }],
    meta: meta ?? { score, model_version: 0 },
  };
}

export function setupDom() {
  const window = new Window({ url: "http://localhost/" });
  const el = window.document.createElement("div");
  window.document.body.append(el);
  return { window, document: window.document, el };
}

export function key(window, target, k, init = {}) {
  const ev = new window.KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true, ...init });
  target.dispatchEvent(ev);
  return ev;
}

export const tick = () => new Promise((r) => setTimeout(r, 0));
