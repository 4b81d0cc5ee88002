"""The grading view's page: one HTML document with its script, which loads the answers from the server.

Student answers only ever reach the page through ``textContent`` (never ``innerHTML``), so whatever
they hold is shown as the characters they are.
"""

from __future__ import annotations

_STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2330;
       background: #f6f7f9; }
header { padding: 10px 20px; background: #fff; border-bottom: 1px solid #dde1e7; }
h1 { font-size: 19px; margin: 0; }
.muted { color: #5b6472; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr) 380px; gap: 16px; padding: 12px 20px; }
.answers { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 10px;
           align-content: start; }
.answer { background: #fff; border: 1px solid #dde1e7; border-radius: 8px; padding: 10px 12px; cursor: pointer; }
.answer.current { border: 2px solid #2b5fd9; box-shadow: 0 0 0 3px #d5e1fb; }
.answer .text { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 320px; overflow: auto; margin: 6px 0 0; }
.status { font-size: 13px; font-weight: 600; }
.pending { color: #9a5b00; }
.graded { color: #1e7a3a; }
.panel { position: sticky; top: 12px; align-self: start; background: #fff; border: 1px solid #dde1e7;
         border-radius: 8px; padding: 12px 14px; }
.prompt { white-space: pre-wrap; font-size: 14px; max-height: 200px; overflow: auto; }
.item { display: flex; gap: 8px; padding: 6px; border-radius: 6px; border: 1px solid #e4e7eb; margin: 6px 0;
        cursor: pointer; }
.item.on { background: #e6f4ea; border-color: #2a9d4a; }
.key { font-family: monospace; background: #eef1f5; border-radius: 4px; padding: 0 5px; }
textarea { width: 100%; min-height: 80px; box-sizing: border-box; }
input[type=number] { width: 90px; }
.score { font-size: 22px; font-weight: 700; }
#saved { font-size: 13px; }
.error { color: #b3261e; }
"""

_SCRIPT = r"""
"use strict";
const token = new URLSearchParams(location.search).get("token") || "";
let state = null, current = 0, commentTimer = null;

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const child of children) node.append(child);
  return node;
}

async function api(path, body) {
  const options = {headers: {"X-Review-Token": token}};
  if (body !== undefined) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function isPending(row) { return !row.grade || row.grade.stale; }

function statusText(row) {
  if (!row.grade) return "pending";
  if (row.grade.stale) return "pending (answer changed since graded)";
  return `${row.grade.score} / ${state.question.points}`;
}

function renderList() {
  const list = document.getElementById("answers");
  list.replaceChildren();
  state.answers.forEach((row, index) => {
    let text = row.answer;
    if (!row.found) text = "(no answer cell found in this notebook)";
    else if (row.blank) text = "(left blank) " + row.answer;
    const card = el("div", {className: "answer" + (index === current ? " current" : ""), id: "answer-" + index},
      el("div", {},
        el("strong", {textContent: row.submission}), " ",
        el("span", {className: "status " + (isPending(row) ? "pending" : "graded"), textContent: statusText(row)})),
      el("div", {className: "text", textContent: text}));
    if (row.truncated) card.append(el("div", {className: "muted",
      textContent: `(${row.truncated} more characters were cut)`}));
    card.dataset.index = index;
    card.addEventListener("click", () => select(index));
    list.append(card);
  });
  const counts = state.answers.filter(isPending).length;
  document.getElementById("counts").textContent =
    `${state.answers.length} answers, ${state.answers.length - counts} graded, ${counts} pending`;
}

function renderPanel() {
  const row = state.answers[current];
  const grade = row ? (row.grade || {items: [], adjustment: 0, comment: ""}) : null;
  document.getElementById("who").textContent =
    row ? `${current + 1} of ${state.answers.length}: ${row.submission}` : "no answers";
  const rubric = document.getElementById("rubric");
  rubric.replaceChildren();
  state.question.rubric.forEach((item, index) => {
    const on = grade && grade.items.includes(item.id);
    const node = el("div", {className: "item" + (on ? " on" : ""), id: "item-" + index},
      el("span", {className: "key", textContent: String(index + 1)}),
      el("span", {textContent: (item.points > 0 ? "+" : "") + item.points}),
      el("span", {textContent: item.text}));
    node.addEventListener("click", () => toggle(index));
    rubric.append(node);
  });
  document.getElementById("adjustment").value = grade ? grade.adjustment : 0;
  document.getElementById("comment").value = grade ? grade.comment : "";
  document.getElementById("score").textContent = row ? statusText(row) : "";
}

function select(index) {
  if (!state.answers.length) return;
  current = Math.max(0, Math.min(state.answers.length - 1, index));
  renderList();
  renderPanel();
  document.getElementById("answer-" + current).scrollIntoView({block: "nearest"});
}

async function save(change) {
  const row = state.answers[current];
  if (!row) return;
  const grade = row.grade || {items: [], adjustment: 0, comment: ""};
  const body = {submission: row.id, items: grade.items, adjustment: grade.adjustment,
                comment: grade.comment, ...change};
  // Shown at once, so that a second key pressed before the reply builds on the first.
  row.grade = {items: body.items, adjustment: body.adjustment, comment: body.comment,
               score: row.grade ? row.grade.score : 0, graded_at: "", stale: false};
  const status = document.getElementById("saved");
  status.className = "muted";
  status.textContent = "saving...";
  try {
    const saved = await api("/api/grade", body);
    row.grade = {items: saved.items, adjustment: saved.adjustment, comment: saved.comment,
                 score: saved.score, graded_at: saved.graded_at, stale: false};
    status.textContent = "saved " + saved.graded_at;
  } catch (error) {
    status.className = "error";
    status.textContent = "not saved: " + error.message;
  }
  const keepComment = document.activeElement && document.activeElement.id === "comment";
  renderList();
  if (!keepComment) renderPanel();
  else document.getElementById("score").textContent = statusText(row);
}

function toggle(index) {
  const item = state.question.rubric[index];
  const row = state.answers[current];
  if (!item || !row) return;
  const items = (row.grade ? row.grade.items : []).slice();
  const at = items.indexOf(item.id);
  if (at >= 0) items.splice(at, 1); else items.push(item.id);
  save({items});
}

function nextPending() {
  for (let step = 1; step <= state.answers.length; step++) {
    const index = (current + step) % state.answers.length;
    if (isPending(state.answers[index])) return select(index);
  }
}

document.addEventListener("keydown", (event) => {
  if (!state) return;
  const typing = ["INPUT", "TEXTAREA"].includes(document.activeElement.tagName);
  if (typing) {
    if (event.key === "Escape") document.activeElement.blur();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "j" || event.key === "ArrowDown" || event.key === "ArrowRight") select(current + 1);
  else if (event.key === "k" || event.key === "ArrowUp" || event.key === "ArrowLeft") select(current - 1);
  else if (event.key === "n") nextPending();
  else if (/^[1-9]$/.test(event.key)) toggle(Number(event.key) - 1);
  else if (event.key === "a") document.getElementById("adjustment").focus();
  else if (event.key === "c") document.getElementById("comment").focus();
  else return;
  event.preventDefault();
});

async function start() {
  try {
    state = await api("/api/state");
  } catch (error) {
    document.getElementById("counts").textContent = "Could not load the answers: " + error.message;
    return;
  }
  const question = state.question;
  document.title = `Written question ${question.number}: ${question.title}`;
  document.getElementById("title").textContent =
    `${state.assignment}: written question ${question.number}, ${question.title} (${question.points} points)`;
  document.getElementById("prompt").textContent = question.prompt;
  document.getElementById("adjustment").addEventListener("change", (event) => {
    const value = Number(event.target.value);
    if (Number.isFinite(value)) save({adjustment: value});
  });
  const comment = document.getElementById("comment");
  comment.addEventListener("input", () => {
    clearTimeout(commentTimer);
    commentTimer = setTimeout(() => save({comment: comment.value}), 600);
  });
  comment.addEventListener("change", () => { clearTimeout(commentTimer); save({comment: comment.value}); });
  const first = state.answers.findIndex(isPending);
  select(first >= 0 ? first : 0);
}
start();
"""

_BODY = """
<header><h1 id="title">Written answers</h1><div id="counts" class="muted">loading...</div></header>
<div class="layout">
  <main class="answers" id="answers"></main>
  <aside class="panel">
    <details><summary>The question</summary><div class="prompt" id="prompt"></div></details>
    <p><strong id="who"></strong></p>
    <div class="score" id="score"></div>
    <div id="rubric"></div>
    <label>Adjustment (points, <span class="key">a</span>) <input type="number" id="adjustment" step="0.5"></label>
    <p><label>Comment for the student (<span class="key">c</span>)<br><textarea id="comment"></textarea></label></p>
    <div id="saved" class="muted"></div>
    <p class="muted small">Keys: <span class="key">j</span>/<span class="key">k</span> or arrows: next/previous,
    <span class="key">n</span>: next pending, <span class="key">1</span>-<span class="key">9</span>: toggle a rubric
    item, <span class="key">Esc</span>: leave a field. Every change is saved at once.</p>
  </aside>
</div>
"""


def render_page(nonce: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Written answers</title>'
            f'<meta name="referrer" content="no-referrer"><style>{_STYLE}</style></head>'
            f'<body>{_BODY}<script nonce="{nonce}">{_SCRIPT}</script></body></html>')
