// spine-sandbox live sequence diagram.
//
// Plain JavaScript, no framework and no diagram library: the page is
// embedded in the Go binary with no build step, and a sequence diagram with
// five lifelines is a few lines and triangles — SVG we draw ourselves lets
// us draw only the rows in view (so 1,000 hops stay fast), make every arrow
// a focusable button with a spoken label, and never pass a consumer's
// request bodies through a library's HTML templating.
//
// Data: the admin API's server-sent events (event "hop", data = journal.View
// JSON: a hop whose bodies are JSON values when they are JSON objects or
// arrays, strings otherwise). The journal appends a hop when its response is done, so the
// SSP→provider leg (4b) arrives before the consumer→SSP leg (4a). We
// therefore place arrows by time, not by arrival: a hop's request arrow at
// its start (time), its reply arrow at its end (time + duration_ns), which
// nests the SSP legs as consumer→SSP, SSP→provider, provider→SSP,
// SSP→consumer.
//
// Hops in flight: the stream also sends event "start" when a request
// begins (journal.Start: from, to, step, name, time — no bodies). The page
// draws it as a pending request arrow (grey, dashed, moving) until the hop
// carrying that start id arrives, when it turns green or red and its reply
// arrow is added.
//
// Pacing: "Run scenario" shows the run one arrow at a time at the chosen
// speed (the run itself is as fast as ever; only the drawing waits). A
// request arrow whose reply is not shown yet is drawn pending, and the
// wait before an arrow is at least the real time between it and the one
// before (up to 10 s), so a timed-out call visibly waits. "Real time"
// (speed 0) draws each arrow as it comes. ?speed= carries the choice.
//
// Verdict: event "run" says when the session's run begins and ends; at the
// end the page reads GET …/verdict and shows it in a banner once the pacing
// has drawn every arrow.
"use strict";

