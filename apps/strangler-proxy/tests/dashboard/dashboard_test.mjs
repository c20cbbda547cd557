#!/usr/bin/env node
// Browser test of the strangler-proxy dashboard: headless Debian Chromium
// driven by playwright-core.
//
//   node dashboard_test.mjs --url http://127.0.0.1:9901/ --screenshot out.png \
//        [--token T | --token-file F] [--route NAME] [--percent 25] \
//        [--chromium /usr/bin/chromium] [--timeout-ms 60000] [--cdc ok|lagging|unreachable [--cdc-only]]
//        [--autopilot GROUP [--autopilot-only]]
//        [--fleet ID,ID]
//   node dashboard_test.mjs --stub --screenshot out.png    (page development only)
//
// Checks: the page renders one card per route of GET /admin/routes; moving
// the canary percent of a route through the UI (number field + Apply + token
// prompt) changes the route as seen by GET /admin/routes; a screenshot is
// saved. With --stub it serves the dashboard sources and a fake admin API
// itself (and also checks the "API unreachable" banner); the real test runs
// against the real proxy's admin listener.
// --cdc STATE: the binlog follower panel reaches STATE (as GET /admin/status
// .cdc says) and shows the status's values: ok = lag, events/s and the last
// GTID, no warning; lagging = the warning banner and the lag over the
// threshold marked; unreachable = the warning banner, the last GTID kept.
// --cdc-only skips the route checks (a later phase of the same stack).
// --autopilot GROUP: the autopilot panel shows GROUP's running plan as GET
// /admin/autopilot/GROUP says (status, current step, the "why" line, the
// timeline with its gate values); the page's Pause button (token prompt)
// pauses it, and the page then says why it stopped ("paused by NAME").
// --autopilot-only skips the route checks.
// --fleet ID,ID (control.store etcd): the fleet table has a row for each
// replica id given and a totals row with the merged p50/p99.
// Exit status 0 = all checks passed. Prints "N passed, M failed".
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const a = { chromium: '/usr/bin/chromium', timeoutMs: 60000 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const next = () => argv[++i];
    if (k === '--url') a.url = next();
    else if (k === '--screenshot') a.screenshot = next();
    else if (k === '--token') a.token = next();
    else if (k === '--token-file') a.tokenFile = next();
    else if (k === '--route') a.route = next();
    else if (k === '--percent') a.percent = Number(next());
    else if (k === '--chromium') a.chromium = next();
    else if (k === '--timeout-ms') a.timeoutMs = Number(next());
    else if (k === '--stub') a.stub = true;
    else if (k === '--cdc') a.cdc = next();
    else if (k === '--cdc-only') a.cdcOnly = true;
    else if (k === '--autopilot') a.autopilot = next();
    else if (k === '--autopilot-only') a.autopilotOnly = true;
    else if (k === '--fleet') a.fleet = next().split(',').filter(Boolean);
    else throw new Error(`unknown argument ${k}`);
  }
  if (!a.screenshot) throw new Error('--screenshot PATH is required');
  if (!a.url && !a.stub) throw new Error('--url URL (or --stub) is required');
  return a;
}

// Token file: one token per line, optionally "name:token"; the first one is used.
function readToken(file) {
  const line = fs.readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('#'));
  if (!line) throw new Error(`no token in ${file}`);
  const colon = line.indexOf(':');
  return colon >= 0 ? line.slice(colon + 1) : line;
}

