/**
 * The operators' page served at `/`: plain HTML and one small script on the JSON API (no build step). Groups with
 * counts and their trend (first seen per hour over the last day), a filtered list, a message's detail (decoded
 * payload, headers, history) with repair (edit the payload as JSON, validate and save, replay it), select → dry run →
 * replay at a rate, jobs with live progress, and the audit. The API needs credentials: the operator enters an API key, kept in
 * the tab's sessionStorage (gone when the tab closes) and sent as `X-API-Key` with every call.
 */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Kronos dead letters</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1rem 2rem; color: #222; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
  table { border-collapse: collapse; width: 100%; } th, td { border-bottom: 1px solid #ddd; padding: 4px 6px; text-align: left; vertical-align: top; }
  tr.row:hover { background: #f3f6ff; cursor: pointer; } .muted { color: #777; } .error { color: #b00020; }
  pre { background: #f6f6f6; padding: .5rem; overflow: auto; max-height: 20rem; }
  form.filters input, form.filters select { margin-right: .5rem; } .bar { margin: .5rem 0; }
  .trend { font-family: monospace; letter-spacing: -1px; white-space: nowrap; } textarea { width: 100%; font-family: monospace; }
  .state-new { color: #b00020; } .state-replayed { color: #137333; } .state-discarded { color: #777; }
</style>
</head>
<body>
<h1>Kronos dead letters</h1>
<p class="muted">Every dead letter in custody, decoded by its writer schema. Select some, dry run, then replay them to where they came from.</p>
<form class="bar" id="key-form">
  <label>API key <input id="api-key" name="key" type="password" autocomplete="off" placeholder="kgw_..." size="50"></label>
  <button type="submit">Use key</button>
  <span id="key-state" class="muted"></span>
</form>

<h2>How many like it</h2>
<table id="groups"><thead><tr><th>Source</th><th>Event</th><th>Reason</th><th>Error</th><th>Count</th><th>Unresolved</th><th>Last 24 h</th><th>First</th><th>Last</th></tr></thead><tbody></tbody></table>

<h2>Dead letters</h2>
<form class="filters" id="filters">
  <input name="source" placeholder="source" aria-label="source">
  <input name="eventType" placeholder="event type" aria-label="event type">
  <input name="errorCode" placeholder="error code" aria-label="error code">
  <input name="error" placeholder="error text" aria-label="error text">
  <select name="state" aria-label="state"><option value="">any state</option><option>new</option><option>replaying</option><option>replayed</option><option>discarded</option></select>
  <button type="submit">Filter</button>
</form>
<div class="bar">
  <label>Rate per second <input id="rate" type="number" min="1" value="10" style="width:5rem"></label>
  <button id="dry-run" type="button">Dry run selected</button>
  <button id="replay" type="button">Replay selected</button>
  <span id="action-result"></span>
</div>
<table id="letters"><thead><tr><th></th><th>Id</th><th>Source</th><th>Event</th><th>Reason</th><th>Error</th><th>State</th><th>First seen</th></tr></thead><tbody></tbody></table>
<button id="more" type="button" hidden>More</button>

<section id="detail" hidden>
  <h2>Dead letter <span id="detail-id"></span></h2>
  <div id="detail-summary"></div>
  <h3>Payload</h3><pre id="detail-payload"></pre>
  <h3>Headers</h3><pre id="detail-headers"></pre>
  <h3>History</h3><pre id="detail-history"></pre>
  <h3>Repair</h3>
  <p class="muted">Edit the payload as JSON. Saving checks it against the event's current schema and encodes it with that schema's id; the original bytes stay, and a replay sends the repaired ones.</p>
  <textarea id="repair-payload" rows="10" aria-label="repaired payload"></textarea>
  <div class="bar">
    <button id="repair-save" type="button">Validate and save repair</button>
    <button id="repair-replay" type="button" disabled>Replay repaired</button>
    <span id="repair-result"></span>
  </div>
</section>

<h2>Replay jobs</h2>
<table id="jobs"><thead><tr><th>Id</th><th>State</th><th>Dry run</th><th>Total</th><th>Sent</th><th>Skipped</th><th>Failed</th><th>Pending</th><th>Problems</th><th></th></tr></thead><tbody></tbody></table>

<h2>Audit</h2>
<table id="audit"><thead><tr><th>When</th><th>Who</th><th>Action</th><th>Dead letter</th><th>Job</th><th>Detail</th></tr></thead><tbody></tbody></table>

<script>
const $ = (selector) => document.querySelector(selector);
const esc = (value) => String(value ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");
// The API key lives in this tab's sessionStorage only: a reload keeps it, closing the tab forgets it.
const KEY_ITEM = "kronos-dlq-api-key";
function showKeyState(text, isError) {
  $("#key-state").textContent = text;
  $("#key-state").className = isError ? "error" : "muted";
}
async function api(method, url, body) {
  const headers = body ? { "content-type": "application/json" } : {};
  const key = sessionStorage.getItem(KEY_ITEM);
  if (key) headers["x-api-key"] = key;
  const response = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const json = await response.json();
  if (response.status === 401) showKeyState(key ? "this API key is refused: " + json.message : "enter an API key (kronos-gateway-principals add ... --acl dlq:read)", true);
  if (!response.ok) throw new Error(json.code + ": " + json.message);
  return json;
}
function filter() {
  const form = new FormData($("#filters"));
  return Object.fromEntries([...form.entries()].filter(([, v]) => v !== ""));
}
let cursor;
async function loadLetters(append) {
  const query = new URLSearchParams({ ...filter(), limit: "50", ...(append && cursor ? { cursor } : {}) });
  const page = await api("GET", "/dead-letters?" + query);
  cursor = page.nextCursor;
  $("#more").hidden = !cursor;
  const rows = page.items.map((d) => '<tr class="row" data-id="' + d.id + '"><td><input type="checkbox" class="pick" value="' + d.id + '" aria-label="select ' + d.id + '"></td><td>' + d.id + '</td><td>' + esc(d.source) + '</td><td>' + esc(d.eventType) + '</td><td>' + esc(d.reason) + '</td><td>' + esc(d.errorCode) + ' <span class="muted">' + esc(d.error) + '</span></td><td class="state-' + d.state + '">' + d.state + '</td><td>' + when(d.firstSeen) + '</td></tr>').join("");
  if (append) $("#letters tbody").insertAdjacentHTML("beforeend", rows); else $("#letters tbody").innerHTML = rows;
}
// A group's trend (dead letters first seen per hour, oldest first) as a bar per hour, scaled to its busiest hour.
const BARS = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588";
function sparkline(trend) {
  const top = Math.max(1, ...trend);
  const bars = trend.map((n) => (n === 0 ? "\u00b7" : BARS[Math.min(7, Math.ceil((n / top) * 8) - 1)])).join("");
  const lastHour = trend[trend.length - 1] ?? 0;
  return '<td class="trend" title="first seen per hour over the last ' + trend.length + " hours, oldest first: " + trend.join(", ") + '">' + bars + ' <span class="muted trend-last">' + lastHour + " in the last hour</span></td>";
}
async function loadGroups() {
  const { groups } = await api("GET", "/dead-letters/groups");
  $("#groups tbody").innerHTML = groups.map((g) => "<tr><td>" + esc(g.source) + "</td><td>" + esc(g.eventType) + "</td><td>" + esc(g.reason) + "</td><td>" + esc(g.errorCode) + ' <span class="muted">' + esc(g.sampleError) + "</span></td><td>" + g.count + "</td><td>" + g.unresolved + "</td>" + sparkline(g.trend) + "<td>" + when(g.firstSeen) + "</td><td>" + when(g.lastSeen) + "</td></tr>").join("");
}
// The open dead letter's summary, payload (and repair), headers and history; refreshed with the jobs, so a replay
// shows up in it. The repair editor is filled only when a dead letter is opened, never under the operator's hands.
function renderDetail(d) {
  $("#detail").hidden = false;
  $("#detail-id").textContent = d.id;
  $("#detail-summary").innerHTML = "<p>" + esc(d.dialect) + " dead letter from <b>" + esc(d.source) + "</b>, " + esc(d.reason ?? "reason unknown") + ", " + esc(d.errorCode) + ": " + esc(d.error) + " — state <b>" + d.state + "</b>, seen " + d.seenCount + " time(s), replayed " + d.replayCount + " time(s)</p>";
  const repaired = !d.repaired ? "" : "\\n\\nrepaired, what a replay sends: schema id " + d.repaired.schemaId + "\\n" + (d.repaired.decoded ? JSON.stringify(d.repaired.value, null, 2) : d.repaired.hex);
  $("#detail-payload").textContent = (d.payload.decoded ? "schema id " + d.payload.schemaId + " (" + d.payload.writerName + ")\\n" + JSON.stringify(d.payload.value, null, 2) : "not decodable: " + d.payload.code + ": " + d.payload.reason + "\\n" + d.payload.hex) + repaired;
  // A RabbitMQ dead letter's headers carry their AMQP type (what a replay sends them as).
  const types = Object.fromEntries((d.amqpHeaders ?? []).map(([name, value]) => [name, value.type === "typed" ? value.amqpType : value.type]));
  $("#detail-headers").textContent = Object.entries(d.headers).map(([k, v]) => k + ": " + v.text + (types[k] ? "  (" + types[k] + ")" : "")).join("\\n");
  $("#detail-history").textContent = d.history.map((h) => h.at + " " + h.actor + " " + h.action + " " + JSON.stringify(h.detail)).join("\\n") || "nothing yet";
}
async function showDetail(id) {
  const d = await api("GET", "/dead-letters/" + id);
  renderDetail(d);
  // Repair starts from the repaired payload if there is one, else the decoded original.
  const editable = d.repaired && d.repaired.decoded ? d.repaired.value : d.payload.decoded ? d.payload.value : undefined;
  $("#repair-payload").value = editable === undefined ? "" : JSON.stringify(editable, null, 2);
  $("#repair-replay").disabled = !d.repaired;
  showRepair(d.repaired ? "repaired before: a replay sends the repaired payload (schema id " + d.repaired.schemaId + ")" : "", false);
}
async function refreshDetail() {
  if ($("#detail").hidden) return;
  renderDetail(await api("GET", "/dead-letters/" + $("#detail-id").textContent));
}
function showRepair(text, isError) {
  $("#repair-result").textContent = text;
  $("#repair-result").className = isError ? "error" : "";
}
async function saveRepair() {
  const id = $("#detail-id").textContent;
  let payload;
  try {
    payload = JSON.parse($("#repair-payload").value);
  } catch (error) {
    showRepair("not JSON: " + error.message, true);
    return;
  }
  try {
    const { schemaId } = await api("POST", "/dead-letters/" + id + "/repair", { payload });
    showRepair("valid: saved, encoded with schema id " + schemaId, false);
    $("#repair-replay").disabled = false;
    await refresh();
  } catch (error) {
    showRepair(error.message, true);
  }
}
async function replayRepaired() {
  const id = $("#detail-id").textContent;
  try {
    const { id: job } = await api("POST", "/replays", { ids: [id], ratePerSecond: Number($("#rate").value) });
    showRepair("replay job " + job + " started", false);
    await refresh();
  } catch (error) {
    showRepair(error.message, true);
  }
}
async function loadJobs() {
  const { jobs } = await api("GET", "/replays");
  $("#jobs tbody").innerHTML = jobs.map((j) => '<tr data-job="' + j.id + '"><td>' + j.id + '</td><td class="job-state">' + j.state + "</td><td>" + (j.dryRun ? "yes" : "") + "</td><td>" + j.total + '</td><td class="job-sent">' + j.progress.sent + "</td><td>" + j.progress.skipped + "</td><td>" + j.progress.failed + "</td><td>" + j.progress.pending + '</td><td class="muted">' + j.firstProblems.map((p) => esc(p.deadLetterId + ": " + p.detail)).join("<br>") + "</td><td>" + (j.state === "running" ? '<button data-action="pause">Pause</button> <button data-action="cancel">Cancel</button>' : j.state === "paused" ? '<button data-action="resume">Resume</button> <button data-action="cancel">Cancel</button>' : "") + "</td></tr>").join("");
}
async function loadAudit() {
  const { entries } = await api("GET", "/audit?limit=50");
  $("#audit tbody").innerHTML = entries.map((a) => "<tr><td>" + when(a.at) + "</td><td>" + esc(a.actor) + "</td><td>" + esc(a.action) + "</td><td>" + esc(a.deadLetterId) + "</td><td>" + esc(a.jobId) + '</td><td class="muted">' + esc(JSON.stringify(a.detail)) + "</td></tr>").join("");
}
async function startReplay(dryRun) {
  const ids = [...document.querySelectorAll(".pick:checked")].map((box) => box.value);
  try {
    if (ids.length === 0) throw new Error("select at least one dead letter");
    const { id } = await api("POST", "/replays", { ids, dryRun, ratePerSecond: Number($("#rate").value) });
    $("#action-result").textContent = (dryRun ? "dry run" : "replay") + " job " + id + " started";
    $("#action-result").className = "";
    await refresh();
  } catch (error) {
    $("#action-result").textContent = error.message;
    $("#action-result").className = "error";
  }
}
async function refresh() {
  try {
    await Promise.all([loadGroups(), loadJobs(), loadAudit(), refreshDetail()]);
  } catch (error) {
    // A 401 has said what to do with the key already.
    if (!error.message.startsWith("UNAUTHENTICATED")) showKeyState(error.message, true);
  }
}
async function reloadAll() {
  await Promise.all([loadLetters(false).catch(() => undefined), refresh()]);
}
$("#api-key").value = sessionStorage.getItem(KEY_ITEM) ?? "";
$("#key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("#api-key").value.trim();
  if (key) sessionStorage.setItem(KEY_ITEM, key); else sessionStorage.removeItem(KEY_ITEM);
  showKeyState(key ? "key in use for this tab" : "no key", false);
  reloadAll();
});
$("#filters").addEventListener("submit", (event) => { event.preventDefault(); loadLetters(false).catch(() => undefined); });
$("#more").addEventListener("click", () => loadLetters(true).catch(() => undefined));
$("#letters").addEventListener("click", (event) => {
  if (event.target.classList.contains("pick")) return;
  const row = event.target.closest("tr.row");
  if (row) showDetail(row.dataset.id).catch((error) => showKeyState(error.message, true));
});
$("#repair-save").addEventListener("click", () => saveRepair());
$("#repair-replay").addEventListener("click", () => replayRepaired());
$("#dry-run").addEventListener("click", () => startReplay(true));
$("#replay").addEventListener("click", () => startReplay(false));
$("#jobs").addEventListener("click", async (event) => {
  const action = event.target.dataset?.action;
  if (!action) return;
  try {
    await api("POST", "/replays/" + event.target.closest("tr").dataset.job + "/" + action);
  } catch (error) {
    showKeyState(error.message, true);
  }
  await refresh();
});
reloadAll();
// Live progress: jobs, groups and the audit every two seconds; the list when a job changed something.
let lastJobs = "";
setInterval(async () => {
  await refresh();
  const now = $("#jobs tbody").textContent;
  if (now !== lastJobs) { lastJobs = now; loadLetters(false).catch(() => undefined); }
}, 2000);
</script>
</body>
</html>
`;
