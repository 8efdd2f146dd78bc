// Unit tests of connection.js: numbered operations, acknowledgements, a lost kernel.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createConnection } from "../connection.js";
import { FakeModel } from "./fake-model.js";

test("operations are numbered per view and dropped once the kernel acknowledges them", () => {
  const model = new FakeModel();
  const conn = createConnection(model, () => assert.fail("not lost"));
  assert.equal(conn.send({ type: "answer", task_hash: "1", answer: "accept" }), true);
  assert.equal(conn.send({ type: "undo" }), true);
  assert.deepEqual(model.sent.map((m) => [m.type, m.seq, m.client]), [["answer", 1, conn.client], ["undo", 2, conn.client]]);
  assert.equal(conn.pendingOn("1"), true);
  model.set("acks", { [conn.client]: 1, other: 5 });
  assert.deepEqual(conn.reconcile().map((op) => op.seq), [2]);
  assert.equal(conn.pendingOn("1"), false);
});

test("a send that throws: the kernel is lost, once, and nothing more is sent or numbered", () => {
  const model = new FakeModel();
  let lost = 0;
  const conn = createConnection(model, () => (lost += 1));
  model.send = () => {
    throw new Error("Cannot send");
  };
  assert.equal(conn.send({ type: "undo" }), false);
  assert.equal(conn.post({ type: "hello" }), false);
  assert.equal(lost, 1);
  assert.equal(conn.lost, true);
  assert.equal(conn.off, true);
  assert.deepEqual(conn.ops, []);
});

test("a closed session takes no operations, though its comm works", () => {
  const model = new FakeModel({ status: "closed" });
  const conn = createConnection(model, () => assert.fail("not lost"));
  assert.equal(conn.send({ type: "undo" }), false);
  assert.deepEqual(model.sent, []);
  assert.equal(conn.off, true);
  assert.equal(conn.lost, false);
});

test("two views have different client ids", () => {
  const model = new FakeModel();
  assert.notEqual(createConnection(model, () => {}).client, createConnection(model, () => {}).client);
});
