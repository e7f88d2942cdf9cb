// treellama's page: tasks, their live steps (Server-Sent Events), steering, the diff side
// by side, apply and discard, the log, and completion statistics. No framework, no CDN: it
// works offline, and the token travels as the cookie the first visit set.
"use strict";

const $ = (id) => document.getElementById(id);
let current = null; // the task shown
let stream = null; // its EventSource

async function api(path, options = {}) {
  const response = await fetch(path, {
    headers: { "Content-Type": "application/json" },
    credentials: "same-origin",
    ...options,
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error((body.error && body.error.message) || `${response.status}`);
  }
  return body;
}

function say(message) {
  $("info").textContent = message;
}

async function refreshTasks() {
  const { tasks } = await api("api/v1/tasks");
  const list = $("tasks");
  list.replaceChildren();
  $("tasks-empty").hidden = tasks.length > 0;
  for (const task of tasks.slice().reverse()) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `${task.status} · ${task.instruction.slice(0, 60)}`;
    button.dataset.id = task.id;
    button.setAttribute("aria-current", String(task.id === current));
    button.addEventListener("click", () => show(task.id));
    item.append(button);
    list.append(item);
  }
}

function addStep(event) {
  const item = document.createElement("li");
  const kind = document.createElement("span");
  kind.className = "kind";
  kind.textContent = event.kind;
  item.append(kind, document.createTextNode(event.message));
  item.dataset.kind = event.kind;
  // Where a candidate came from (agent.pipeline.sources), beside its step.
  if (event.data && event.data.source) {
    const source = document.createElement("span");
    source.className = "source";
    source.textContent = event.data.source;
    item.dataset.source = event.data.source;
    item.append(source);
  }
  if (event.kind === "image" && event.data && event.data.text) {
    const read = document.createElement("pre");
    read.className = "read";
    read.textContent = event.data.text;
    item.append(read);
  }
  $("steps").append(item);
  $("steps-empty").hidden = true;
}

async function show(id) {
  current = id;
  if (stream) stream.close();
  $("task").hidden = false;
  $("no-task").hidden = true;
  $("steps").replaceChildren();
  $("steps-empty").hidden = false;
  $("diff").replaceChildren();
  $("log").textContent = "";
  const task = await api(`api/v1/tasks/${id}`);
  $("task-title").textContent = task.instruction;
  $("task-status").textContent = `${task.status}: ${task.summary || task.message || ""}`;
  stream = new EventSource(`api/v1/tasks/${id}/events`);
  stream.addEventListener("agent", async (message) => {
    const event = JSON.parse(message.data);
    addStep(event);
    if (event.kind === "approval") showApproval(event.data);
    if (event.kind === "done" || event.kind === "failed") {
      stream.close();
      await showResult(id);
    }
  });
  if (!task.live) await showResult(id); // a live task's result is shown when it ends
  else {
    const open = await api(`api/v1/tasks/${id}/approvals`).catch(() => ({ approvals: [] }));
    if (open.approvals.length) showApproval(open.approvals[0]);
  }
  refreshTasks();
}

// A command waiting for the user's yes (standalone: the page asks, not an editor).
let asking = null;
function showApproval(question) {
  asking = question;
  const where = question.outsideSandbox ? "outside the sandbox" : "in the sandbox";
  const what = question.prefix === "read" ? question.command : `run ${where}: ${question.command}`;
  $("approval-text").textContent = `The agent wants to ${what} (${question.reason})`;
  $("approve-always").hidden = !question.always;
  $("approval").hidden = false;
  $("approve-once").focus();
}
async function answerApproval(decision) {
  if (!asking) return;
  const { id, taskId } = asking;
  asking = null;
  $("approval").hidden = true;
  try {
    await api(`api/v1/tasks/${taskId}/approvals/${id}`, { method: "POST", body: JSON.stringify({ decision }) });
  } catch (error) {
    say(`the answer did not reach the task: ${error.message}`);
  }
}
$("approve-once").addEventListener("click", () => answerApproval("allow"));
$("approve-always").addEventListener("click", () => answerApproval("always"));
$("approve-deny").addEventListener("click", () => answerApproval("deny"));

async function showResult(id) {
  $("approval").hidden = true;
  // Both fetched before either is shown: the diff and the log on screen are of one moment.
  const [task, log] = await Promise.all([api(`api/v1/tasks/${id}`), api(`api/v1/tasks/${id}/log`)]);
  if (current !== id) return;
  $("task-status").textContent = `${task.status}: ${task.summary || ""}`;
  renderDiff(task.diff || "");
  $("log").textContent = log.text;
  refreshTasks();
}

// Syntax colouring of the common cases (keywords, strings, comments), safe on any text.
const KEYWORDS = /\b(def|class|return|if|elif|else|for|while|import|from|as|try|except|finally|with|lambda|yield|function|const|let|var|fn|pub|impl|struct|async|await|raise|in|not|and|or|None|True|False|null|true|false)\b/g;

