// Ficus strangler-proxy dashboard. Plain JS, no build step; uPlot is loaded
// from the embedded uPlot.min.js. Talks to the admin API described in
// ../CONTROL_PLANE.md: polls GET /admin/routes every second, mismatches every
// 3 s, status every 2 s (replay log, control store, the binlog follower's
// `cdc` object), autopilot plans every 2 s (timeline, "why it stopped");
// changes go through PUT/POST with the bearer token.
'use strict';
(() => {
  const POLL_MS = 1000;
  const MM_POLL_MS = 3000;
  const STATUS_POLL_MS = 2000;
  const HISTORY_S = 300;
  const FETCH_TIMEOUT_MS = 3000;
  const MODES = ['legacy', 'shadow', 'canary', 'full'];
  const COLORS = { legacy: '#7aa2f7', modern: '#34d399', mismatch: '#f59e0b', grid: '#1e2733', axis: '#8594a6' };

  const state = {
    routes: [],
    lastOkAt: 0,
    downSince: 0,
    status: null,
    token: sessionStorage.getItem('ficus.token') || '',
    cards: new Map(),    // route name -> card object
    history: new Map(),  // route name -> {t, lrps, mrps, lp50, lp99, mp50, mp99}
    mismatches: [],
    selectedSeq: null,
  };

  const $ = (sel, root = document) => root.querySelector(sel);
  const el = (tag, attrs = {}, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c != null) e.append(c);
    return e;
  };
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

  // ---------- formatting ----------
  const fmtRps = (v) => (v == null ? '–' : v < 10 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US'));
  const fmtMs = (v) => (v == null ? '–' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v).toString());
  const fmtPct = (v) => (v == null ? '–' : (v * 100).toFixed(v === 0 ? 0 : v < 0.001 ? 3 : 2) + '%');
  const fmtTime = (ms) => (ms ? new Date(ms).toLocaleTimeString('en-GB', { hour12: false }) : '–');
  const fmtPercent = (p) => (Math.round(p * 100) / 100).toString();
  const num = (v) => (typeof v === 'number' && isFinite(v) ? v : null);

  function errorClass(rate, threshold) {
    if (rate == null) return '';
    const t = threshold || 0.05;
    return rate >= t ? 'v-bad' : rate >= t / 2 ? 'v-warn' : 'v-ok';
  }
  function mismatchClass(rate) {
    if (rate == null) return '';
    return rate === 0 ? 'v-ok' : rate < 0.01 ? 'v-warn' : 'v-bad';
  }

  // ---------- API ----------
  async function api(path, opts = {}) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
    try {
      const res = await fetch(path, { cache: 'no-store', ...opts, signal: ctl.signal });
      let body = null;
      const text = await res.text();
      try { body = text ? JSON.parse(text) : null; } catch { body = { msg: text }; }
      return { status: res.status, ok: res.ok, body };
    } finally {
      clearTimeout(timer);
    }
  }

  async function change(method, path, payload, what) {
    for (let attempt = 0; attempt < 2; attempt++) {
      const token = await ensureToken(attempt ? 'The token was rejected. Enter a valid token.' : '');
      if (!token) { toast('Change cancelled: no token', 'bad'); return null; }
      let res;
      toast(`${what}: applying…`, '');
      try {
        res = await api(path, {
          method,
          headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token },
          body: payload == null ? undefined : JSON.stringify(payload),
        });
      } catch (e) {
        toast(`${what}: admin API unreachable`, 'bad');
        return null;
      }
      if (res.status === 401 || (res.status === 403 && !/disabled/.test((res.body && res.body.msg) || ''))) {
        setToken('');
        continue;
      }
      if (!res.ok) {
        toast(`${what}: ${(res.body && res.body.msg) || 'HTTP ' + res.status}`, 'bad');
        return null;
      }
      toast(`${what}: applied`, 'ok');
      poll();
      return res.body;
    }
    toast(`${what}: token rejected`, 'bad');
    return null;
  }

  // ---------- token ----------
  function setToken(t) {
    state.token = t;
    if (t) sessionStorage.setItem('ficus.token', t); else sessionStorage.removeItem('ficus.token');
    $('#token-state').textContent = t ? 'token set' : 'no token';
  }
  function ensureToken(reason) {
    if (state.token && !reason) return Promise.resolve(state.token);
    return promptToken(reason);
  }
  function promptToken(reason) {
    const dlg = $('#token-dialog');
    $('#token-reason').textContent = reason || '';
    $('#token-input').value = '';
    return new Promise((resolve) => {
      const done = (value) => {
        dlg.removeEventListener('close', onClose);
        resolve(value);
      };
      const onClose = () => {
        if (dlg.returnValue === 'save') {
          setToken($('#token-input').value.trim());
          done(state.token || null);
        } else {
          done(null);
        }
      };
      dlg.returnValue = '';
      dlg.addEventListener('close', onClose);
      dlg.showModal();
      $('#token-input').focus();
    });
  }

  // ---------- toast & banners ----------
  let toastTimer = null;
  function toast(msg, kind) {
    const t = $('#toast');
    t.textContent = msg;
    t.className = 'toast show ' + (kind || '');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.className = 'toast'; }, 4000);
  }

  function renderBanners() {
    const box = $('#banners');
    box.replaceChildren();
    if (state.downSince) {
      box.append(el('div', { class: 'banner banner-warn', 'data-testid': 'offline-banner' },
        el('span', { text: '⚠' }),
        el('span', { class: 'grow', text: `Admin API unreachable since ${fmtTime(state.downSince)} — ` +
          (state.lastOkAt ? `showing the last state from ${fmtTime(state.lastOkAt)}; ` : '') + 'retrying every second.' })));
    }
    for (const r of state.routes) {
      const fb = r.fallback || {};
      if (!fb.tripped) continue;
      box.append(el('div', { class: 'banner banner-bad', 'data-testid': 'fallback-banner' },
        el('strong', { text: `${r.name} fell back to legacy` }),
        el('span', { class: 'grow', text: `at ${fmtTime(fb.since)} — ${fb.reason || 'modern error rate over threshold'}. Modern stays off until re-enabled.` }),
        el('button', { class: 'btn btn-danger', type: 'button', text: 'Re-enable modern',
          onclick: () => change('POST', `/admin/routes/${encodeURIComponent(r.name)}/reset-fallback`, null, `${r.name}: reset fallback`) })));
    }
    const cs = state.status && state.status.control;
    if (cs && cs.store === 'etcd' && cs.connected === false) {
      box.append(el('div', { class: 'banner banner-warn', 'data-testid': 'control-store-banner' },
        el('strong', { text: 'Control store (etcd) unreachable' }),
        el('span', { class: 'grow', text: `since ${cs.down_since ? fmtTime(cs.down_since) : '?'} — replica ${cs.replica} keeps serving the last known state (revision ${cs.revision}); changes are refused until etcd is back.` })));
    }
    const fleet = state.routes.length && state.routes[0].fleet && state.routes[0].fleet.totals;
    if (fleet && cs) {
      box.append(el('div', { class: 'banner', 'data-testid': 'fleet-banner' },
        el('span', { class: 'grow', text: `Fleet: ${fleet.replicas} replicas live (this one: ${cs.replica}); ` +
          state.routes.map((r) => r.fleet ? `${r.name} ${(num(r.fleet.totals.legacy_rps + r.fleet.totals.modern_rps) || 0).toFixed(1)} req/s, backlog ${r.fleet.totals.backlog_to_legacy + r.fleet.totals.backlog_to_modern}` : '').filter(Boolean).join(' · ') })));
      // Per-replica rows (each replica's last published report, ~1 s old),
      // then per route the fleet's totals: sums, and p50/p99 of the merged
      // latency histograms (every replica's answers together).
      const ms = (v) => (v === null || v === undefined ? '–' : `${num(v).toFixed(1)} ms`);
      const rows = [];
      for (const r of state.routes) {
        for (const x of (r.fleet && r.fleet.replicas) || []) {
          rows.push(el('tr', { 'data-testid': 'fleet-replica-row', 'data-replica': x.replica },
            el('td', { text: x.replica + (x.replica === cs.replica ? ' (this)' : '') }),
            el('td', { text: r.name }),
            el('td', { text: (num(x.legacy_rps) || 0).toFixed(1) }),
            el('td', { text: (num(x.modern_rps) || 0).toFixed(1) }),
            el('td', { text: `${ms(x.legacy_p50_ms)} / ${ms(x.legacy_p99_ms)}` }),
            el('td', { text: `${ms(x.modern_p50_ms)} / ${ms(x.modern_p99_ms)}` }),
            el('td', { text: String(x.compared) }),
            el('td', { text: String(x.mismatched) }),
            el('td', { text: `${x.backlog_to_legacy} / ${x.backlog_to_modern}` })));
        }
        const t = r.fleet && r.fleet.totals;
        if (t && (r.fleet.replicas || []).length) {
          rows.push(el('tr', { class: 'fleet-total', 'data-testid': 'fleet-total-row', 'data-route': r.name },
            el('td', { text: `fleet (${t.replicas})` }),
            el('td', { text: r.name }),
            el('td', { text: (num(t.legacy_rps) || 0).toFixed(1) }),
            el('td', { text: (num(t.modern_rps) || 0).toFixed(1) }),
            el('td', { 'data-testid': 'fleet-legacy-latency', text: `${ms(t.legacy_p50_ms)} / ${ms(t.legacy_p99_ms)}` }),
            el('td', { 'data-testid': 'fleet-modern-latency', text: `${ms(t.modern_p50_ms)} / ${ms(t.modern_p99_ms)}` }),
            el('td', { text: String(t.compared) }),
            el('td', { text: String(t.mismatched) }),
            el('td', { text: `${t.backlog_to_legacy} / ${t.backlog_to_modern}` })));
        }
      }
      if (rows.length) {
        box.append(el('table', { class: 'kpi-table', 'data-testid': 'fleet-replicas' },
          el('thead', {}, el('tr', {}, ...['replica', 'route', 'legacy req/s', 'modern req/s',
            'legacy p50 / p99', 'modern p50 / p99', 'compared', 'mismatched',
            'backlog to legacy / modern'].map((h) => el('th', { text: h })))),
          el('tbody', {}, ...rows)));
      }
    }
    const cdc = state.status && state.status.cdc;
    if (cdc && (cdc.state === 'lagging' || cdc.state === 'unreachable')) {
      box.append(el('div', { class: 'banner banner-warn', 'data-testid': 'cdc-banner' },
        el('strong', { text: cdc.state === 'lagging' ? 'Binlog follower lagging' : 'Binlog follower unreachable' }),
        el('span', { class: 'grow', text: `${cdc.warning || ''} — writes that bypass the proxy (other endpoints, jobs, SQL) reach the writer late` +
          (cdc.state === 'unreachable' && cdc.last_ok ? `; last seen ${fmtTime(cdc.last_ok)}` : '') + '.' })));
    }
    const rp = state.status && state.status.replay;
    if (rp && rp.full) {
      box.append(el('div', { class: 'banner banner-bad', 'data-testid': 'replay-full-banner' },
        el('strong', { text: 'Replay log full' }),
        el('span', { class: 'grow', text: `${rp.backlog} writes waiting, ${(rp.bytes / 1048576).toFixed(1)} of ${(rp.max_bytes / 1048576).toFixed(0)} MiB used: new failed mirror writes are being refused.` })));
    }
  }

  function renderSummary() {
    const rs = state.routes;
    const sum = (f) => rs.reduce((a, r) => a + (num(f(r)) || 0), 0);
    const onModern = rs.filter((r) => r.mode === 'canary' || r.mode === 'full').length;
    const tripped = rs.filter((r) => r.fallback && r.fallback.tripped).length;
    const mmCount = sum((r) => r.mismatch && r.mismatch.count);
    const compared = sum((r) => r.mismatch && r.mismatch.compared);
    const tiles = [
      ['routes', `${rs.length}`, ''],
      ['on modern', `${onModern}`, onModern ? 'c-modern' : ''],
      ['legacy req/s', fmtRps(sum((r) => r.rates && r.rates.legacy && r.rates.legacy.rps)), 'c-legacy'],
      ['modern req/s', fmtRps(sum((r) => r.rates && r.rates.modern && r.rates.modern.rps)), 'c-modern'],
      ['mismatches', `${mmCount}`, mismatchClass(compared ? mmCount / compared : 0)],
      ['replay backlog', `${sum((r) => r.backlog)}`, sum((r) => r.backlog) ? 'v-warn' : 'v-ok'],
      ['replay log', replayLog(), 'value-sm ' + (state.status && state.status.replay && state.status.replay.full ? 'v-bad' : '')],
      ...followerTile(),
      ['fallbacks', `${tripped}`, tripped ? 'v-bad' : 'v-ok'],
    ];
    $('#summary').replaceChildren(...tiles.map(([label, value, cls]) =>
      el('div', { class: 'stat' }, el('div', { class: 'label', text: label }), el('div', { class: 'value ' + cls, text: value }))));
  }

  // ---------- binlog follower (GET /admin/status .cdc) ----------
  const fmtLag = (v) => (v == null ? '–' : v < 10 ? v.toFixed(1) + ' s' : Math.round(v).toLocaleString('en-US') + ' s');
  const CDC_LABEL = { ok: 'ok', lagging: 'lagging', unreachable: 'unreachable', not_configured: 'not configured' };

  function followerTile() {
    const c = state.status && state.status.cdc;
    if (!c || c.state === 'not_configured') return [];
    const cls = c.state === 'ok' ? 'v-ok' : c.state === 'lagging' ? 'v-warn' : 'v-bad';
    return [['follower lag', c.state === 'unreachable' ? 'down' : fmtLag(num(c.lag_seconds)), cls]];
  }

  function renderCdc() {
    const c = state.status && state.status.cdc;
    const box = $('#cdc');
    box.hidden = !c;
    if (!c) { delete box.dataset.state; return; }
    const warn = c.state === 'lagging' || c.state === 'unreachable';
    box.classList.toggle('cdc-warn', warn);
    box.dataset.state = c.state;
    const badge = $('#cdc-state');
    badge.textContent = CDC_LABEL[c.state] || c.state;
    badge.className = 'badge ' + (c.state === 'ok' ? 'badge-ok' : c.state === 'lagging' ? 'badge-warn' : c.state === 'unreachable' ? 'badge-bad' : 'badge-muted');
    const stat = (label, value, cls, testid, title) => el('div', { class: 'stat' + (testid === 'cdc-gtid' ? ' wide' : ''), title: title || '' },
      el('div', { class: 'label', text: label }), el('div', { class: 'value ' + (cls || ''), 'data-testid': testid, text: value }));
    if (c.state === 'not_configured') {
      $('#cdc-body').replaceChildren(el('div', { class: 'muted small', text: 'No follower configured: set cdc.metrics_url in the proxy config to the /metrics of `profile-migrator follow`.' }));
      return;
    }
    const stale = c.state === 'unreachable';
    const lag = num(c.lag_seconds);
    const lagCls = stale ? 'muted' : lag != null && lag > c.lag_warn_s ? 'v-warn' : 'v-ok';
    const bool = (v, yes, no) => (v == null ? '–' : v ? yes : no);
    $('#cdc-body').replaceChildren(
      stat('lag', fmtLag(lag), lagCls, 'cdc-lag', `age of the oldest change read from the binlog and not yet acknowledged by the writer; warning over ${c.lag_warn_s} s` + (stale ? ' (last known value)' : '')),
      stat('lag events', num(c.lag_events) == null ? '–' : String(c.lag_events), stale ? 'muted' : '', 'cdc-lag-events', 'row changes read, not yet acknowledged'),
      stat('events / s', fmtRps(num(c.events_per_s)), '', 'cdc-eps', 'profile row changes applied per second'),
      stat('last GTID', c.last_gtid == null ? '–' : (c.last_gtid || '(none yet)'), 'gtid' + (stale ? ' muted' : ''), 'cdc-gtid', 'last binlog GTID position applied and checkpointed'),
      stat('binlog · writer', `${bool(c.binlog_connected, 'up', 'down')} · ${bool(c.writer_up, 'up', 'down')}`,
        c.binlog_connected === false || c.writer_up === false ? 'v-bad' : '', 'cdc-links', 'the follower\'s binlog connection and the writer, as the follower sees them'),
      stat('scraped', fmtTime(c.last_ok), stale ? 'v-bad' : 'muted', 'cdc-scraped', stale ? `last good scrape; now: ${c.error}` : c.url));
  }

  // ---------- autopilot (GET /admin/autopilot) ----------
  const AP_BADGE = { running: 'badge-ok', paused: 'badge-warn', done: 'badge-ok', aborted: 'badge-muted', 'not started': 'badge-muted' };
  function renderAutopilot() {
    const plans = state.autopilot || [];
    const box = $('#autopilot');
    box.hidden = plans.length === 0;
    const blocks = plans.map((p) => {
      const run = p.run || null;
      const status = p.status || 'not started';
      const steps = (run && run.steps) || [];
      const bar = el('ol', { class: 'ap-steps', 'data-testid': 'ap-steps' }, ...steps.map((label, i) => el('li', {
        class: run && i < run.step ? 'ap-step ap-step-past' : run && i === run.step ? 'ap-step ap-step-now' : 'ap-step',
        text: label,
      })));
      const act = (action, label, cls) => el('button', {
        class: 'btn ' + (cls || 'btn-ghost'), type: 'button', 'data-testid': 'ap-' + action, text: label,
        onclick: () => change('POST', `/admin/autopilot/${encodeURIComponent(p.group)}/${action}`, null, `autopilot ${p.group}: ${action}`).then(pollAutopilot),
      });
      const actions = el('div', { class: 'ap-actions' },
        status === 'running' ? act('pause', 'Pause') : null,
        status === 'paused' ? act('resume', 'Resume', 'btn-primary') : null,
        status === 'running' || status === 'paused' ? act('abort', 'Abort') : null,
        status !== 'running' && status !== 'paused' && p.plan ? act('start', 'Start plan', 'btn-primary') : null);
      const last = run && run.timeline.length ? run.timeline[run.timeline.length - 1] : null;
      const gates = last && last.gates && last.gates.gates && last.gates.gates.length ? last.gates.gates
        : (run && run.timeline.slice().reverse().find((e) => e.gates && e.gates.gates && e.gates.gates.length) || { gates: { gates: [] } }).gates.gates;
      const chips = el('div', { class: 'ap-gates', 'data-testid': 'ap-gates' }, ...gates.map((g) => el('span', {
        class: 'ap-gate ap-gate-' + g.state, title: g.detail, text: `${g.name}: ${g.state}`,
      })));
      const rows = (run ? run.timeline : []).slice().reverse().map((e) => {
        const v = e.gates || {};
        return el('tr', { 'data-kind': e.kind },
          el('td', { text: fmtTime(e.at) + (e.count > 1 ? ` ×${e.count}` : '') }),
          el('td', { class: 'ap-kind ap-kind-' + e.kind, text: e.kind }),
          el('td', { text: e.from === e.to ? e.to : `${e.from} → ${e.to}` }),
          el('td', { class: errorClass(num(v.modern_error_rate)), text: fmtPct(num(v.modern_error_rate)) }),
          el('td', { text: fmtPct(num(v.legacy_error_rate)) }),
          el('td', { class: mismatchClass(num(v.mismatch_rate)), text: fmtPct(num(v.mismatch_rate)) }),
          el('td', { text: `${fmtMs(num(v.modern_p99_ms))} / ${fmtMs(num(v.legacy_p99_ms))}` }),
          el('td', { class: 'ap-reason', text: `${e.reason}${e.actor && e.actor !== 'autopilot' ? ' (' + e.actor + ')' : ''}` }));
      });
      const table = el('table', { class: 'ap-timeline', 'data-testid': 'ap-timeline' },
        el('thead', {}, el('tr', {}, ...['time', 'event', 'step', 'modern err', 'legacy err', 'mismatch', 'p99 modern / legacy ms', 'why'].map((h) => el('th', { text: h })))),
        el('tbody', {}, ...rows));
      return el('div', { class: 'ap-plan ap-' + status.replace(' ', '-'), 'data-testid': 'autopilot-' + p.group, 'data-status': status },
        el('div', { class: 'ap-head' },
          el('strong', { text: `route group ${p.group}` }),
          el('span', { class: 'badge ' + (AP_BADGE[status] || 'badge-muted'), 'data-testid': 'ap-status', text: status }),
          el('span', { class: 'muted small', text: (run ? `at ${run.step_label} · ${run.failures} failure(s) · plan from ${p.source}` : `plan from ${p.source}`)
            + (p.driver && p.driver.leader != null ? (p.driver.leads ? ' · driven by this replica' : ` · driven by replica ${p.driver.leader || '(none yet)'}`) : '') }),
          el('span', { class: 'grow' }), actions),
        bar,
        el('div', { class: 'ap-why' + (status === 'paused' ? ' warn' : ''), 'data-testid': 'ap-why' },
          el('span', { class: 'muted', text: status === 'running' ? 'now: ' : 'why it stopped: ' }), el('span', { text: p.why || '' })),
        chips, table);
    });
    $('#autopilot-body').replaceChildren(...blocks);
  }

  async function pollAutopilot() {
    try {
      const res = await api('/admin/autopilot');
      state.autopilot = res.ok && Array.isArray(res.body) ? res.body : [];
    } catch { /* shown by the connection pill */ }
    renderAutopilot();
  }

  function replayLog() {
    const rp = state.status && state.status.replay;
    if (!rp) return '–';
    if (!rp.enabled) return 'off';
    return `${(rp.bytes / 1048576).toFixed(1)}/${(rp.max_bytes / 1048576).toFixed(0)} MiB`;
  }

  // ---------- charts ----------
  function plotOpts(series, width) {
    const axis = { stroke: COLORS.axis, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.grid, width: 1 }, font: '11px system-ui' };
    return {
      width: Math.max(width, 200), height: 160,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.15)] } },
      axes: [{ ...axis }, { ...axis, size: 50 }],
      series: [{}, ...series],
    };
  }
  function makePlot(container, series) {
    if (typeof uPlot === 'undefined') {
      container.textContent = 'charts unavailable (uPlot not loaded)';
      return null;
    }
    const data = [[], ...series.map(() => [])];
    const u = new uPlot(plotOpts(series, container.clientWidth || 400), data, container);
    new ResizeObserver(() => u.setSize({ width: Math.max(container.clientWidth, 200), height: 160 })).observe(container);
    return u;
  }
  const line = (label, color, dash) => ({ label, stroke: color, width: 2, dash, points: { show: false }, spanGaps: false,
    value: (u, v) => (v == null ? '–' : fmtMs(v)) });

  function historyFor(name) {
    if (!state.history.has(name)) {
      state.history.set(name, { t: [], lrps: [], mrps: [], lmir: [], mmir: [], lp50: [], lp99: [], mp50: [], mp99: [], lerr: [], merr: [], mmr: [], last: null });
    }
    return state.history.get(name);
  }
  function pushHistory(route, now) {
    const h = historyFor(route.name);
    const L = (route && route.rates && route.rates.legacy) || {};
    const M = (route && route.rates && route.rates.modern) || {};
    h.t.push(now / 1000);
    h.lrps.push(num(L.rps)); h.mrps.push(num(M.rps));
    h.lmir.push(num(L.mirrored_rps)); h.mmir.push(num(M.mirrored_rps));
    h.lp50.push(num(L.p50_ms)); h.lp99.push(num(L.p99_ms));
    h.mp50.push(num(M.p50_ms)); h.mp99.push(num(M.p99_ms));
    const pct = (v) => (num(v) == null ? null : v * 100);
    h.lerr.push(pct(L.error_rate)); h.merr.push(pct(M.error_rate));
    // Mismatch rate between two polls (the cumulative rate hides a new burst).
    const mm = route.mismatch || {};
    const prev = h.last;
    let mmr = null;
    if (prev && num(mm.compared) != null && mm.compared > prev.compared) {
      mmr = (100 * (mm.count - prev.count)) / (mm.compared - prev.compared);
    } else if (prev && num(mm.compared) != null) {
      mmr = h.mmr.length ? h.mmr[h.mmr.length - 1] : null;
    }
    h.mmr.push(mmr);
    h.last = { compared: num(mm.compared) || 0, count: num(mm.count) || 0 };
    while (h.t.length && h.t[0] < now / 1000 - HISTORY_S) for (const k of Object.keys(h)) if (k !== 'last') h[k].shift();
  }
  function pushGap(now) {
    for (const [, h] of state.history) {
      h.t.push(now / 1000);
      for (const k of Object.keys(h)) if (k !== 't' && k !== 'last') h[k].push(null);
    }
  }

  // ---------- route cards ----------
  function makeCard(route) {
    const c = { name: route.name, dirty: false };
    c.modeBadge = el('span', { class: 'badge' });
    c.pausedBadge = el('span', { class: 'badge badge-muted', text: 'paused' });
    c.fallbackBadge = el('span', { class: 'badge badge-bad', text: 'fallback' });
    c.modeButtons = MODES.map((m) => el('button', { type: 'button', 'data-mode': m, text: m,
      onclick: () => { if (m !== (c.route.configured_mode || c.route.mode)) setMode(c, m); } }));
    c.range = el('input', { type: 'range', min: '0', max: '100', step: '0.5', 'aria-label': 'canary percent',
      oninput: () => { c.number.value = c.range.value; markDirty(c, true); } });
    c.number = el('input', { type: 'number', min: '0', max: '100', step: '0.01', class: 'percent-input', 'aria-label': 'canary percent value',
      oninput: () => { c.range.value = c.number.value; markDirty(c, true); },
      onkeydown: (e) => { if (e.key === 'Enter') applyPercent(c); } });
    c.apply = el('button', { type: 'button', class: 'btn percent-apply', text: 'Apply', disabled: '', onclick: () => applyPercent(c) });
    c.pause = el('input', { type: 'checkbox', class: 'pause-toggle',
      onchange: () => change('PUT', `/admin/routes/${encodeURIComponent(c.name)}`, { paused: c.pause.checked }, `${c.name}: ${c.pause.checked ? 'pause' : 'resume'}`)
        .then((r) => { if (!r) c.pause.checked = !c.pause.checked; }) });
    const cell = (cls) => el('td', { class: cls });
    c.kpi = {};
    const row = (key, label) => {
      const l = cell('c-legacy'); const m = cell('c-modern');
      c.kpi[key] = [l, m];
      return el('tr', {}, el('td', { text: label }), l, m);
    };
    c.mmValue = el('div', { class: 'value' });
    c.mmSub = el('div', { class: 'muted small' });
    c.backlogValue = el('div', { class: 'value', 'data-testid': 'backlog' });
    c.backlogSub = el('div', { class: 'muted small' });
    c.rpsBox = el('div', { class: 'plot' });
    c.latBox = el('div', { class: 'plot' });
    c.errBox = el('div', { class: 'plot' });
    c.root = el('article', { class: 'route', 'data-route': route.name, 'data-testid': 'route' },
      el('div', { class: 'route-head' },
        el('span', { class: 'route-name', text: route.name }),
        el('span', { class: 'route-match', text: [route.method, route.path].filter(Boolean).join(' ') }),
        c.modeBadge, c.pausedBadge, c.fallbackBadge,
        el('span', { class: 'spacer' }),
        el('div', { class: 'controls' },
          el('div', { class: 'seg', role: 'group', 'aria-label': 'mode' }, ...c.modeButtons),
          el('div', { class: 'percent' }, el('span', { class: 'muted small', text: 'canary' }), c.range, c.number,
            el('span', { class: 'muted', text: '%' }), c.apply),
          el('label', { class: 'toggle' }, c.pause, 'paused'))),
      el('div', { class: 'route-body' },
        el('div', { class: 'kpis' },
          el('table', { class: 'kpi-table' },
            el('thead', {}, el('tr', {}, el('th', { text: '' }), el('th', { class: 'c-legacy', text: 'legacy' }), el('th', { class: 'c-modern', text: 'modern' }))),
            el('tbody', {}, row('rps', 'served/s'), row('mir', 'mirrored/s'), row('p50', 'p50 ms'), row('p99', 'p99 ms'), row('err', 'errors'))),
          el('div', { class: 'kpi-foot' },
            el('div', { class: 'stat' }, el('div', { class: 'label', text: 'mismatch rate' }), c.mmValue, c.mmSub),
            el('div', { class: 'stat' }, el('div', { class: 'label', text: 'replay backlog' }), c.backlogValue, c.backlogSub))),
        el('div', { class: 'chart' }, el('div', { class: 'chart-title', text: 'requests / s served (mirrored dotted)' }), c.rpsBox),
        el('div', { class: 'chart' }, el('div', { class: 'chart-title', text: 'latency ms (p50 solid, p99 dashed)' }), c.latBox),
        el('div', { class: 'chart' }, el('div', { class: 'chart-title', text: 'errors % · mismatch % (dotted)' }), c.errBox)));
    return c;
  }

  function attachPlots(c) {
    if (c.rpsPlot !== undefined) return;
    c.rpsPlot = makePlot(c.rpsBox, [line('legacy', COLORS.legacy), line('modern', COLORS.modern),
      line('legacy mirrored', COLORS.legacy, [2, 3]), line('modern mirrored', COLORS.modern, [2, 3])]);
    c.latPlot = makePlot(c.latBox, [line('legacy p50', COLORS.legacy), line('legacy p99', COLORS.legacy, [5, 4]),
      line('modern p50', COLORS.modern), line('modern p99', COLORS.modern, [5, 4])]);
    c.errPlot = makePlot(c.errBox, [line('legacy err', COLORS.legacy), line('modern err', COLORS.modern),
      line('mismatch', COLORS.mismatch, [2, 3])]);
  }

  function markDirty(c, dirty) {
    c.dirty = dirty;
    c.number.classList.toggle('dirty', dirty);
    if (dirty) c.apply.removeAttribute('disabled'); else c.apply.setAttribute('disabled', '');
  }

  async function applyPercent(c) {
    const v = Number(c.number.value);
    if (!(v >= 0 && v <= 100) || Math.round(v * 100) !== Math.round(v * 100 * 1000) / 1000) {
      toast('Percent must be 0..100 with at most two decimals', 'bad');
      return;
    }
    const r = await change('PUT', `/admin/routes/${encodeURIComponent(c.name)}`, { percent: Math.round(v * 100) / 100 }, `${c.name}: canary ${fmtPercent(v)}%`);
    if (r) { markDirty(c, false); if (r.name) updateCard(c, r); }
  }

  async function setMode(c, mode) {
    const r = await change('PUT', `/admin/routes/${encodeURIComponent(c.name)}`, { mode }, `${c.name}: mode ${mode}`);
    if (r && r.name) updateCard(c, r);
  }

  function updateCard(c, r) {
    c.route = r;
    const mode = r.mode || 'legacy';
    c.modeBadge.className = 'badge mode-' + mode;
    c.modeBadge.textContent = mode + (r.configured_mode && r.configured_mode !== mode ? ` (configured ${r.configured_mode})` : '');
    c.pausedBadge.hidden = !r.paused;
    const tripped = !!(r.fallback && r.fallback.tripped);
    c.fallbackBadge.hidden = !tripped;
    c.root.classList.toggle('tripped', tripped);
    const selected = r.configured_mode || mode;
    for (const b of c.modeButtons) b.classList.toggle('active', b.dataset.mode === selected);
    if (!c.dirty && document.activeElement !== c.number && document.activeElement !== c.range) {
      c.number.value = fmtPercent(num(r.percent) || 0);
      c.range.value = String(num(r.percent) || 0);
    }
    c.pause.checked = !!r.paused;
    const L = (r.rates && r.rates.legacy) || {};
    const M = (r.rates && r.rates.modern) || {};
    const th = r.fallback && r.fallback.error_rate;
    const set = (key, lv, mv, f, cls) => {
      c.kpi[key][0].textContent = f(num(lv)); c.kpi[key][1].textContent = f(num(mv));
      c.kpi[key][0].className = cls ? cls(num(lv)) : 'c-legacy';
      c.kpi[key][1].className = cls ? cls(num(mv)) : 'c-modern';
    };
    set('rps', L.rps, M.rps, fmtRps);
    set('mir', L.mirrored_rps, M.mirrored_rps, fmtRps);
    set('p50', L.p50_ms, M.p50_ms, fmtMs);
    set('p99', L.p99_ms, M.p99_ms, fmtMs);
    set('err', L.error_rate, M.error_rate, fmtPct, (v) => errorClass(v, th));
    const mm = r.mismatch || {};
    c.mmValue.textContent = fmtPct(num(mm.rate));
    c.mmValue.className = 'value ' + mismatchClass(num(mm.rate));
    c.mmSub.textContent = `${num(mm.count) || 0} of ${num(mm.compared) != null ? mm.compared : '–'} compared` +
      (num(mm.skipped) ? ` · ${mm.skipped} skipped` : '');
    c.mmSub.title = 'skipped: answers that may have overtaken a write of the same user on its way to the mirror target (not compared, they would be false mismatches)';
    c.backlogValue.textContent = String(num(r.backlog) || 0);
    c.backlogValue.className = 'value ' + (num(r.backlog) ? 'v-warn' : 'v-ok');
    const bt = r.backlog_to || {};
    c.backlogSub.textContent = `→ legacy ${num(bt.legacy) || 0} · → modern ${num(bt.modern) || 0}`;
    c.backlogSub.title = 'acknowledged writes not yet on that backend (durable in the replay log)';
  }

  function drawCharts() {
    for (const [name, c] of state.cards) {
      const h = state.history.get(name);
      if (!h) continue;
      attachPlots(c);
      if (c.rpsPlot) c.rpsPlot.setData([h.t, h.lrps, h.mrps, h.lmir, h.mmir]);
      if (c.latPlot) c.latPlot.setData([h.t, h.lp50, h.lp99, h.mp50, h.mp99]);
      if (c.errPlot) c.errPlot.setData([h.t, h.lerr, h.merr, h.mmr]);
      // Legends show the newest values unless the cursor is on a chart.
      for (const u of [c.rpsPlot, c.latPlot, c.errPlot]) {
        if (u && !(u.cursor.left >= 0) && h.t.length) u.setLegend({ idx: h.t.length - 1 });
      }
    }
  }

  function renderRoutes() {
    const box = $('#routes');
    $('#routes-empty').hidden = state.routes.length > 0 || !!state.downSince;
    if (!state.routes.length && state.downSince && !state.lastOkAt) {
      $('#routes-empty').hidden = false;
      $('#routes-empty').textContent = 'Admin API unreachable — no route data yet. Retrying…';
    }
    const seen = new Set();
    for (const r of state.routes) {
      seen.add(r.name);
      let c = state.cards.get(r.name);
      if (!c) {
        c = makeCard(r);
        state.cards.set(r.name, c);
        box.append(c.root);
      }
      updateCard(c, r);
    }
    for (const [name, c] of state.cards) {
      if (!seen.has(name)) { c.root.remove(); state.cards.delete(name); }
    }
    const sel = $('#mm-route');
    const have = new Set([...sel.options].map((o) => o.value));
    for (const r of state.routes) if (!have.has(r.name)) sel.append(el('option', { value: r.name, text: r.name }));
  }

  // ---------- mismatches ----------
  const PLAIN_KEY = /^[A-Za-z0-9_:-]+$/;
  const joinKey = (path, key) => (PLAIN_KEY.test(key) && key !== '*' && key !== '**'
    ? (path ? path + '.' + key : key) : path + '[' + JSON.stringify(key) + ']');

  // Pretty JSON as HTML; values at a differing path are wrapped in <mark>.
  function renderJson(v, path, marks, indent) {
    const pad = '  '.repeat(indent);
    let out;
    if (Array.isArray(v)) {
      out = v.length === 0 ? '[]' : '[\n' + v.map((x, i) => pad + '  ' + renderJson(x, `${path}[${i}]`, marks, indent + 1)).join(',\n') + '\n' + pad + ']';
    } else if (v && typeof v === 'object') {
      const keys = Object.keys(v);
      out = keys.length === 0 ? '{}' : '{\n' + keys.map((k) => {
        const p = joinKey(path, k);
        return pad + '  ' + `<span class="c-legacy">${esc(JSON.stringify(k))}</span>: ` + renderJson(v[k], p, marks, indent + 1);
      }).join(',\n') + '\n' + pad + '}';
    } else {
      out = esc(JSON.stringify(v));
    }
    return marks.has(path) && path !== '' ? `<mark class="diff" title="${esc(path)}">${out}</mark>` : out;
  }

  function renderBody(body, marks) {
    try {
      return renderJson(JSON.parse(body), '', marks, 0);
    } catch {
      const text = esc(body || '');
      return marks.has('body') ? `<mark class="diff">${text}</mark>` : text;
    }
  }

  function renderMismatchList() {
    const list = $('#mm-list');
    if (!state.mismatches.length) {
      list.replaceChildren(el('li', { class: 'muted empty', text: state.downSince ? 'Admin API unreachable.'
        : state.mismatchesLocked ? 'Mismatches hold users\' data: set a token (read role) to see them.'
        : 'No mismatches recorded.' }));
      return;
    }
    list.replaceChildren(...state.mismatches.map((m) => el('li', {
      class: 'item' + (m.seq === state.selectedSeq ? ' selected' : ''), 'data-testid': 'mismatch',
      onclick: () => { state.selectedSeq = m.seq; renderMismatchList(); renderMismatchDetail(); },
    },
    el('div', { class: 'mm-meta' }, el('span', { text: `${fmtTime(m.time)} · ${m.route}` }), el('span', { class: 'mono', text: (m.request_id || '').slice(0, 12) })),
    el('div', { class: 'mono small', text: m.user_key ? `user ${m.user_key}` : '' }),
    el('div', {}, ...(m.diffs || []).slice(0, 6).map((d) => el('span', { class: 'chip', text: d.path })),
      (m.diffs || []).length > 6 ? el('span', { class: 'muted small', text: ` +${m.diffs.length - 6}` }) : null))));
    if (state.selectedSeq == null || !state.mismatches.some((m) => m.seq === state.selectedSeq)) {
      state.selectedSeq = state.mismatches[0].seq;
      list.firstChild.classList.add('selected');
    }
    renderMismatchDetail();
  }

  function renderMismatchDetail() {
    const box = $('#mm-detail');
    const m = state.mismatches.find((x) => x.seq === state.selectedSeq);
    if (!m) return;
    const marks = new Set((m.diffs || []).map((d) => d.path));
    const rows = (m.diffs || []).map((d) => `<tr><td>${esc(d.path)}</td><td class="c-legacy">${d.legacy == null ? '<span class="muted">absent</span>' : esc(d.legacy)}</td><td class="c-modern">${d.modern == null ? '<span class="muted">absent</span>' : esc(d.modern)}</td></tr>`).join('');
    const side = (name, s) => `<div class="side"><h4 class="c-${name}">${name} · <span class="${marks.has('status') ? 'v-bad' : ''}">HTTP ${esc(s.status)}</span></h4><pre>${renderBody(s.body, marks)}</pre></div>`;
    box.innerHTML = `<div class="muted small" style="margin-bottom:8px">${esc(m.method || '')} ${esc(m.path || '')} · request <span class="mono">${esc(m.request_id || '–')}</span> · ${new Date(m.time).toISOString()}</div>` +
      `<table class="diff-table"><thead><tr><th>field</th><th>legacy</th><th>modern</th></tr></thead><tbody>${rows}</tbody></table>` +
      `<div class="sides">${side('legacy', m.legacy || {})}${side('modern', m.modern || {})}</div>`;
  }

  // ---------- polling ----------
  function setConn() {
    const c = $('#conn');
    if (state.downSince) { c.className = 'pill pill-bad'; c.textContent = 'API unreachable'; }
    else { c.className = 'pill pill-ok'; c.textContent = 'live'; }
    $('#updated').textContent = state.lastOkAt ? 'updated ' + fmtTime(state.lastOkAt) : '';
  }

  let polling = false;
  async function poll() {
    if (polling) return;
    polling = true;
    const now = Date.now();
    try {
      const res = await api('/admin/routes');
      if (!res.ok || !Array.isArray(res.body)) throw new Error('HTTP ' + res.status);
      state.routes = res.body;
      state.lastOkAt = now;
      state.downSince = 0;
      for (const r of state.routes) pushHistory(r, now);
    } catch (e) {
      if (!state.downSince) state.downSince = now;
      pushGap(now);
    } finally {
      polling = false;
    }
    setConn();
    renderBanners();
    renderSummary();
    renderCdc();
    renderRoutes();
    drawCharts();
  }

  async function pollMismatches() {
    const route = $('#mm-route').value;
    try {
      // Mismatches carry users' profile data: the admin API wants a read token.
      const res = await api('/admin/mismatches?limit=30' + (route ? '&route=' + encodeURIComponent(route) : ''),
        state.token ? { headers: { Authorization: 'Bearer ' + state.token } } : {});
      state.mismatchesLocked = res.status === 401 || res.status === 403;
      if (res.ok && Array.isArray(res.body)) state.mismatches = res.body;
      else if (state.mismatchesLocked) state.mismatches = [];
    } catch { /* shown by the connection pill */ }
    renderMismatchList();
  }

  async function pollStatus() {
    try {
      const res = await api('/admin/status');
      state.status = res.ok ? res.body : null;
    } catch { state.status = null; }
  }

  // ---------- start ----------
  $('#token-button').addEventListener('click', () => promptToken(''));
  $('#token-form').addEventListener('submit', () => { $('#token-dialog').returnValue = 'save'; });
  $('#token-cancel').addEventListener('click', () => $('#token-dialog').close('cancel'));
  $('#mm-route').addEventListener('change', () => { state.selectedSeq = null; pollMismatches(); });
  setToken(state.token);
  poll();
  pollMismatches();
  pollStatus();
  pollAutopilot();
  setInterval(pollAutopilot, STATUS_POLL_MS);
  setInterval(poll, POLL_MS);
  setInterval(pollMismatches, MM_POLL_MS);
  setInterval(pollStatus, STATUS_POLL_MS);
})();
