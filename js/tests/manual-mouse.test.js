// Unit tests of manual-mouse.js: DOM selection points to character offsets.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";

import { pointToChar } from "../manual-mouse.js";
import { setupDom } from "./fake-model.js";

let dom;
beforeEach(() => {
  dom = setupDom();
});
afterEach(async () => {
  await dom.window.happyDOM.abort();
  dom.window.close();
});

// "Hé 😀 go" painted as manual-paint.js does: tokens and gaps with their code-point offsets, a span
// mark around the emoji token with its label.
function painted() {
  const text = dom.document.createElement("p");
  text.innerHTML = '<span class="nba-tok" data-start="0" data-end="2">Hé</span><span class="nba-gap" data-start="2" data-end="3"> </span>' +
    '<mark class="nba-span" data-start="3" data-end="4"><span class="nba-tok" data-start="3" data-end="4">😀</span><span class="nba-span-label">X</span></mark>' +
    '<span class="nba-gap" data-start="4" data-end="5"> </span><span class="nba-tok" data-start="5" data-end="7">go</span>';
  dom.el.append(text);
  return text;
}

test("a point in a token's text counts code points from the token's start", () => {
  const text = painted();
  const go = text.querySelectorAll(".nba-tok")[2].firstChild;
  assert.equal(pointToChar(text, 7, go, 1), 6);
  const emoji = text.querySelectorAll(".nba-tok")[1].firstChild;
  assert.equal(pointToChar(text, 7, emoji, 2), 4, "two UTF-16 units, one code point");
});

test("a point on a span's label is the span's end; between children the next child's start", () => {
  const text = painted();
  const label = text.querySelector(".nba-span-label");
  assert.equal(pointToChar(text, 7, label.firstChild, 1), 4);
  assert.equal(pointToChar(text, 7, label, 0), 4);
  const mark = text.querySelector("mark");
  assert.equal(pointToChar(text, 7, mark, 1), 4);
  assert.equal(pointToChar(text, 7, text, 2), 3);
  assert.equal(pointToChar(text, 7, text, text.childNodes.length), 7);
});

test("a point outside the text is clamped to its start or end", () => {
  const text = painted();
  const before = dom.document.createElement("div");
  const after = dom.document.createElement("div");
  dom.el.before(before);
  dom.el.after(after);
  assert.equal(pointToChar(text, 7, before, 0), 0);
  assert.equal(pointToChar(text, 7, after, 0), 7);
  assert.equal(pointToChar(text, 7, null, 0), null);
});