function highlight(cell, text) {
  const pattern = /(#.*$|\/\/.*$)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|\b\w+\b|[^\w#"'/]+|./g;
  for (const match of text.matchAll(pattern)) {
    const [piece] = match;
    let kind = "";
    if (match[1]) kind = "com";
    else if (match[2]) kind = "str";
    else if (KEYWORDS.test(piece)) kind = "kw";
    KEYWORDS.lastIndex = 0;
    if (kind) {
      const span = document.createElement("span");
      span.className = kind;
      span.textContent = piece;
      cell.append(span);
    } else {
      cell.append(document.createTextNode(piece));
    }
  }
}

function row(table, left, right) {
  const tr = table.insertRow();
  for (const [number, text, kind] of [left, right]) {
    const num = tr.insertCell();
    num.className = "num";
    num.textContent = number ?? "";
    const cell = tr.insertCell();
    cell.className = kind || "";
    if (text !== null) highlight(cell, text);
  }
}

// The diff side by side, syntax-highlighted, by diff2html (vendored at build time by
// `make web-assets`); the page's own plain view where the vendored files are missing.
function renderDiff(diff) {
  const box = $("diff");
  box.replaceChildren();
  if (!diff.trim()) {
    box.textContent = "No changes yet. The diff shows here once the task has changed files; "
      + "your own files change only when you apply it.";
    return;
  }
  if (window.Diff2HtmlUI) {
    const view = new window.Diff2HtmlUI(box, diff, {
      outputFormat: "side-by-side",
      drawFileList: false,
      matching: "lines",
      highlight: true,
    });
    view.draw();
    view.highlightCode();
    return;
  }
  renderPlainDiff(box, diff);
}

// A unified diff shown side by side: removed lines left, added right, paired in order.
function renderPlainDiff(box, diff) {
  const table = document.createElement("table");
  table.className = "plain";
  const columns = document.createElement("colgroup");
  for (const width of ["3.5em", "", "3.5em", ""]) {
    const column = document.createElement("col");
    if (width) column.style.width = width;
    columns.append(column);
  }
  table.append(columns);
  let oldLine = 0;
  let newLine = 0;
  let removed = [];
  let added = [];
  const flush = () => {
    for (let i = 0; i < Math.max(removed.length, added.length); i++) {
      row(table, removed[i] || [null, null, ""], added[i] || [null, null, ""]);
    }
    removed = [];
    added = [];
  };
  for (const line of diff.split("\n")) {
    if (line.startsWith("+++") || line.startsWith("---")) {
      if (line.startsWith("+++")) {
        flush();
        const tr = table.insertRow();
        const cell = tr.insertCell();
        cell.colSpan = 4;
        cell.className = "file";
        cell.textContent = line.slice(4).replace(/^b\//, "");
      }
      continue;
    }
    const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)/.exec(line);
    if (hunk) {
      flush();
      oldLine = Number(hunk[1]);
      newLine = Number(hunk[2]);
      continue;
    }
    if (line.startsWith("-")) removed.push([oldLine++, line.slice(1), "del"]);
    else if (line.startsWith("+")) added.push([newLine++, line.slice(1), "add"]);
    else if (line.startsWith(" ")) {
      flush();
      row(table, [oldLine++, line.slice(1), ""], [newLine++, line.slice(1), ""]);
    }
  }
  flush();
  box.append(table);
}

async function act(path, confirmText) {
  if (!current) return;
  if (confirmText && !window.confirm(confirmText)) return;
  try {
    const answer = await api(`api/v1/tasks/${current}/${path}`, { method: "POST", body: "{}" });
    say(`${path}: ${JSON.stringify(answer.files || answer.status || answer.applied || "ok")}`);
    await showResult(current);
  } catch (error) {
    say(`${path} failed: ${error.message}`);
  }
}

// Charts by Chart.js (vendored at build time by `make web-assets`), from the numbers the
// server computes (inference.stats.chart_data); each says what it counts, in which unit.
const charts = {};
function draw(id, config) {
  if (charts[id]) charts[id].destroy();
  if (window.Chart) charts[id] = new window.Chart($(id), config);
}

function axis(title, extra = {}) {
  return { title: { display: true, text: title }, grid: { color: "#eee" }, ...extra };
}

function drawAcceptance(days) {
  const caption = $("acceptance-caption");
  if (!days.length) {
    caption.textContent = "Acceptance rate per day: no suggestion has been reported shown yet "
      + "(editors report it as they show one).";
    $("acceptance").hidden = true;
    return;
  }
  $("acceptance").hidden = false;
  const shown = days.reduce((sum, d) => sum + d.shown, 0);
  const accepted = days.reduce((sum, d) => sum + d.accepted, 0);
  caption.textContent = `Acceptance rate per day: ${accepted} of ${shown} suggestions shown `
    + `were accepted (${Math.round((100 * accepted) / shown)}%)`;
  draw("acceptance", {
    type: "bar",
    data: {
      labels: days.map((d) => d.day),
      datasets: [{ label: "accepted (%)", data: days.map((d) => Math.round(d.rate * 1000) / 10),
        backgroundColor: "#36c" }],
    },
    options: {
      animation: false, maintainAspectRatio: false,
      plugins: { legend: { display: false }, tooltip: { callbacks: {
        label: (item) => `${item.raw}% (${days[item.dataIndex].accepted} of ${days[item.dataIndex].shown} shown)`,
      } } },
      scales: { x: axis("day"), y: axis("accepted (% of shown)", { min: 0, max: 100,
        ticks: { callback: (value) => `${value}%` } }) },
    },
  });
}

function drawLatency(latency) {
  const bins = latency.bins;
  const width = bins.length ? bins[0].to - bins[0].from : 1;
  $("latency-caption").textContent = `Latency of ${latency.n} suggestions: `
    + `p50 ${Math.round(latency.p50)} ms, p95 ${Math.round(latency.p95)} ms`;
  // On a category axis, bin i is centred at i: a latency sits at latency / width - 0.5.
  const marker = (name, value, color) => ({
    type: "line", scaleID: "x", value: value / width - 0.5, borderColor: color, borderWidth: 2,
    borderDash: [4, 3],
    label: { display: true, content: `${name} ${Math.round(value)} ms`, position: "start",
      backgroundColor: color, font: { size: 10 } },
  });
  draw("latency", {
    type: "bar",
    data: {
      labels: bins.map((b) => `${b.from}–${b.to}`),
      datasets: [{ label: "suggestions", data: bins.map((b) => b.count), backgroundColor: "#6a8",
        barPercentage: 1, categoryPercentage: 0.95 }],
    },
    options: {
      animation: false, maintainAspectRatio: false,
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: {
          title: (items) => `${items[0].label} ms`,
          label: (item) => `${item.raw} suggestion${item.raw === 1 ? "" : "s"}`,
        } },
        annotation: { annotations: { p50: marker("p50", latency.p50, "#b58900"),
          p95: marker("p95", latency.p95, "#c33") } },
      },
      scales: { x: axis("latency (ms)"), y: axis("suggestions", { beginAtZero: true,
        ticks: { precision: 0 } }) },
    },
  });
}