// ---------- stub admin API (development of the page only) ----------
function startStub() {
  const dash = path.resolve(here, '../../dashboard');
  const files = {
    'index.html': [path.join(dash, 'index.html'), 'text/html; charset=utf-8'],
    'app.js': [path.join(dash, 'app.js'), 'text/javascript; charset=utf-8'],
    'style.css': [path.join(dash, 'style.css'), 'text/css; charset=utf-8'],
    'uPlot.min.js': [path.join(dash, 'node_modules/uplot/dist/uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    'uPlot.min.css': [path.join(dash, 'node_modules/uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'],
  };
  const token = 'stub-token';
  const t0 = Date.now();
  const route = (name, method, p, mode, percent) => ({
    name, method, path: p, mode, percent, paused: false,
    fallback: { enabled: true, tripped: false, since: 0, reason: '', window_s: 30, error_rate: 0.05, min_requests: 50 },
    mismatch: { rate: 0, count: 0, compared: 0 }, backlog: 0,
  });
  const routes = [route('profile-update', 'POST', '/api/v1/profile/update', 'shadow', 0),
    route('profile-get', 'GET', '/api/v1/profile/get', 'canary', 10)];
  routes[1].fallback = { ...routes[1].fallback, tripped: true, since: t0 - 42000, reason: 'modern error rate 0.310 > 0.050 over 30 s (93/300 requests)' };
  routes[1].configured_mode = 'canary';
  routes[1].mode = 'legacy';
  const mismatches = [{
    seq: 7, time: t0 - 5000, route: 'profile-update', request_id: 'req-7f3a9c21b0', user_key: '6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11',
    method: 'POST', path: '/api/v1/profile/update',
    legacy: { status: 200, body: '{"ret":200,"data":{"user_id":"6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11","updated_at":"2026-11-21T22:42:32.123456Z","attributes":{"plan":"pro","locale":"zh-CN"}},"msg":""}' },
    modern: { status: 200, body: '{"ret":200,"data":{"user_id":"6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11","updated_at":"2026-11-21T22:42:32.123456Z","attributes":{"plan":"free","locale":"zh-CN","beta":"1"}},"msg":""}' },
    diffs: [{ path: 'data.attributes.plan', legacy: '"pro"', modern: '"free"' }, { path: 'data.attributes.beta', legacy: null, modern: '"1"' }],
  }];
  let apiDown = false;
  const send = (res, status, body, type = 'application/json') => {
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-cache' });
    res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://stub');
    if (url.pathname === '/') { res.writeHead(302, { Location: '/dashboard/' }); return res.end(); }
    if (url.pathname.startsWith('/dashboard/')) {
      const f = files[url.pathname.slice('/dashboard/'.length) || 'index.html'];
      return f ? send(res, 200, fs.readFileSync(f[0]), f[1]) : send(res, 404, { error: 'not found' });
    }
    if (apiDown) { req.socket.destroy(); return undefined; }
    const s = (Date.now() - t0) / 1000;
    if (req.method === 'GET' && url.pathname === '/admin/routes') {
      for (const [i, r] of routes.entries()) {
        const share = r.mode === 'canary' ? r.percent / 100 : r.mode === 'full' ? 1 : r.mode === 'shadow' ? 1 : 0;
        const base = 800 + 120 * Math.sin(s / 7 + i);
        r.rates = {
          legacy: { rps: r.mode === 'full' ? 0 : base, p50_ms: 3.1 + Math.sin(s / 3), p99_ms: 11.8 + 3 * Math.sin(s / 5), error_rate: 0.0004 },
          modern: { rps: base * share, p50_ms: 0.9 + 0.2 * Math.sin(s / 4), p99_ms: 2.7 + Math.sin(s / 6), error_rate: i === 1 ? 0.31 : 0.001 },
        };
        r.mismatch.compared = Math.round(s * 800);
        r.mismatch.count = i === 0 ? 1 : 0;
        r.mismatch.rate = r.mismatch.compared ? r.mismatch.count / r.mismatch.compared : 0;
        r.backlog = i === 1 ? 12 : 0;
      }
      return send(res, 200, routes);
    }
    if (req.method === 'GET' && url.pathname === '/admin/mismatches') {
      const want = url.searchParams.get('route');
      return send(res, 200, mismatches.filter((m) => !want || m.route === want));
    }
    if (req.method === 'GET' && url.pathname === '/admin/status') {
      return send(res, 200, { version: 'stub', started_at: t0, replay: { backlog: 12, bytes: 1 << 20, max_bytes: 256 << 20, full: false },
        cdc: { state: 'lagging', url: 'http://127.0.0.1:9904/metrics', lag_warn_s: 5, lag_seconds: 7.2 + s / 10, lag_events: 40,
          events_per_s: 1830.5, last_gtid: '0-1-48211', binlog_connected: true, writer_up: false, last_scrape: Date.now(), last_ok: Date.now(),
          error: '', warning: `binlog follower lag ${(7.2 + s / 10).toFixed(1)} s is over 5 s (the writer is unreachable)` } });
    }
    const m = url.pathname.match(/^\/admin\/routes\/([^/]+)(\/reset-fallback)?$/);
    if (m) {
      if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { error: 'bad token' });
      const r = routes.find((x) => x.name === decodeURIComponent(m[1]));
      if (!r) return send(res, 404, { error: 'no such route' });
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        if (m[2] && req.method === 'POST') {
          r.fallback = { ...r.fallback, tripped: false, since: 0, reason: '' };
          r.mode = r.configured_mode || r.mode;
          return send(res, 200, r);
        }
        if (req.method !== 'PUT') return send(res, 405, { error: 'method' });
        let p;
        try { p = JSON.parse(body); } catch { return send(res, 400, { error: 'bad JSON' }); }
        if (p.percent != null) {
          if (!(p.percent >= 0 && p.percent <= 100)) return send(res, 400, { error: 'percent: must be 0..100' });
          r.percent = p.percent;
        }
        if (p.mode) r.mode = r.configured_mode = p.mode;
        if (p.paused != null) r.paused = !!p.paused;
        return send(res, 200, r);
      });
      return undefined;
    }
    return send(res, 404, { error: 'not found' });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}/`, token, server,
    setDown: (v) => { apiDown = v; },
  })));
}

// ---------- the test ----------
const results = [];
function check(name, ok, detail = '') {
  results.push({ name, ok });
  console.log(`${ok ? 'ok' : 'FAIL'}: ${name}${detail ? ' — ' + detail : ''}`);
  return ok;
}

async function getRoutes(base) {
  const res = await fetch(new URL('/admin/routes', base));
  if (!res.ok) throw new Error(`GET /admin/routes: HTTP ${res.status}`);
  return res.json();
}

async function getStatus(base) {
  const res = await fetch(new URL('/admin/status', base));
  if (!res.ok) throw new Error(`GET /admin/status: HTTP ${res.status}`);
  return res.json();
}

// The binlog follower panel against GET /admin/status .cdc (see the header).
async function checkCdc(page, base, want) {
  const deadline = Date.now() + 15000;
  let cdc = null;
  let shown = null;
  // Page and status refresh on their own timers: wait until they agree.
  while (Date.now() < deadline) {
    cdc = (await getStatus(base)).cdc;
    shown = await page.evaluate(() => {
      const t = (id) => { const e = document.querySelector(`[data-testid=${id}]`); return e ? e.textContent : null; };
      const panel = document.querySelector('[data-testid=cdc-panel]');
      const banner = document.querySelector('[data-testid=cdc-banner]');
      const lag = document.querySelector('[data-testid=cdc-lag]');
      return { visible: !!panel && !panel.hidden, state: t('cdc-state'), panelState: panel && panel.dataset.state,
        warnFrame: !!panel && panel.classList.contains('cdc-warn'), lag: t('cdc-lag'), lagClass: lag ? lag.className : '',
        eps: t('cdc-eps'), gtid: t('cdc-gtid'), banner: banner ? banner.textContent : null,
        tile: [...document.querySelectorAll('#summary .stat')].map((e) => e.textContent).find((x) => x.startsWith('follower lag')) || null };
    });
    if (cdc && cdc.state === want && shown.visible && shown.panelState === want &&
      shown.gtid === (cdc.last_gtid || '(none yet)')) break;
    await page.waitForTimeout(250);
  }
  const detail = JSON.stringify({ status: cdc, shown });
  check(`binlog follower panel shows state ${want}`, !!cdc && cdc.state === want && shown.visible && shown.panelState === want &&
    shown.state === (want === 'ok' ? 'ok' : want), detail);
  check('binlog follower panel shows the last GTID of /admin/status', !!cdc && /^\d+-\d+-\d+/.test(cdc.last_gtid || '') &&
    shown.gtid === cdc.last_gtid, `${shown.gtid} vs ${cdc && cdc.last_gtid}`);
  const lagShown = Number.parseFloat((shown.lag || '').replace(/,/g, ''));
  if (want === 'ok') {
    check('ok: lag and events/s shown, no warning', Number.isFinite(lagShown) && lagShown <= cdc.lag_warn_s &&
      /^[0-9.,]+$/.test(shown.eps || '') && shown.banner === null && !shown.warnFrame && /v-ok/.test(shown.lagClass) &&
      /^follower lag[0-9.]+ s$/.test(shown.tile || ''), detail);
  } else if (want === 'lagging') {
    check('lagging: warning banner, lag over the threshold marked', Number.isFinite(lagShown) && lagShown > cdc.lag_warn_s &&
      /v-warn/.test(shown.lagClass) && shown.warnFrame && (shown.banner || '').startsWith('Binlog follower lagging') &&
      shown.banner.includes(`is over ${cdc.lag_warn_s} s`), detail);
  } else {
    check('unreachable: warning banner with the reason, last GTID kept', shown.warnFrame &&
      (shown.banner || '').startsWith('Binlog follower unreachable') && shown.banner.includes(cdc.url) &&
      shown.tile === 'follower lagdown', detail);
  }
}

async function getPlan(base, group) {
  const res = await fetch(new URL(`/admin/autopilot/${group}`, base), { cache: 'no-store' });
  if (!res.ok) throw new Error(`GET /admin/autopilot/${group}: HTTP ${res.status}`);
  return res.json();
}

// What the page shows of one plan.
async function shownPlan(page, group) {
  return page.evaluate((g) => {
    const box = document.querySelector(`[data-testid=autopilot-${g}]`);
    const panel = document.querySelector('[data-testid=autopilot-panel]');
    if (!box) return { visible: !!panel && !panel.hidden, found: false };
    const t = (id) => { const e = box.querySelector(`[data-testid=${id}]`); return e ? e.textContent : null; };
    return {
      visible: !!panel && !panel.hidden, found: true, status: t('ap-status'), why: t('ap-why'),
      now: (box.querySelector('.ap-step-now') || {}).textContent || null,
      steps: [...box.querySelectorAll('.ap-step')].map((e) => e.textContent),
      rows: [...box.querySelectorAll('[data-testid=ap-timeline] tbody tr')].map((r) => [...r.cells].map((c) => c.textContent)),
      gates: [...box.querySelectorAll('.ap-gate')].map((e) => e.textContent),
    };
  }, group);
}

// The autopilot panel against GET /admin/autopilot/GROUP (see the header).
async function checkAutopilot(page, base, group, token) {
  let plan = null;
  let shown = null;
  // The why line of a hold counts seconds: compare it with the numbers masked.
  const mask = (t) => String(t).replace(/[0-9.]+/g, '#');
  const agree = (want) => plan && plan.status === want && shown.found && shown.status === want &&
    mask(shown.why) === mask((want === 'running' ? 'now: ' : 'why it stopped: ') + plan.why);
  for (const deadline = Date.now() + 15000; Date.now() < deadline; await page.waitForTimeout(250)) {
    plan = await getPlan(base, group);
    shown = await shownPlan(page, group);
    if (agree('running')) break;
  }
  const detail = () => JSON.stringify({ api: plan && { status: plan.status, why: plan.why, step: plan.run && plan.run.step_label }, shown });
  check(`autopilot panel shows route group ${group} running with the API's why line`, agree('running'), detail());
  check('autopilot panel marks the current step', shown.now === plan.run.step_label &&
    JSON.stringify(shown.steps) === JSON.stringify(plan.run.steps), detail());
  check('autopilot timeline lists the plan\'s decisions with gate values', shown.rows.length >= 2 &&
    shown.rows.some((r) => r[1] === 'start') && shown.rows.some((r) => r[1] === 'hold' && /held/.test(r[7])) &&
    shown.gates.some((g) => g.startsWith('hold: wait')), detail());
  // Pause through the page (token prompt when the tab has none yet).
  await page.click(`[data-testid=autopilot-${group}] [data-testid=ap-pause]`);
  const dialog = page.locator('#token-dialog');
  if (await dialog.waitFor({ state: 'visible', timeout: 3000 }).then(() => true, () => false)) {
    await page.fill('#token-input', token);
    await page.click('#token-save');
  }
  for (const deadline = Date.now() + 15000; Date.now() < deadline; await page.waitForTimeout(250)) {
    plan = await getPlan(base, group);
    shown = await shownPlan(page, group);
    if (agree('paused')) break;
  }
  check('Pause in the page pauses the plan and the page says why it stopped', agree('paused') &&
    /^why it stopped: paused by /.test(shown.why) && shown.rows[0][1] === 'pause', detail());
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let stub = null;
  let url = args.url;
  let token = args.token || (args.tokenFile ? readToken(args.tokenFile) : '');
  if (args.stub) {
    stub = await startStub();
    url = stub.url;
    token = stub.token;
  }
  const deadline = setTimeout(() => { console.error('dashboard test: timed out'); process.exit(2); }, args.timeoutMs);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ficus-chromium-'));
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: args.chromium,
    headless: true,
    viewport: { width: 1440, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const consoleErrors = [];
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    await page.goto(url, { waitUntil: 'load' });
    fs.mkdirSync(path.dirname(path.resolve(args.screenshot)), { recursive: true });

    if (!args.cdcOnly && !args.autopilotOnly) await routeChecks(page, url, args, token, stub);
    if (args.autopilot) {
      await checkAutopilot(page, url, args.autopilot, token);
      await page.screenshot({ path: args.screenshot.replace(/(\.png)?$/, '-autopilot.png'), fullPage: true });
    }
    if (args.cdc) {
      await checkCdc(page, url, args.cdc);
      await page.screenshot({ path: args.screenshot.replace(/(\.png)?$/, `-cdc-${args.cdc}.png`), fullPage: true });
    }
    check('no JavaScript errors on the page', consoleErrors.filter((e) => !/Failed to load resource|ERR_/.test(e)).length === 0,
      consoleErrors.join(' | '));
  } finally {
    await ctx.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
    if (stub) stub.server.close();
    clearTimeout(deadline);
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

// Routes render, the canary percent moves through the UI, screenshot (and
// with the stub: mismatches, the offline banner).
async function routeChecks(page, url, args, token, stub) {
  const apiRoutes = await getRoutes(url);
  check('admin API lists routes', Array.isArray(apiRoutes) && apiRoutes.length > 0, `${apiRoutes.length} routes`);
  await page.waitForSelector('[data-testid=route]', { timeout: 10000 });
  const shown = await page.$$eval('[data-testid=route]', (els) => els.map((e) => e.dataset.route));
  check('page renders every route', apiRoutes.every((r) => shown.includes(r.name)), shown.join(', '));
  const uplots = await page.$$eval('.uplot', (els) => els.length);
  check('charts are drawn (uPlot loaded)', uplots >= 2 * apiRoutes.length, `${uplots} charts`);

  if (args.fleet) {
    const want = args.fleet;
    await page.waitForFunction((ids) => {
      const rows = [...document.querySelectorAll('[data-testid=fleet-replica-row]')].map((r) => r.dataset.replica);
      return ids.every((i) => rows.includes(i));
    }, want, { timeout: 10000 }).catch(() => {});
    const rows = await page.$$eval('[data-testid=fleet-replica-row]', (els) => els.map((e) => e.dataset.replica));
    check('the fleet table has a row for every replica', want.every((i) => rows.includes(i)), rows.join(', '));
    const r0 = args.route || apiRoutes[0].name;
    const total = page.locator(`[data-testid=fleet-total-row][data-route="${r0}"]`);
    const replicasCell = (await total.count()) ? await total.locator('td').first().textContent() : '';
    check('the fleet totals row counts the replicas', replicasCell === `fleet (${want.length})`, replicasCell);
    const lat = (await total.count()) ? await total.locator('[data-testid=fleet-legacy-latency]').textContent() : '';
    check('the fleet totals show merged p50 / p99', /^\d+\.\d ms \/ \d+\.\d ms$/.test(lat), lat);
  }

  const name = args.route || apiRoutes[0].name;
  const before = apiRoutes.find((r) => r.name === name);
  if (!before) throw new Error(`route ${name} not in /admin/routes`);
  const target = Number.isFinite(args.percent) ? args.percent : (before.percent === 25 ? 35 : 25);
  const card = page.locator(`[data-testid=route][data-route="${name}"]`);
  await card.locator('.percent-input').fill(String(target));
  await card.locator('.percent-apply').click();
  const dialog = page.locator('#token-dialog');
  await dialog.waitFor({ state: 'visible', timeout: 5000 });
  check('a change asks for the admin token', true);
  await page.fill('#token-input', token);
  await page.click('#token-save');
  let after = null;
  for (let i = 0; i < 50; i++) {
    after = (await getRoutes(url)).find((r) => r.name === name);
    if (after && Math.abs(after.percent - target) < 0.005) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  check(`moving the canary percent of ${name} through the UI changes the proxy`, after && Math.abs(after.percent - target) < 0.005,
    `${before.percent}% -> ${after && after.percent}% (wanted ${target}%)`);
  await page.waitForFunction(([n, t]) => {
    const inp = document.querySelector(`[data-route="${n}"] .percent-input`);
    return inp && Math.abs(Number(inp.value) - t) < 0.005 && !inp.classList.contains('dirty');
  }, [name, target], { timeout: 5000 });
  check('the page shows the new percent', true);

  const mm = await page.$$eval('[data-testid=mismatch]', (els) => els.length);
  if (stub) check('recent mismatches are listed with highlighted fields', mm > 0 && (await page.$$eval('mark.diff', (e) => e.length)) > 0);
  // Let the charts collect a few seconds of points before the picture.
  await page.waitForTimeout(4000);
  fs.mkdirSync(path.dirname(path.resolve(args.screenshot)), { recursive: true });
  await page.screenshot({ path: args.screenshot, fullPage: true });
  check('screenshot saved', fs.statSync(args.screenshot).size > 10000, args.screenshot);

  if (stub) {
    stub.setDown(true);
    await page.waitForSelector('[data-testid=offline-banner]', { timeout: 8000 });
    check('API loss shows the unreachable banner and keeps the last state',
      (await page.$$eval('[data-testid=route]', (els) => els.length)) === apiRoutes.length);
    await page.screenshot({ path: args.screenshot.replace(/(\.png)?$/, '-offline.png'), fullPage: true });
    stub.setDown(false);
  }
}

main().catch((e) => {
  console.error('dashboard test error:', e && e.stack ? e.stack : e);
  console.log(`${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length + 1} failed`);
  process.exit(1);
});