(function () {
  const PARTIES = ["consumer", "pds", "sds", "ssp", "provider"];
  const NAMES = { consumer: "Consumer", pds: "PDS", sds: "SDS", ssp: "SSP", provider: "Provider" };
  const ROW = 56;       // px per arrow row
  const OVERSCAN = 6;   // rows drawn above and below the view
  const SVGNS = "http://www.w3.org/2000/svg";

  const $ = (id) => document.getElementById(id);
  const els = {
    session: $("session"), refresh: $("refresh"), scenario: $("scenario"), run: $("run"), clear: $("clear"), replay: $("replay"),
    speed: $("speed"), follow: $("follow"), status: $("status"), diagram: $("diagram"),
    spacer: $("spacer"), rows: $("rows"), lifelines: $("lifelines"), empty: $("empty"),
    detailsBody: $("details-body"), detailsHint: $("details-hint"), announce: $("announce"),
    details: $("details"), closeDetails: $("close-details"), banner: $("banner"), present: $("present"),
  };

  const state = {
    session: "",
    source: null,        // EventSource
    hops: new Map(),     // seq → hop
    rows: [],            // arrows in diagram order
    baseSec: null,       // epoch second all times are measured from
    selected: null,      // seq of the hop shown in details
    focusRow: -1,        // index of the focused arrow
    replayLimit: null,   // while replaying: how many rows are shown
    replayTimer: null,
    dirty: false,
    stick: false,        // scroll to the last arrow on the next draw
    pending: [],         // hops not yet announced
    announceTimer: null,
    wantHop: 0,          // ?hop=N: show arrow N's hop once it is drawn
    starts: new Map(),   // start id → journal.Start of a hop in flight
    ended: new Set(),    // start ids whose hops have arrived
    pacing: false,       // a run is being drawn at the chosen speed
    running: false,      // the session's run is in flight (event "run")
    verdict: null,       // the last run's verdict, shown once drawn
    verdicts: new Map(), // session id → "PASS"/"FAIL", for the picker
  };

  // ---- time -------------------------------------------------------------

  // nanos turns an RFC 3339 time with nanoseconds into nanoseconds since
  // state.baseSec; Date keeps only milliseconds, and legs of one SSP call
  // are often less than a millisecond apart.
  function nanos(t) {
    const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(t || "");
    if (!m) return 0;
    const sec = Math.floor(Date.parse(m[1] + m[3]) / 1000);
    if (!Number.isFinite(sec)) return 0;
    if (state.baseSec === null) state.baseSec = sec;
    const frac = parseInt(((m[2] || ".").slice(1) + "000000000").slice(0, 9), 10);
    return (sec - state.baseSec) * 1e9 + frac;
  }

  // ---- the verdict rule ------------------------------------------------

  // failed: red when any check failed, the status is 400 or above, or there
  // was no response at all (status 0 or a transport error); green otherwise.
  function failed(hop) {
    if (!hop.status || hop.status >= 400 || hop.error) return true;
    return (hop.checks || []).some((c) => !c.passed);
  }

  // ---- rows ------------------------------------------------------------

  function rebuild() {
    const events = [];
    for (const hop of state.hops.values()) {
      const start = nanos(hop.time);
      const end = start + Math.max(1, hop.duration_ns || 0);
      events.push({ hop, kind: "request", t: start, order: 1, tie: -end });
      events.push({ hop, kind: "reply", t: end, order: 0, tie: -start });
    }
    // At the same instant a reply closes before the next request opens;
    // replies of nested calls close inner first, requests open outer first.
    for (const st of state.starts.values()) {
      const hop = Object.assign({}, st, { seq: -st.start, inflight: true });
      const start = nanos(st.time);
      events.push({ hop, kind: "request", t: start, order: 1, tie: -Infinity });
    }
    events.sort((a, b) => a.t - b.t || a.order - b.order || a.tie - b.tie || a.hop.seq - b.hop.seq);
    // Each request arrow knows its reply's row: it is drawn pending until
    // that row is shown.
    const reply = new Map();
    events.forEach((e, i) => { if (e.kind === "reply") reply.set(e.hop.seq, i); });
    for (const e of events) if (e.kind === "request") e.reply = e.hop.inflight ? Infinity : reply.get(e.hop.seq);
    state.rows = events;
  }

  // pending: a request arrow whose answer has not come, or is not drawn yet.
  function pending(row) {
    return row.kind === "request" && row.reply >= shown();
  }

  function shown() {
    return state.replayLimit === null ? state.rows.length : Math.min(state.replayLimit, state.rows.length);
  }

  function arrowText(row) {
    const h = row.hop;
    if (row.kind === "request") {
      return { step: h.step || "", label: h.name || h.interaction || (h.method + " " + h.url) };
    }
    let label = h.status ? String(h.status) : "no response";
    if (h.code) label += " " + h.code;
    if (h.error) label += " (" + h.error + ")";
    return { step: h.reply_step || "", label };
  }

  function ends(row) {
    const h = row.hop;
    return row.kind === "request" ? [h.from, h.to] : [h.to, h.from];
  }

  function spoken(row, i) {
    const [from, to] = ends(row);
    const t = arrowText(row);
    const bad = failed(row.hop);
    return `Arrow ${i + 1}: ${t.step ? "step " + t.step + ", " : ""}${row.kind}, ` +
      `${NAMES[from] || from} to ${NAMES[to] || to}, ${t.label}, ${pending(row) ? "in flight" : bad ? "failed" : "passed"}`;
  }

  // ---- drawing ---------------------------------------------------------

  function xs(width) {
    const margin = Math.max(70, width * 0.08);
    const step = (width - 2 * margin) / (PARTIES.length - 1);
    const out = {};
    PARTIES.forEach((p, i) => { out[p] = margin + i * step; });
    return out;
  }

  function el(name, attrs, text) {
    const e = document.createElementNS(SVGNS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function schedule() {
    if (state.dirty) return;
    state.dirty = true;
    requestAnimationFrame(() => { state.dirty = false; draw(); });
  }

  function draw() {
    const d = els.diagram;
    const width = d.clientWidth;
    const x = xs(width);
    for (const span of els.lifelines.children) {
      span.style.left = x[span.dataset.party] + "px";
    }
    const n = shown();
    els.empty.hidden = n > 0;
    // Size the scroll area, then scroll, then pick the rows from the
    // scroll position we just set — all in this one call. Scrolling in a
    // separate animation frame and relying on the scroll event to redraw
    // left the SVG drawn for the old position (an empty view) whenever the
    // browser drew the frame in between.
    const view = d.clientHeight;
    els.spacer.style.height = Math.max(n * ROW, view - 4) + "px";
    if (state.stick) {
      state.stick = false;
      d.scrollTop = d.scrollHeight;
    }
    const top = Math.min(d.scrollTop, Math.max(0, n * ROW - view));
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const last = Math.min(n, Math.ceil((top + view) / ROW) + OVERSCAN);
    const height = Math.max((last - first) * ROW, first === 0 ? view - 4 : 0);
    const svg = els.rows;
    svg.style.top = first * ROW + "px";
    svg.setAttribute("height", height);
    svg.setAttribute("width", width);
    svg.replaceChildren();
    for (const p of PARTIES) {
      svg.appendChild(el("line", { class: "lifeline", x1: x[p], x2: x[p], y1: 0, y2: height }));
    }
    // The roving tabindex: the focused arrow, or the first drawn when it
    // is scrolled away, so Tab always reaches the diagram.
    const tabRow = state.focusRow >= first && state.focusRow < last ? state.focusRow : first;
    for (let i = first; i < last; i++) {
      const g = arrow(state.rows[i], i, (i - first) * ROW, x, width, i === tabRow);
      svg.appendChild(g);
      fit(g, width);
    }
  }

  // fit ellipsises an arrow's label to the room it has (at most the
  // arrow's length plus half a lifeline gap each side, never past the
  // diagram's edges) and keeps it inside them; the full text is in the
  // <title> (hover), the arrow's spoken name (focus) and the details.
  function fit(g, width) {
    const text = g.querySelector("text");
    const label = text.lastChild;
    const full = label.textContent;
    const gap = (xs(width).pds - xs(width).consumer) / 2;
    const room = Math.min(width - 8, parseFloat(text.dataset.span) + 2 * gap);
    let w = text.getComputedTextLength();
    for (let k = 0; k < 4 && w > room && label.textContent.length > 2; k++) {
      const step = w - label.getComputedTextLength();
      const keep = Math.max(1, Math.floor(full.length * (room - step) / Math.max(1, w - step)) - 2 - k);
      label.textContent = full.slice(0, keep) + "…";
      w = text.getComputedTextLength();
    }
    const mid = parseFloat(text.getAttribute("x"));
    const cx = Math.max(4 + w / 2, Math.min(width - 4 - w / 2, mid));
    text.setAttribute("x", cx);
  }

  function arrow(row, i, top, x, width, tab) {
    const [from, to] = ends(row);
    const x1 = x[from] ?? 10, x2 = x[to] ?? width - 10;
    const y = top + ROW - 14;
    const dir = x2 >= x1 ? 1 : -1;
    const wait = pending(row);
    const bad = !wait && failed(row.hop);
    const g = el("g", {
      class: `arrow ${row.kind} ${wait ? "pending" : bad ? "bad" : "ok"}${row.hop.seq === state.selected ? " selected" : ""}`,
      role: "button", tabindex: tab ? "0" : "-1",
      "aria-label": spoken(row, i), "data-row": i,
    });
    g.appendChild(el("rect", { class: "hit", x: Math.min(x1, x2) - 8, y: top + 2, width: Math.abs(x2 - x1) + 16, height: ROW - 4, rx: 6 }));
    g.appendChild(el("line", { x1, y1: y, x2: x2 - dir * 12, y2: y }));
    g.appendChild(el("polygon", { points: `${x2},${y} ${x2 - dir * 16},${y - 8} ${x2 - dir * 16},${y + 8}` }));
    const t = arrowText(row);
    const mid = (x1 + x2) / 2;
    const text = el("text", { x: mid, y: y - 10, "text-anchor": "middle", "data-span": Math.abs(x2 - x1) });
    text.appendChild(el("tspan", { class: "step" }, (bad ? "✗ " : "") + (t.step ? t.step + " " : "")));
    text.appendChild(el("tspan", {}, t.label));
    g.appendChild(el("title", {}, (t.step ? t.step + " " : "") + t.label));
    g.appendChild(text);
    return g;
  }

  // ---- focus and keyboard ---------------------------------------------

  function focusRow(i) {
    const n = shown();
    if (n === 0) return;
    i = Math.max(0, Math.min(n - 1, i));
    state.focusRow = i;
    const d = els.diagram;
    if (i * ROW < d.scrollTop) d.scrollTop = i * ROW;
    else if ((i + 1) * ROW > d.scrollTop + d.clientHeight) d.scrollTop = (i + 1) * ROW - d.clientHeight;
    draw();
    const g = els.rows.querySelector(`[data-row="${i}"]`);
    if (g) g.focus();
  }

  function rowOf(target) {
    const g = target.closest && target.closest(".arrow");
    return g ? parseInt(g.dataset.row, 10) : -1;
  }

  els.rows.addEventListener("click", (e) => {
    const i = rowOf(e.target);
    if (i >= 0) { state.focusRow = i; select(state.rows[i].hop); }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    if (document.body.classList.contains("showing")) { closeDetails(); return; }
    if (document.body.classList.contains("present")) togglePresent();
  });
  els.diagram.addEventListener("keydown", (e) => {
    const i = rowOf(e.target);
    const cur = i >= 0 ? i : state.focusRow;
    switch (e.key) {
      case "Enter": case " ":
        if (i >= 0) { e.preventDefault(); select(state.rows[i].hop); }
        return;
      case "ArrowDown": e.preventDefault(); focusRow(cur + 1); return;
      case "ArrowUp": e.preventDefault(); focusRow(cur - 1); return;
      case "PageDown": e.preventDefault(); focusRow(cur + Math.floor(els.diagram.clientHeight / ROW)); return;
      case "PageUp": e.preventDefault(); focusRow(cur - Math.floor(els.diagram.clientHeight / ROW)); return;
      case "Home": e.preventDefault(); focusRow(0); return;
      case "End": e.preventDefault(); focusRow(shown() - 1); return;
    }
  });
  els.diagram.addEventListener("scroll", () => {
    const d = els.diagram;
    if (d.scrollTop + d.clientHeight < d.scrollHeight - ROW) els.follow.checked = false;
    schedule();
  }, { passive: true });
  window.addEventListener("resize", schedule);
  // The diagram's height changes without a window resize (the verdict
  // banner appearing above it, present mode): keep the newest arrow in
  // view when following.
  if (window.ResizeObserver) {
    // Drawn at once, not on the next frame: the observer runs after layout
    // and before paint, so the frame shown is never the stale one.
    new ResizeObserver(() => {
      if (els.follow.checked && state.replayLimit === null) state.stick = true;
      draw();
    }).observe(els.diagram);
  }

  // follow pins the view to the newest arrow on the next draw.
  function follow() {
    state.stick = true;
    schedule();
  }

  // ---- details ---------------------------------------------------------

  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid);
    return e;
  }

  // pretty shows a body: the journal sends a JSON body as a JSON value and
  // any other body (text, a clipped JSON body) as a string.
  function pretty(body) {
    if (body === undefined || body === null || body === "") return "(empty)";
    if (typeof body !== "string") return JSON.stringify(body, null, 2);
    try { return JSON.stringify(JSON.parse(body), null, 2); } catch (_) { return body; }
  }

  function headerText(hdr) {
    if (!hdr) return "(none)";
    return Object.keys(hdr).sort().map((k) => `${k}: ${[].concat(hdr[k]).join(", ")}`).join("\n");
  }

  // jwtClaims decodes the unsigned GP Connect JWT of the Authorization
  // header so the trainer can see the requesting organisation and scope.
  function jwtClaims(hdr) {
    const auth = hdr && (hdr.Authorization || hdr.authorization);
    const v = auth && [].concat(auth)[0];
    if (!v || !/^Bearer /i.test(v)) return null;
    const part = v.slice(7).split(".")[1];
    if (!part) return null;
    try {
      const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
      const bin = atob(b64 + "===".slice((b64.length + 3) % 4));
      const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
      return JSON.stringify(JSON.parse(new TextDecoder().decode(bytes)), null, 2);
    } catch (_) { return null; }
  }

  function closeDetails() {
    document.body.classList.remove("showing");
    state.selected = null;
    draw();
    const g = els.rows.querySelector(`[data-row="${state.focusRow}"]`);
    if (g) g.focus();
  }

  function select(hop) {
    state.selected = hop.seq;
    document.body.classList.add("showing");
    draw();
    const bad = failed(hop);
    const checks = hop.checks || [];
    const fails = checks.filter((c) => !c.passed);
    const passes = checks.filter((c) => c.passed);
    const dl = h("dl", {},
      h("dt", {}, "Hop"), h("dd", {}, hop.inflight ? `in flight: ${NAMES[hop.from] || hop.from} → ${NAMES[hop.to] || hop.to}` :
        `#${hop.seq}: ${NAMES[hop.from] || hop.from} → ${NAMES[hop.to] || hop.to}`),
      h("dt", {}, "Steps"), h("dd", {}, `${hop.step || "–"} / ${hop.reply_step || "–"}`),
      h("dt", {}, "Interaction"), h("dd", {}, hop.interaction || hop.name || "–"),
      h("dt", {}, "Request"), h("dd", {}, `${hop.method} ${hop.url}`),
      h("dt", {}, "Status"), h("dd", {}, String(hop.status || "no response") + (hop.code ? " " + hop.code : "")),
      h("dt", {}, "Time"), h("dd", {}, `${hop.time} (${((hop.duration_ns || 0) / 1e6).toFixed(1)} ms)`),
      h("dt", {}, "Verdict"), h("dd", {}, h("span", { class: "badge " + (bad ? "bad" : "ok") }, bad ? "✗ failed" : "✓ passed")));
    if (hop.fault) dl.append(h("dt", {}, "Fault"), h("dd", {}, hop.fault));
    if (hop.error) dl.append(h("dt", {}, "Error"), h("dd", {}, hop.error));
    // serve --tls: the connection's TLS facts (journal.TLSFacts).
    if (hop.tls) dl.append(h("dt", {}, "TLS"), h("dd", {}, `${hop.tls.version}, ${hop.tls.cipher}, client certificate ${hop.tls.client_subject || "none"}`));
    const parts = [dl];
    if (fails.length) {
      parts.push(h("h3", {}, `Failed checks (${fails.length})`));
      for (const c of fails) {
        parts.push(h("div", { class: "verdict bad" },
          h("p", {}, h("strong", {}, c.check), c.section ? ` — section ${c.section}` : "", c.severity ? ` (${c.severity})` : ""),
          c.message ? h("p", {}, c.message) : null,
          c.diff ? h("pre", { "aria-label": "Difference" }, c.diff) : null));
      }
    }
    if (passes.length) {
      const det = h("details", {}, h("summary", {}, `Passed checks (${passes.length})`));
      for (const c of passes) {
        det.append(h("div", { class: "verdict ok" }, h("strong", {}, c.check), c.section ? ` — section ${c.section}` : ""));
      }
      parts.push(det);
    }
    parts.push(h("h3", {}, "Request headers"), h("pre", {}, headerText(hop.request_header)));
    const claims = jwtClaims(hop.request_header);
    if (claims) parts.push(h("h3", {}, "JWT claims"), h("pre", {}, claims));
    parts.push(h("h3", {}, "Request body"), h("pre", {}, pretty(hop.request_body)));
    parts.push(h("h3", {}, "Response headers"), h("pre", {}, headerText(hop.response_header)));
    parts.push(h("h3", {}, "Response body"), h("pre", {}, pretty(hop.response_body)));
    els.detailsHint.hidden = true;
    els.detailsBody.replaceChildren(...parts);
    say(`Showing hop ${hop.seq}, ${hop.name || hop.interaction}, ${bad ? "failed" : "passed"}.`);
  }

  // ---- announcements ---------------------------------------------------

  function say(text) {
    // Clearing first makes screen readers repeat an identical message.
    els.announce.textContent = "";
    setTimeout(() => { els.announce.textContent = text; }, 30);
  }

  // announceHops batches new hops so a burst (the journal so far, or a
  // load test) is one sentence rather than hundreds.
  function announceHop(hop) {
    state.pending.push(hop);
    clearTimeout(state.announceTimer);
    state.announceTimer = setTimeout(() => {
      const p = state.pending;
      state.pending = [];
      if (!p.length) return;
      const last = p[p.length - 1];
      const what = `${last.step || ""} ${NAMES[last.from] || last.from} to ${NAMES[last.to] || last.to}, ` +
        `${last.name || last.interaction}, ${last.status || "no response"}, ${failed(last) ? "failed" : "passed"}`;
      const fails = p.filter(failed).length;
      say(p.length === 1 ? `New hop: ${what}.` :
        `${p.length} new hops, ${fails} failed. Latest: ${what}.`);
    }, 600);
  }

  // ---- the stream ------------------------------------------------------

  function status(text) { els.status.textContent = text; }

  function adminURL(path) {
    return "/_admin/sessions/" + encodeURIComponent(state.session) + path;
  }

  function connect(id) {
    if (state.source) state.source.close();
    stopReplay();
    state.session = id;
    state.hops.clear();
    state.starts.clear();
    state.ended.clear();
    state.running = false;
    state.verdict = null;
    showBanner();
    state.rows = [];
    state.baseSec = null;
    state.selected = null;
    state.focusRow = -1;
    els.detailsBody.replaceChildren();
    els.detailsHint.hidden = false;
    draw();
    if (!id) { status("No session selected."); return; }
    status(`Connecting to session ${id}…`);
    const src = new EventSource(adminURL("/events"));
    state.source = src;
    src.onopen = () => status(`Live: session ${id}`);
    src.onerror = () => status(src.readyState === EventSource.CLOSED ?
      `Disconnected from session ${id}.` : `Reconnecting to session ${id}…`);
    src.addEventListener("hop", (e) => {
      let hop;
      try { hop = JSON.parse(e.data); } catch (_) { return; }
      if (typeof hop.seq !== "number" || state.hops.has(hop.seq)) return;
      state.hops.set(hop.seq, hop);
      if (hop.start) { state.starts.delete(hop.start); state.ended.add(hop.start); }
      rebuild();
      if (state.wantHop && state.rows.length >= state.wantHop) {
        state.focusRow = state.wantHop - 1;
        state.wantHop = 0;
        select(state.rows[state.focusRow].hop);
      }
      announceHop(hop);
      if (els.follow.checked && state.replayLimit === null) follow();
      else schedule();
    });
    src.addEventListener("start", (e) => {
      let st;
      try { st = JSON.parse(e.data); } catch (_) { return; }
      if (typeof st.start !== "number" || state.ended.has(st.start)) return;
      state.starts.set(st.start, st);
      rebuild();
      if (els.follow.checked && state.replayLimit === null) follow();
      else schedule();
    });
    src.addEventListener("run", (e) => {
      let run;
      try { run = JSON.parse(e.data); } catch (_) { return; }
      state.running = !!run.running;
      if (state.running) {
        state.verdict = null;
        showBanner();
        // The Run button has said which scenario; a run started elsewhere has not.
        if (!els.status.textContent.startsWith("Running")) status(`Running a scenario in session ${id}…`);
        return;
      }
      loadVerdict(id);
    });
  }

  // ---- the verdict -----------------------------------------------------

  async function loadVerdict(id) {
    let v;
    try {
      const res = await fetch(adminURL("/verdict"), { headers: { Accept: "application/json" } });
      if (!res.ok) return; // a sandbox without a verdict function
      v = await res.json();
    } catch (_) { return; }
    if (id !== state.session) return;
    state.verdict = v;
    showBanner();
  }

  // hopFor links a failed expectation to a hop: the first failed hop the
  // message names (by step or name), else the first failed hop.
  function hopFor(f) {
    const bad = [...state.hops.values()].filter(failed).sort((a, b) => a.seq - b.seq);
    const msg = f.message || "";
    return bad.find((hp) => (hp.name && msg.includes(hp.name)) || (hp.step && msg.includes(" " + hp.step))) || bad[0];
  }

  // showBanner shows the verdict once every arrow of the run is drawn (not
  // before: the banner would give the ending away mid-demo).
  function showBanner() {
    const v = state.verdict;
    if (!v || state.pacing) { els.banner.hidden = true; els.banner.replaceChildren(); return; }
    const pass = v.passed;
    els.banner.className = pass ? "pass" : "fail";
    const kids = [h("strong", { class: "mark" }, pass ? "✓ PASS" : "✗ FAIL"),
      h("span", {}, ` ${v.scenario}: ${v.outcome || "no outcome"}`)];
    if (!pass && v.failures && v.failures.length) {
      const ul = h("ul", {});
      for (const f of v.failures) {
        const hop = hopFor(f);
        const li = h("li", {}, h("strong", {}, f.rule), f.section ? ` (${f.section})` : "", ": " + f.message);
        if (hop) {
          const b = h("button", { type: "button", class: "link" }, `show hop #${hop.seq}`);
          b.addEventListener("click", () => {
            const i = state.rows.findIndex((r) => r.hop.seq === hop.seq);
            if (i >= 0) focusRow(i);
            select(hop);
          });
          li.append(" ", b);
        }
        ul.append(li);
      }
      kids.push(ul);
    }
    els.banner.replaceChildren(...kids);
    els.banner.hidden = false;
    // The picker learns the verdict with the banner, not before: it would
    // give the ending away mid-demo.
    state.verdicts.set(state.session, pass ? "PASS" : "FAIL");
    for (const o of els.session.options) if (o.value === state.session) o.textContent = optionText(state.session, v.scenario);
    status(`Run ${pass ? "passed" : "failed"} in session ${state.session}.`);
    say(`Run ${pass ? "passed" : "failed"}: ${v.outcome || "no outcome"}.`);
  }

  // ---- pacing ----------------------------------------------------------

  function speed() { return parseInt(els.speed.value, 10) || 0; }

  // pace draws the session's arrows one at a time, at the chosen speed,
  // until the run has ended and every arrow is drawn.
  function pace() {
    clearTimeout(state.replayTimer);
    state.pacing = true;
    state.replayLimit = Math.min(state.replayLimit ?? 0, state.rows.length);
    const tick = () => {
      if (!state.pacing) return;
      const n = state.replayLimit;
      if (n < state.rows.length) {
        state.replayLimit = n + 1;
        state.stick = els.follow.checked;
        draw();
        if (state.rows[n]) say(spoken(state.rows[n], n));
        const next = state.rows[n + 1];
        const gap = next ? (next.t - state.rows[n].t) / 1e6 : 0;
        state.replayTimer = setTimeout(tick, Math.max(speed(), Math.min(gap, 10000)));
        return;
      }
      if (state.running || (!state.verdict && state.rows.length === 0)) {
        state.replayTimer = setTimeout(tick, 100);
        return;
      }
      endPacing();
    };
    tick();
  }

  function endPacing() {
    clearTimeout(state.replayTimer);
    state.replayTimer = null;
    state.pacing = false;
    state.replayLimit = null;
    follow();
    showBanner();
  }

  // sessionFromPath: the page is served at "/" for the default session
  // and at "/s/{id}/" for the others; ?session= overrides both.
  function sessionFromPath() {
    const q = new URLSearchParams(location.search).get("session");
    if (q) return q;
    const m = /^\/s\/([^/]+)\//.exec(location.pathname);
    return m ? decodeURIComponent(m[1]) : "default";
  }

  // optionText names a session in the picker, with its last verdict when
  // this page saw one.
  function optionText(id, scenario) {
    const v = state.verdicts.get(id);
    return (scenario ? `${id} — ${scenario}` : id) + (v ? ` — ${v}` : "");
  }

  async function loadSessions(want) {
    let list = [];
    try {
      const res = await fetch("/_admin/sessions", { headers: { Accept: "application/json" } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      list = await res.json();
    } catch (err) {
      status(`Could not list sessions: ${err.message}`);
    }
    // The server's verdict on each session's last run, except the one this
    // page is still drawing (the banner brings that one).
    for (const s of list) {
      if (s.last_run && !(s.id === state.session && (state.pacing || state.running))) {
        state.verdicts.set(s.id, s.last_run.passed ? "PASS" : "FAIL");
      }
    }
    const ids = list.map((s) => s.id);
    if (want && !ids.includes(want)) ids.unshift(want);
    els.session.replaceChildren(...ids.map((id) => {
      const s = list.find((x) => x.id === id);
      return h("option", { value: id }, optionText(id, s && s.scenario));
    }));
    els.session.value = want || ids[0] || "";
    return els.session.value;
  }

  // ---- controls --------------------------------------------------------

  els.session.addEventListener("change", () => connect(els.session.value));
  els.refresh.addEventListener("click", async () => {
    const cur = state.session;
    await loadSessions(cur);
    if (els.session.value !== cur) connect(els.session.value);
    say("Session list refreshed.");
  });
  els.clear.addEventListener("click", async () => {
    if (!state.session) return;
    try {
      const res = await fetch(adminURL("/journal"), { method: "DELETE" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      status(`Could not clear the journal: ${err.message}`);
      return;
    }
    stopReplay();
    state.hops.clear();
    state.rows = [];
    state.selected = null;
    state.focusRow = -1;
    els.detailsBody.replaceChildren();
    els.detailsHint.hidden = false;
    draw();
    say("Journal cleared.");
  });

  function stopReplay() {
    clearInterval(state.replayTimer);
    clearTimeout(state.replayTimer);
    state.replayTimer = null;
    state.pacing = false;
    state.replayLimit = null;
    els.replay.setAttribute("aria-pressed", "false");
    els.replay.textContent = "Replay slowly";
    schedule();
  }

  // Replay draws the arrows again one at a time, for talking a room
  // through the booking sequence.
  els.replay.addEventListener("click", () => {
    if (state.replayTimer) { stopReplay(); say("Replay stopped."); return; }
    if (!state.rows.length) { say("Nothing to replay yet."); return; }
    state.replayLimit = 0;
    els.replay.setAttribute("aria-pressed", "true");
    els.replay.textContent = "Stop replay";
    els.diagram.scrollTop = 0;
    const tick = () => {
      state.replayLimit++;
      const i = state.replayLimit - 1;
      state.stick = true;
      draw();
      if (state.rows[i]) say(spoken(state.rows[i], i));
      if (state.replayLimit >= state.rows.length) { stopReplay(); }
    };
    state.replayTimer = setInterval(tick, parseInt(els.speed.value, 10) || 1000);
    tick();
  });
  els.follow.addEventListener("change", () => { if (els.follow.checked) follow(); });

  // ---- running a scenario --------------------------------------------

  async function loadScenarios() {
    let list = [];
    try {
      const res = await fetch("/_admin/scenarios", { headers: { Accept: "application/json" } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      list = await res.json();
    } catch (err) {
      status(`Could not list scenarios: ${err.message}`);
    }
    els.scenario.replaceChildren(...list.map((s) => {
      const o = h("option", { value: s.name }, s.scenario && s.scenario !== s.name ? `${s.name} — ${s.scenario}` : s.name);
      if (s.description) o.title = s.description;
      return o;
    }));
    els.run.disabled = list.length === 0;
  }

  // adminJSON sends a JSON request to the admin API and returns the parsed
  // answer, throwing the API's own error message when it refuses.
  async function adminJSON(method, path, body) {
    const res = await fetch(path, {
      method, headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await res.json(); } catch (_) { /* no body */ }
    if (!res.ok) throw new Error((data && (data.detail || data.error)) || `HTTP ${res.status}`);
    return data;
  }

  // Run scenario: a fresh session for the chosen scenario, shown in the
  // diagram, then the built-in consumer runs it; the arrows arrive live
  // through the session's event stream.
  els.run.addEventListener("click", async () => {
    const name = els.scenario.value;
    if (!name) return;
    els.run.disabled = true;
    try {
      const info = await adminJSON("POST", "/_admin/sessions", { scenario: name });
      await loadSessions(info.id);
      connect(info.id);
      if (speed() > 0) pace();
      await adminJSON("POST", adminURL("/run"));
      status(`Running ${name} in session ${info.id}…`);
      say(`Running scenario ${name}.`);
    } catch (err) {
      stopReplay();
      status(`Could not run ${name}: ${err.message}`);
    } finally {
      els.run.disabled = false;
    }
  });

  // ---- start -----------------------------------------------------------

  els.rows.setAttribute("role", "group");
  const params = new URLSearchParams(location.search);
  state.wantHop = Math.max(0, parseInt(params.get("hop"), 10) || 0);
  // ?speed=MS (0: real time) picks the pacing, so a presenter can bookmark it.
  const sp = params.get("speed");
  if (sp !== null && /^\d+$/.test(sp)) {
    if (![...els.speed.options].some((o) => o.value === sp)) {
      els.speed.append(h("option", { value: sp }, sp === "0" ? "real time" : `${sp / 1000} s per arrow`));
    }
    els.speed.value = sp;
  }
  els.speed.addEventListener("change", () => {
    const u = new URL(location.href);
    u.searchParams.set("speed", els.speed.value);
    history.replaceState(null, "", u);
  });
  els.closeDetails.addEventListener("click", closeDetails);
  // Present: the diagram alone on the screen (full screen when allowed);
  // Escape or the button again leaves.
  function togglePresent() {
    const on = document.body.classList.toggle("present");
    els.present.setAttribute("aria-pressed", String(on));
    if (on && document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {});
    if (!on && document.fullscreenElement) document.exitFullscreen().catch(() => {});
    schedule();
  }
  els.present.addEventListener("click", togglePresent);
  // In full screen the browser takes Escape to leave it, and the page never
  // sees the key: leaving full screen leaves Present.
  document.addEventListener("fullscreenchange", () => {
    if (!document.fullscreenElement && document.body.classList.contains("present")) togglePresent();
  });
  // ?run=NAME presses the page's own Run button for that scenario (links
  // from a training handout; the in-browser test).
  loadSessions(sessionFromPath()).then(connect).then(loadScenarios).then(() => {
    const run = params.get("run");
    if (!run) return;
    els.scenario.value = run;
    if (els.scenario.value !== run) { status(`No scenario ${run}.`); return; }
    els.run.click();
  });
})();