async function refreshStats() {
  const { charts: data } = await api("api/v1/stats");
  const empty = data.latency.n === 0;
  $("stats-empty").hidden = !empty;
  $("acceptance-figure").hidden = empty;
  $("latency-figure").hidden = empty;
  if (empty) return;
  drawAcceptance(data.acceptance);
  drawLatency(data.latency);
}

// Images for the next task: pasted, dropped or chosen, sent as data URIs with the task.
let attached = [];
function renderAttached() {
  $("attached").replaceChildren(...attached.map((image, index) => {
    const item = document.createElement("li");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "remove";
    remove.setAttribute("aria-label", `remove ${image.name}`);
    remove.addEventListener("click", () => { attached.splice(index, 1); renderAttached(); });
    item.append(document.createTextNode(`${image.name} (${Math.round(image.size / 1024)} KiB) `), remove);
    return item;
  }));
}
function attach(files) {
  for (const file of files) {
    if (!file.type.startsWith("image/")) { say(`${file.name || "that"} is not an image`); continue; }
    const reader = new FileReader();
    reader.onload = () => {
      attached.push({ name: file.name || `pasted-${attached.length + 1}.png`, size: file.size, dataUri: reader.result });
      renderAttached();
    };
    reader.readAsDataURL(file);
  }
}
$("image-file").addEventListener("change", (event) => { attach(event.target.files); event.target.value = ""; });
$("instruction").addEventListener("paste", (event) => {
  const files = [...(event.clipboardData?.items || [])].filter((i) => i.kind === "file").map((i) => i.getAsFile());
  if (files.length) { event.preventDefault(); attach(files); }
});
$("start").addEventListener("dragover", (event) => event.preventDefault());
$("start").addEventListener("drop", (event) => { event.preventDefault(); attach(event.dataTransfer.files); });

$("start").addEventListener("submit", async (event) => {
  event.preventDefault();
  const instruction = $("instruction").value.trim();
  if (!instruction) return;
  try {
    const images = attached.map(({ name, dataUri }) => ({ name, dataUri }));
    const { id } = await api("api/v1/tasks", {
      method: "POST",
      body: JSON.stringify({ instruction, effort: $("effort").value, images }),
    });
    $("instruction").value = "";
    attached = [];
    renderAttached();
    await show(id);
  } catch (error) {
    say(`could not start: ${error.message}`);
  }
});
$("instruction").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("start").requestSubmit();
});
$("steer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const message = $("steer-message").value.trim();
  if (!current || !message) return;
  try {
    await api(`api/v1/tasks/${current}/steer`, {
      method: "POST",
      body: JSON.stringify({ message }),
    });
    $("steer-message").value = "";
  } catch (error) {
    say(`steering failed: ${error.message}`);
  }
});
$("cancel").addEventListener("click", () => act("cancel"));
$("apply").addEventListener("click", () =>
  act("apply", "Apply this task's changes to your files? Files you changed since it started are left alone."));
$("discard").addEventListener("click", () => act("discard", "Discard this task's changes?"));

api("api/v1/info")
  .then((info) => say(`${info.model} · ${info.workspace}`))
  .catch((error) => say(error.message));
refreshTasks().catch((error) => say(error.message));
refreshStats().catch(() => {});
