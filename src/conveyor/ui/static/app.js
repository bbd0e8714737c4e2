/* Conveyor dashboard: plain JavaScript over the native REST API (/api/v1). No build step, no dependencies.
 *
 * Every value that comes from the API reaches the DOM through textContent, element properties or
 * attributes set one by one, never through anything that parses HTML, so a workflow name or an
 * error message can never become markup. The page also runs under a Content-Security-Policy without inline scripts.
 */
(() => {
  "use strict";

  const API = "api/v1"; // relative, so the dashboard also works behind a path prefix
  const REFRESH_MS = 2000;
  const POLL_EVENTS_MS = 1000;
  const PAGE_SIZE = 50;
  const MAX_LOG_LINES = 5000;
  const TOKEN_KEY = "conveyor.token";
  const SIDEBAR_MIN_WIDTH = 1440; // below this the start form sits above the list, folded (style.css)
  const LIST_FIELDS = [
    "id", "workflow", "target", "status", "progress", "attempt", "max_attempts",
    "created_at", "started_at", "ended_at", "dry_run",
  ].join(",");

  const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
  /** Status groups: one count chip and one filter choice each. */
  const GROUPS = [
    { key: "scheduled", label: "Scheduled", statuses: ["created", "scheduled"] },
    { key: "queued", label: "Queued", statuses: ["queued"] },
    { key: "pending", label: "Pending", statuses: ["pending"] },
    { key: "running", label: "Running", statuses: ["running"] },
    { key: "paused", label: "Paused", statuses: ["pausing", "paused"] },
    { key: "cancelling", label: "Cancelling", statuses: ["cancelling", "force_cancelling", "kill_cancelling"] },
    { key: "succeeded", label: "Succeeded", statuses: ["succeeded"] },
    { key: "failed", label: "Failed", statuses: ["failed"] },
    { key: "cancelled", label: "Cancelled", statuses: ["cancelled"] },
  ];
  const UNFINISHED = GROUPS.flatMap((g) => g.statuses).filter((s) => !TERMINAL.has(s));

  /** The actions the state machine (core/states.py) accepts in each status. */
  const ACTIONS = {
    created: ["pause", "cancel"],
    scheduled: ["pause", "cancel"],
    queued: ["pause", "cancel"],
    pending: ["pause", "cancel"],
    running: ["pause", "cancel", "force-cancel", "kill"],
    pausing: ["cancel", "force-cancel", "kill"],
    paused: ["resume", "cancel"],
    cancelling: ["force-cancel", "kill"],
    kill_cancelling: ["force-cancel"],
    force_cancelling: [],
    succeeded: ["requeue"],
    failed: ["resume", "requeue"],
    cancelled: ["resume", "requeue"],
  };
  const ACTION_INFO = {
    pause: { label: "Pause", title: "Pause: a running execution stops at its next checkpoint" },
    resume: { label: "Resume", title: "Resume: back to the queue (a failed or cancelled one is retried)" },
    cancel: { label: "Cancel", title: "Cancel: a running execution stops at its next checkpoint" },
    "force-cancel": {
      label: "Force",
      title: "Force-cancel: mark it cancelled now and discard what the workflow still reports",
      confirm: "Force-cancel execution {id}? It is marked cancelled now; the workflow may still be running.",
      danger: true,
    },
    kill: {
      label: "Kill",
      title: "Kill: terminate the workflow's process and mark it cancelled",
      confirm: "Kill execution {id}? Its process is terminated.",
      danger: true,
    },
    requeue: { label: "Requeue", title: "Requeue: run it again from the start" },
  };

  // --- state -----------------------------------------------------------------------------------

  const state = {
    token: loadToken(),
    filters: { status: "", workflow: "", target: "" },
    cursors: [null], // the cursor of every page visited; the last one is the page shown
    nextCursor: null,
    rows: new Map(), // execution id -> {tr, sig}
    workflows: [],
    selected: null, // id of the execution in the details panel
    selectedDoc: null,
    selectedSig: "",
    follow: null, // the live event log of the selected execution
    refreshing: false,
    again: false,
    timer: null,
    lastOk: null,
  };

  // --- small helpers ---------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  /** createElement with properties and children; strings become text nodes, never markup. */
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "text") node.textContent = value;
      else if (key in node && typeof node[key] !== "object") node[key] = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function loadToken() {
    try {
      return localStorage.getItem(TOKEN_KEY) || null;
    } catch (_) {
      return null;
    }
  }

  function saveToken(token) {
    state.token = token || null;
    try {
      if (token) localStorage.setItem(TOKEN_KEY, token);
      else localStorage.removeItem(TOKEN_KEY);
    } catch (_) {
      /* storage disabled: the token lasts as long as the page */
    }
  }

  function shortId(id) {
    return id ? id.slice(-8) : "";
  }

  function parseTime(iso) {
    if (!iso) return null;
    const t = Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1")); // microseconds -> milliseconds
    return Number.isNaN(t) ? null : t;
  }

  function ago(iso) {
    const t = parseTime(iso);
    if (t === null) return "";
    const diff = Math.round((Date.now() - t) / 1000);
    const s = Math.abs(diff);
    if (s < 2) return "just now";
    let text;
    if (s < 60) text = `${s} s`;
    else if (s < 3600) text = `${Math.floor(s / 60)} min`;
    else if (s < 86400) text = `${Math.floor(s / 3600)} h`;
    else text = `${Math.floor(s / 86400)} d`;
    return diff < 0 ? `in ${text}` : `${text} ago`;
  }

  function localTime(iso, withDate = true) {
    const t = parseTime(iso);
    if (t === null) return "";
    const d = new Date(t);
    const pad = (n, w = 2) => String(n).padStart(w, "0");
    const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    if (!withDate) return `${time}.${pad(d.getMilliseconds(), 3)}`;
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
  }

  function pretty(value) {
    try {
      return JSON.stringify(value, null, 2);
    } catch (_) {
      return String(value);
    }
  }

  function statusClass(status) {
    return `st-${String(status || "unknown").replace(/[^a-z_]/g, "")}`;
  }

  function badge(status) {
    return h("span", { class: `badge ${statusClass(status)}`, text: String(status || "?").replace(/_/g, " ") });
  }

  function progressBar(ex) {
    const p = typeof ex.progress === "number" ? Math.max(0, Math.min(1, ex.progress)) : null;
    const bar = h("span", { class: "bar" });
    const track = h("span", { class: `progress ${statusClass(ex.status)}` }, bar);
    const wrap = h("span", { class: "progress-wrap" }, track);
    if (p === null) {
      track.classList.add("unknown");
      if (ex.status === "succeeded") bar.style.width = "100%";
      wrap.append(h("span", { class: "progress-text muted", text: "—" }));
    } else {
      bar.style.width = `${(p * 100).toFixed(1)}%`;
      track.setAttribute("role", "progressbar");
      track.setAttribute("aria-valuemin", "0");
      track.setAttribute("aria-valuemax", "100");
      track.setAttribute("aria-valuenow", String(Math.round(p * 100)));
      wrap.append(h("span", { class: "progress-text", text: `${Math.floor(p * 100)}%` }));
    }
    return wrap;
  }

  // --- talking to the API ----------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message, details) {
      super(message);
      this.status = status;
      this.code = code;
      this.details = details || {};
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    const sentToken = state.token;
    if (sentToken) headers.Authorization = `Bearer ${sentToken}`;
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(`${API}${path}`, init);
    } catch (err) {
      throw new ApiError(0, "unreachable", `cannot reach the server (${err.message})`);
    }
    const text = await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (_) {
        data = null;
      }
    }
    if (!res.ok) {
      const env = data && typeof data === "object" && data.error ? data.error : null;
      const message = env && env.message ? String(env.message) : `HTTP ${res.status} ${res.statusText}`;
      const err = new ApiError(res.status, env ? env.code : `http_${res.status}`, message, env && env.details);
      // a 401 for a token replaced while the request was out says nothing about the new one
      if (res.status === 401 && sentToken === state.token) askForToken(message);
      throw err;
    }
    return data;
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== null && value !== undefined && value !== "") q.set(key, String(value));
    }
    const s = q.toString();
    return s ? `?${s}` : "";
  }

  // --- notices and token -----------------------------------------------------------------------

  let noticeTimer = null;

  function notify(text, kind = "error") {
    const box = $("notice");
    $("notice-text").textContent = text;
    box.className = `notice notice-${kind}`;
    box.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => {
      box.hidden = true;
    }, kind === "error" ? 10000 : 4000);
  }

  function askForToken(message) {
    const bar = $("token-bar");
    $("token-msg").textContent = state.token
      ? `The server refused the token: ${message}`
      : `This server needs an API token: ${message}`;
    if (bar.hidden) {
      bar.hidden = false;
      $("token-input").focus();
    }
  }

  function useToken(token) {
    saveToken(token);
    $("token-bar").hidden = true;
    $("token-input").value = "";
    $("token-toggle").textContent = state.token ? "Token ✓" : "Token";
    loadWorkflows();
    refreshAll();
    if (state.selected) followEvents(state.selected);
  }

  // --- health and counts -----------------------------------------------------------------------

  async function refreshHealth() {
    const box = $("health");
    try {
      const h_ = await api("GET", "/health");
      box.className = `health ${h_.status === "ok" ? "ok" : "bad"}`;
      $("health-text").textContent = `${h_.status} · v${h_.version} · ${h_.database}`;
    } catch (err) {
      box.className = "health bad";
      $("health-text").textContent = err.status === 0 ? "server unreachable" : err.message;
    }
  }

  function groupValue(group) {
    return group.statuses.join(",");
  }

  /** The count chips: built once, then only their numbers and highlight change (a click is never lost). */
  const chips = [];

  function buildChips() {
    const wanted = [{ key: "all", label: "All", value: "" }, ...GROUPS.map((g) => ({ ...g, value: groupValue(g) }))];
    for (const w of wanted) {
      const count = h("span", { class: "chip-count", text: "–" });
      const chip = h(
        "button",
        {
          type: "button",
          class: `chip ${statusClass(w.key)}`,
          title: w.value ? `status: ${w.value.replace(/,/g, ", ")}` : "every status",
          dataset: { status: w.value },
          onclick: () => setFilters({ ...state.filters, status: state.filters.status === w.value ? "" : w.value }),
        },
        count,
        h("span", { class: "chip-label", text: w.label }),
      );
      chips.push({ value: w.value, chip, count });
    }
    $("counts").replaceChildren(...chips.map((c) => c.chip));
  }

  /** Every chip's number from one call: the counts the server keeps as executions change. */
  async function refreshCounts() {
    const base = { workflow: state.filters.workflow, target: state.filters.target };
    let doc = null;
    try {
      doc = await api("GET", `/executions/counts${query(base)}`);
    } catch (err) {
      doc = null;
    }
    const counts = chips.map((c) =>
      doc === null ? null : c.value ? c.value.split(",").reduce((n, s) => n + (doc.by_status[s] || 0), 0) : doc.total,
    );
    chips.forEach((c, i) => {
      c.count.textContent = counts[i] === null ? "–" : String(counts[i]);
      c.chip.classList.toggle("active", state.filters.status === c.value);
      c.chip.classList.toggle("zero", counts[i] === 0);
    });
  }

  // --- the executions table --------------------------------------------------------------------

  async function refreshList() {
    const cursor = state.cursors[state.cursors.length - 1];
    const f = state.filters;
    const q = query({
      limit: PAGE_SIZE,
      sort: "-created_at",
      include: LIST_FIELDS,
      status: f.status,
      workflow: f.workflow,
      target: f.target,
      cursor,
    });
    const errBox = $("list-error");
    try {
      const page = await api("GET", `/executions${q}`);
      errBox.hidden = true;
      renderRows(page.items || []);
      state.nextCursor = page.next_cursor || null;
    } catch (err) {
      errBox.textContent = `Could not load executions: ${err.message}`;
      errBox.hidden = false;
      if (state.rows.size === 0) {
        $("rows").replaceChildren(h("tr", { class: "placeholder" }, h("td", { colSpan: 9, text: "—" })));
      }
    }
    renderPager();
  }

  function renderPager() {
    const n = state.cursors.length;
    $("page-info").textContent = `Page ${n}`;
    $("page-first").disabled = n <= 1;
    $("page-prev").disabled = n <= 1;
    $("page-next").disabled = !state.nextCursor;
  }

  function renderRows(items) {
    const tbody = $("rows");
    const seen = new Set();
    const ordered = [];
    for (const ex of items) {
      seen.add(ex.id);
      let entry = state.rows.get(ex.id);
      if (!entry) {
        const tr = h("tr", {
          class: "row",
          tabIndex: 0,
          dataset: { id: ex.id },
          onclick: (e) => {
            if (e.target.closest("button")) return;
            openDetails(ex.id);
          },
          onkeydown: (e) => {
            if (e.key === "Enter" && !e.target.closest("button")) openDetails(ex.id);
          },
        });
        entry = { tr, sig: "" };
        state.rows.set(ex.id, entry);
      }
      const sig = JSON.stringify([ex.status, ex.progress, ex.attempt, ex.max_attempts, ex.workflow, ex.target]);
      if (sig !== entry.sig) {
        entry.sig = sig;
        fillRow(entry.tr, ex);
      }
      entry.tr.classList.toggle("selected", ex.id === state.selected);
      const [created, ended] = [entry.tr.querySelector(".t-created"), entry.tr.querySelector(".t-ended")];
      created.textContent = ago(ex.created_at);
      created.title = localTime(ex.created_at);
      ended.textContent = ex.ended_at ? ago(ex.ended_at) : "";
      ended.title = ex.ended_at ? localTime(ex.ended_at) : "";
      ordered.push(entry.tr);
    }
    for (const [id, entry] of state.rows) {
      if (!seen.has(id)) {
        entry.tr.remove();
        state.rows.delete(id);
      }
    }
    if (ordered.length === 0) {
      tbody.replaceChildren(
        h("tr", { class: "placeholder" }, h("td", { colSpan: 9, text: "No executions match these filters." })),
      );
      return;
    }
    const placeholder = tbody.querySelector("tr.placeholder");
    if (placeholder) placeholder.remove();
    // Move rows only where the order changed, so a row under the pointer is not detached needlessly.
    ordered.forEach((tr, i) => {
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
    });
  }

  function fillRow(tr, ex) {
    tr.replaceChildren(
      h("td", { class: "id mono", title: ex.id, text: shortId(ex.id) }),
      h(
        "td",
        { class: "wf" },
        h("span", { text: ex.workflow }),
        ex.dry_run ? h("span", { class: "tag", text: "dry run" }) : null,
      ),
      h("td", { class: `target${ex.target ? "" : " none"}`, text: ex.target || "—" }),
      h("td", { class: "status" }, badge(ex.status)),
      h("td", { class: "col-progress" }, progressBar(ex)),
      h("td", { class: "attempt num", title: "attempt / max attempts", text: `${ex.attempt ?? 0}/${ex.max_attempts ?? "?"}` }),
      h("td", { class: "t-created nowrap" }),
      h("td", { class: "t-ended nowrap" }),
      h("td", { class: "col-actions" }, actionButtons(ex, true)),
    );
  }

  function actionButtons(ex, small) {
    const box = h("div", { class: "actions" });
    for (const action of ACTIONS[ex.status] || []) {
      const info = ACTION_INFO[action];
      box.append(
        h("button", {
          type: "button",
          class: `btn${small ? " btn-small" : ""}${info.danger ? " btn-danger" : ""}`,
          title: info.title,
          text: info.label,
          dataset: { action },
          onclick: (e) => {
            e.stopPropagation();
            runAction(ex.id, action, e.currentTarget);
          },
        }),
      );
    }
    return box;
  }

  async function runAction(id, action, button) {
    const info = ACTION_INFO[action];
    if (info.confirm && !window.confirm(info.confirm.replace("{id}", shortId(id)))) return;
    if (button) button.disabled = true;
    try {
      const ex = await api("POST", `/executions/${encodeURIComponent(id)}/${action}`);
      notify(`${info.label}: ${shortId(id)} is now ${String(ex.status).replace(/_/g, " ")}`, "ok");
      if (state.selected === id) {
        showDetails(ex);
        if (!state.follow || state.follow.ended) followEvents(id);
      }
    } catch (err) {
      notify(`${info.label} ${shortId(id)}: ${err.message}`);
    } finally {
      if (button) button.disabled = false;
    }
    refreshAll();
  }

  // --- filters, paging, URL --------------------------------------------------------------------

  function fillStatusSelect() {
    const sel = $("filter-status");
    sel.replaceChildren(
      h("option", { value: "", text: "any status" }),
      h("option", { value: UNFINISHED.join(","), text: "unfinished" }),
      ...GROUPS.map((g) => h("option", { value: groupValue(g), text: g.label.toLowerCase() })),
    );
  }

  function setFilters(filters, { keepPage = false } = {}) {
    state.filters = {
      status: filters.status || "",
      workflow: (filters.workflow || "").trim(),
      target: (filters.target || "").trim(),
    };
    $("filter-status").value = state.filters.status;
    if ($("filter-status").value !== state.filters.status) {
      // a status combination from the URL that no option names: add it so the select shows it
      $("filter-status").append(h("option", { value: state.filters.status, text: state.filters.status }));
      $("filter-status").value = state.filters.status;
    }
    $("filter-workflow").value = state.filters.workflow;
    $("filter-target").value = state.filters.target;
    if (!keepPage) {
      state.cursors = [null];
      state.nextCursor = null;
    }
    writeHash();
    refreshAll();
  }

  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    return {
      filters: { status: p.get("status") || "", workflow: p.get("workflow") || "", target: p.get("target") || "" },
      execution: p.get("ex") || null,
      start: p.get("start"), // `#start` or `#start=<workflow>`: open the start form
    };
  }

  function writeHash() {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(state.filters)) if (v) p.set(k, v);
    if (state.selected) p.set("ex", state.selected);
    const s = p.toString();
    history.replaceState(null, "", s ? `#${s}` : location.pathname + location.search);
  }

  // --- the details panel -----------------------------------------------------------------------

  function openDetails(id) {
    const changed = state.selected !== id;
    state.selected = id;
    for (const [rid, entry] of state.rows) entry.tr.classList.toggle("selected", rid === id);
    $("details").hidden = false;
    $("drawer-backdrop").hidden = false;
    document.body.classList.add("drawer-open");
    writeHash();
    if (changed) {
      state.selectedDoc = null;
      state.selectedSig = "";
      $("d-workflow").textContent = "…";
      $("d-status").replaceChildren();
      $("d-id").textContent = id;
      for (const part of ["d-actions", "d-progress", "d-meta", "d-log"]) $(part).replaceChildren();
      $("d-params").textContent = "";
      $("d-result-box").hidden = true;
      $("d-error-box").hidden = true;
      $("d-error-load").hidden = true;
      followEvents(id);
    }
    refreshDetails();
  }

  function closeDetails() {
    stopFollowing();
    state.selected = null;
    state.selectedDoc = null;
    $("details").hidden = true;
    $("drawer-backdrop").hidden = true;
    document.body.classList.remove("drawer-open");
    for (const entry of state.rows.values()) entry.tr.classList.remove("selected");
    writeHash();
  }

  async function refreshDetails() {
    const id = state.selected;
    if (!id) return;
    try {
      const ex = await api("GET", `/executions/${encodeURIComponent(id)}`);
      if (state.selected === id) showDetails(ex);
    } catch (err) {
      if (state.selected !== id) return;
      const box = $("d-error-load");
      box.textContent = err.status === 404 ? `Execution ${id} no longer exists.` : `Could not load it: ${err.message}`;
      box.hidden = false;
      if (err.status === 404) stopFollowing();
    }
  }

  function showDetails(ex) {
    if (ex.id !== state.selected) return;
    $("d-error-load").hidden = true;
    const sig = JSON.stringify(ex);
    if (sig === state.selectedSig) {
      refreshDetailTimes(ex);
      return;
    }
    state.selectedSig = sig;
    state.selectedDoc = ex;
    // requeued or resumed elsewhere after its stream ended: follow its new events
    if (state.follow && state.follow.id === ex.id && state.follow.ended && !TERMINAL.has(ex.status)) {
      followEvents(ex.id);
    }
    $("d-workflow").textContent = ex.workflow;
    $("d-status").replaceChildren(badge(ex.status));
    $("d-id").textContent = ex.id;
    $("d-actions").replaceChildren(actionButtons(ex, false));

    const ops =
      ex.total_operations !== null && ex.total_operations !== undefined
        ? `${ex.finished_operations ?? 0} / ${ex.total_operations}`
        : "";
    $("d-progress").replaceChildren(
      h("div", { class: "detail-progress" }, progressBar(ex), ops ? h("span", { class: "muted small", text: ops }) : null),
    );

    const flags = [ex.is_system && "system", ex.dry_run && "dry run", ex.force && "force"].filter(Boolean);
    const rows = [
      ["Target", ex.target || "—"],
      ["Queue", ex.queue],
      ["Priority", ex.priority],
      ["Attempt", `${ex.attempt ?? 0} of ${ex.max_attempts ?? "?"}`],
      ["Created by", ex.created_by || "—"],
      ["Created", ex.created_at, "time"],
      ["Scheduled for", ex.scheduled_for, "time"],
      ["Started", ex.started_at, "time"],
      ["Ended", ex.ended_at, "time"],
      ["Timeout", ex.timeout !== null && ex.timeout !== undefined ? `${ex.timeout} s` : "—"],
      ["Worker", ex.worker_id || "—"],
      ["Flags", flags.length ? flags.join(", ") : "—"],
    ];
    $("d-meta").replaceChildren(
      ...rows
        .filter(([, value, kind]) => kind !== "time" || value)
        .flatMap(([label, value, kind]) => [
          h("dt", { text: label }),
          kind === "time"
            ? h("dd", { class: "t-detail", dataset: { iso: value }, title: value, text: `${localTime(value)} (${ago(value)})` })
            : h("dd", { text: String(value ?? "—") }),
        ]),
    );

    $("d-params").textContent = pretty(ex.parameters ?? {});
    const hasResult = ex.result !== null && ex.result !== undefined;
    $("d-result-box").hidden = !hasResult && ex.status !== "succeeded";
    $("d-result").textContent = hasResult ? pretty(ex.result) : "null";

    const error = ex.error;
    $("d-error-box").hidden = !error;
    if (error) {
      const text = typeof error === "object" ? `${error.type || "Error"}: ${error.message || ""}` : String(error);
      $("d-error").textContent = text;
      const tb = typeof error === "object" && error.traceback ? String(error.traceback) : "";
      $("d-traceback").textContent = tb;
      $("d-traceback").hidden = !tb;
    }
  }

  function refreshDetailTimes() {
    for (const dd of $("d-meta").querySelectorAll("dd.t-detail")) {
      dd.textContent = `${localTime(dd.dataset.iso)} (${ago(dd.dataset.iso)})`;
    }
  }

  // --- the event log: SSE, or polling when a token must be sent ---------------------------------

  function stopFollowing() {
    const f = state.follow;
    if (!f) return;
    f.stopped = true;
    if (f.source) f.source.close();
    clearTimeout(f.timer);
    state.follow = null;
  }

  function setLogState(f, text) {
    if (state.follow === f) $("d-log-state").textContent = text;
  }

  function followEvents(id) {
    const previous = state.follow && state.follow.id === id ? state.follow.lastSeq : 0;
    stopFollowing();
    const f = { id, lastSeq: previous, stopped: false, ended: false, source: null, timer: null };
    state.follow = f;
    if (previous === 0) $("d-log").replaceChildren();
    // EventSource cannot send an Authorization header: with a token, poll the events page instead.
    if (state.token || typeof EventSource === "undefined") pollEvents(f);
    else streamEvents(f);
  }

  function streamEvents(f) {
    const url = `${API}/executions/${encodeURIComponent(f.id)}/events/stream${query({ after: f.lastSeq || "" })}`;
    const source = new EventSource(url);
    f.source = source;
    setLogState(f, "connecting…");
    const onEvent = (e) => {
      if (f.stopped) return;
      try {
        addEvent(f, JSON.parse(e.data));
      } catch (_) {
        /* not JSON: ignore */
      }
    };
    source.onopen = () => setLogState(f, "live");
    source.onmessage = onEvent;
    for (const kind of ["status", "message", "progress", "log"]) source.addEventListener(kind, onEvent);
    source.addEventListener("end", (e) => {
      source.close();
      f.source = null;
      let doc = null;
      try {
        doc = JSON.parse(e.data);
      } catch (_) {
        doc = null;
      }
      endFollowing(f, doc);
    });
    source.onerror = () => {
      if (f.stopped || f.ended) return;
      if (source.readyState === EventSource.CLOSED) {
        // refused (e.g. 401) rather than dropped: fall back to polling, which shows why
        source.close();
        f.source = null;
        pollEvents(f);
      } else {
        setLogState(f, "reconnecting…");
      }
    };
  }

  async function pollEvents(f) {
    if (f.stopped) return;
    setLogState(f, "polling every second");
    if (!document.hidden) {
      try {
        const path = `/executions/${encodeURIComponent(f.id)}`;
        // the execution first: when it is terminal, its last events were written before it was read
        const ex = await api("GET", path);
        let page;
        do {
          page = await api("GET", `${path}/events${query({ after: f.lastSeq })}`);
          for (const ev of page.items || []) addEvent(f, ev);
        } while (!f.stopped && (page.items || []).length >= 1000);
        if (f.stopped) return;
        if (TERMINAL.has(ex.status)) {
          endFollowing(f, ex);
          return;
        }
      } catch (err) {
        if (f.stopped) return;
        setLogState(f, `polling: ${err.message}`);
        if (err.status === 404) return;
      }
    }
    if (!f.stopped) f.timer = setTimeout(() => pollEvents(f), POLL_EVENTS_MS);
  }

  function endFollowing(f, doc) {
    f.ended = true;
    setLogState(f, "finished: no more events");
    if (doc && doc.id) showDetails(doc);
  }

  function addEvent(f, ev) {
    if (!ev || typeof ev !== "object" || f.stopped) return;
    const seq = Number(ev.seq);
    if (Number.isFinite(seq)) {
      if (seq <= f.lastSeq) return; // already shown (reconnect, or switching stream to polling)
      f.lastSeq = seq;
    }
    const log = $("d-log");
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
    const level = String(ev.level || "info").replace(/[^a-z]/g, "");
    log.append(
      h(
        "div",
        { class: `log-line level-${level} kind-${String(ev.kind || "").replace(/[^a-z_]/g, "")}` },
        h("span", { class: "log-ts mono", title: String(ev.ts || ""), text: localTime(ev.ts, false) }),
        h("span", { class: "log-kind", text: String(ev.kind || "") }),
        h("span", { class: "log-msg", text: String(ev.message ?? "") }),
      ),
    );
    while (log.childElementCount > MAX_LOG_LINES) log.firstElementChild.remove();
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  // --- the start form --------------------------------------------------------------------------

  async function loadWorkflows(preferred) {
    try {
      const data = await api("GET", "/workflows");
      state.workflows = (data.items || []).slice().sort((a, b) => String(a.name).localeCompare(String(b.name)));
    } catch (err) {
      state.workflows = [];
      $("start-description").textContent = `Could not load workflows: ${err.message}`;
    }
    const sel = $("start-workflow");
    const current = sel.value;
    if (state.workflows.length === 0) {
      sel.replaceChildren(h("option", { value: "", text: "no workflows registered", disabled: true }));
    } else {
      sel.replaceChildren(...state.workflows.map((w) => h("option", { value: w.name, text: w.name })));
      const pick = [preferred, current].find((name) => name && state.workflows.some((w) => w.name === name));
      if (pick) sel.value = pick;
    }
    $("workflow-names").replaceChildren(...state.workflows.map((w) => h("option", { value: w.name })));
    if (sel.value !== current) prefillParameters();
    else describeWorkflow();
  }

  function selectedWorkflow() {
    return state.workflows.find((w) => w.name === $("start-workflow").value) || null;
  }

  function describeWorkflow() {
    const wf = selectedWorkflow();
    if (!wf) return;
    const bits = [];
    if (wf.system) bits.push("system: runs alone");
    if (wf.isolation === "process") bits.push("killable (process)");
    if (wf.max_attempts > 1) bits.push(`${wf.max_attempts} attempts`);
    if (wf.timeout) bits.push(`timeout ${wf.timeout} s`);
    const desc = [wf.description, bits.join(" · ")].filter(Boolean).join(" — ");
    $("start-description").textContent = desc;
  }

  /** A value for each field of the workflow's parameter schema: its default, or an empty value of its type when required. */
  function defaultParameters(schema) {
    if (!schema || typeof schema !== "object" || !schema.properties || typeof schema.properties !== "object") return {};
    const required = new Set(Array.isArray(schema.required) ? schema.required : []);
    const entries = [];
    for (const [name, prop] of Object.entries(schema.properties)) {
      if (prop && typeof prop === "object" && Object.prototype.hasOwnProperty.call(prop, "default")) {
        entries.push([name, prop.default]);
      } else if (required.has(name)) {
        entries.push([name, emptyValue(prop)]);
      }
    }
    return Object.fromEntries(entries); // defines keys as data, so a "__proto__" field stays a field
  }

  function emptyValue(prop) {
    if (!prop || typeof prop !== "object") return null;
    let type = prop.type;
    if (Array.isArray(type)) type = type.find((t) => t !== "null");
    if (!type && Array.isArray(prop.anyOf)) type = (prop.anyOf.find((p) => p && p.type && p.type !== "null") || {}).type;
    if (Array.isArray(prop.enum) && prop.enum.length) return prop.enum[0];
    switch (type) {
      case "integer":
      case "number":
        return 0;
      case "boolean":
        return false;
      case "string":
        return "";
      case "array":
        return [];
      case "object":
        return {};
      default:
        return null;
    }
  }

  function prefillParameters() {
    const wf = selectedWorkflow();
    const text = pretty(wf ? defaultParameters(wf.parameters_schema) : {});
    $("start-params").defaultValue = text; // what a form reset goes back to
    $("start-params").value = text;
    describeWorkflow();
  }

  async function submitStart(e) {
    e.preventDefault();
    const errBox = $("start-error");
    const okBox = $("start-ok");
    errBox.hidden = true;
    okBox.hidden = true;
    const workflow = $("start-workflow").value;
    if (!workflow) {
      errBox.textContent = "Choose a workflow.";
      errBox.hidden = false;
      return;
    }
    let parameters;
    const text = $("start-params").value.trim();
    try {
      parameters = text ? JSON.parse(text) : {};
    } catch (err) {
      errBox.textContent = `Parameters are not valid JSON: ${err.message}`;
      errBox.hidden = false;
      return;
    }
    if (parameters === null || typeof parameters !== "object" || Array.isArray(parameters)) {
      errBox.textContent = "Parameters must be a JSON object, e.g. {\"n\": 3}.";
      errBox.hidden = false;
      return;
    }
    const body = {
      workflow,
      parameters,
      target: $("start-target").value.trim() || null,
      queue: $("start-queue").checked,
      force: $("start-force").checked,
      dry_run: $("start-dry-run").checked,
    };
    const button = $("start-submit");
    button.disabled = true;
    try {
      const ex = await api("POST", "/executions", body);
      okBox.textContent = `Started ${shortId(ex.id)}: ${String(ex.status).replace(/_/g, " ")}.`;
      okBox.hidden = false;
      openDetails(ex.id);
      refreshAll();
    } catch (err) {
      errBox.textContent = err.message;
      errBox.hidden = false;
    } finally {
      button.disabled = false;
    }
  }

  // --- the refresh loop ------------------------------------------------------------------------

  /** Refresh everything; calls during a refresh are folded into one more run right after it. */
  async function refreshAll() {
    if (state.refreshing) {
      state.again = true;
      return;
    }
    state.refreshing = true;
    try {
      do {
        state.again = false;
        await Promise.all([refreshHealth(), refreshCounts(), refreshList(), refreshDetails()]);
      } while (state.again);
      state.lastOk = new Date();
    } finally {
      state.refreshing = false;
    }
    updateRefreshState();
  }

  function updateRefreshState() {
    const el = $("refresh-state");
    if (document.hidden) el.textContent = "paused while hidden";
    else if (state.lastOk) el.textContent = `updated ${localTime(state.lastOk.toISOString(), false).slice(0, 8)}`;
  }

  function schedule() {
    clearTimeout(state.timer);
    state.timer = setTimeout(async () => {
      if (!document.hidden) await refreshAll();
      schedule();
    }, REFRESH_MS);
  }

  // --- wiring ----------------------------------------------------------------------------------

  function init() {
    fillStatusSelect();
    buildChips();
    // on a narrower screen the start form sits above the list: fold it until it is wanted
    if (window.matchMedia && window.matchMedia(`(max-width: ${SIDEBAR_MIN_WIDTH - 1}px)`).matches) {
      $("start-card").open = false;
    }
    $("token-toggle").textContent = state.token ? "Token ✓" : "Token";

    $("filters").addEventListener("submit", (e) => {
      e.preventDefault();
      setFilters({ status: $("filter-status").value, workflow: $("filter-workflow").value, target: $("filter-target").value });
    });
    $("filter-status").addEventListener("change", () =>
      setFilters({ ...state.filters, status: $("filter-status").value }),
    );
    for (const id of ["filter-workflow", "filter-target"]) {
      $(id).addEventListener("change", () =>
        setFilters({ status: $("filter-status").value, workflow: $("filter-workflow").value, target: $("filter-target").value }),
      );
    }
    $("filter-clear").addEventListener("click", () => setFilters({}));

    $("page-next").addEventListener("click", () => {
      if (!state.nextCursor) return;
      state.cursors.push(state.nextCursor);
      refreshAll();
    });
    $("page-prev").addEventListener("click", () => {
      if (state.cursors.length > 1) state.cursors.pop();
      refreshAll();
    });
    $("page-first").addEventListener("click", () => {
      state.cursors = [null];
      refreshAll();
    });

    $("start-workflow").addEventListener("change", prefillParameters);
    $("start-form").addEventListener("submit", submitStart);

    $("details-close").addEventListener("click", closeDetails);
    $("drawer-backdrop").addEventListener("click", closeDetails);
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && state.selected) closeDetails();
    });

    $("token-toggle").addEventListener("click", () => {
      const bar = $("token-bar");
      if (bar.hidden) {
        $("token-msg").textContent = state.token
          ? "A token is set (kept in this browser). Paste another, or forget it."
          : "Paste an API token (conveyor token create --role viewer).";
        bar.hidden = false;
        $("token-input").focus();
      } else {
        bar.hidden = true;
      }
    });
    $("token-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const token = $("token-input").value.trim();
      if (token) useToken(token);
    });
    $("token-clear").addEventListener("click", () => useToken(null));
    $("token-close").addEventListener("click", () => {
      $("token-bar").hidden = true;
    });
    $("notice-close").addEventListener("click", () => {
      $("notice").hidden = true;
    });

    document.addEventListener("visibilitychange", () => {
      updateRefreshState();
      if (!document.hidden) {
        refreshAll();
        schedule();
      }
    });

    const initial = readHash();
    state.filters = { status: "", workflow: "", target: "", ...initial.filters };
    if (initial.start !== null) $("start-card").open = true;
    loadWorkflows(initial.start || undefined);
    setFilters(state.filters);
    if (initial.execution) openDetails(initial.execution);
    schedule();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
