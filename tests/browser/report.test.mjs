// Browser tests of the HTML report in real headless Chromium (Debian's /usr/bin/chromium driven by
// npm playwright-core; no browser download). Run by tests/browser/run.sh, which writes the reports:
//   SMALL_REPORT  digits: 2 PCA panels, KMeans clusters, label-token flags, texts, neighbours
//   BIG_REPORT    16 panels x 25,000 synthetic points (the performance smoke check)
//   DEMO_REPORT   the report `promptlens demo` writes (its screenshot is the demo's artifact)
//   ARTIFACT_DIR  where screenshots and the exported files are kept
// Pixel positions are computed here from the embedded data (decoded with Node's Buffer, not with
// report.js) and the panel's canvas rectangle: x = left + pad + q/steps * (width - 2 pad).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const SMALL = process.env.SMALL_REPORT;
const BIG = process.env.BIG_REPORT;
const DEMO = process.env.DEMO_REPORT;
const ART = process.env.ARTIFACT_DIR || '.';
// Measured on the shared 2-vCPU machine, idle: 16 x 25k ready in 1.1 s (script 0.4 s); a hover takes
// 1-12 ms of work in the page (hit test, 16 overlays redrawn, tooltip filled; the first draw on each
// overlay costs most) and 35 ms median, 160 ms max seen from node (CDP round trips and polling
// included). CI runs this beside other tests on 2 vCPUs sharing one FPU, about 3x slower: a CI run
// saw 54 ms of work when the tooltip was still measured (a forced page layout of up to 16 ms idle);
// it is now placed without measuring. The bound on the work says whether hovering is smooth.
// A box selection (4,800 of 25,000 rows) redraws all 16 panels: 52-70 ms of work in the page under
// a full ctest -j2 here (180-230 ms seen from node), bounded at 5x the worst of those.
const BIG_LOAD_BOUND_MS = 10000;
const HOVER_WALL_BOUND_MS = 1500;
const HOVER_WORK_BOUND_MS = 50;
const SELECT_REDRAW_BOUND_MS = 350;

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox'],  // the tests run as root in CI
  });
});
after(async () => { if (browser) await browser.close(); });

function loadData(file) {
  const html = fs.readFileSync(file, 'utf8');
  const m = html.match(/<script type="application\/json" id="promptlens-data">([\s\S]*?)<\/script>/);
  assert.ok(m, 'the page embeds its data');
  const D = JSON.parse(m[1]);
  const typed = (o) => {
    if (!o) return null;
    const b = Buffer.from(o.b, 'base64');
    const w = { u8: 1, u16: 2, u32: 4 }[o.t];
    return Array.from({ length: b.length / w }, (_, i) => (w === 1 ? b[i] : w === 2 ? b.readUInt16LE(2 * i) : b.readUInt32LE(4 * i)));
  };
  D.labelCodes = typed(D.labels);
  for (const p of D.panels) { p.q = typed(p.xy); p.clusterIds = typed(p.clusters); p.wonFlags = typed(p.won); }
  for (const s of D.neighbor_sets) s.idList = typed(s.ids);
  return D;
}

async function open(file, viewport = { width: 1400, height: 1000 }) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, acceptDownloads: true });
  const page = await context.newPage();
  const url = pathToFileURL(path.resolve(file)).href;
  const log = { requests: [], errors: [] };
  page.on('request', (r) => log.requests.push(r.url()));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') log.errors.push(m.type() + ': ' + m.text()); });
  page.on('pageerror', (e) => log.errors.push('pageerror: ' + e.message));
  const t = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => window.promptlensReport && window.promptlensReport.ready, null, { timeout: 20000 });
  const wallMs = Date.now() - t;
  return { context, page, log, url, wallMs };
}

// Only the page itself and blob: downloads it made; no console error, no uncaught exception.
function assertQuiet(log, url) {
  const foreign = log.requests.filter((u) => u !== url && !u.startsWith('blob:'));
  assert.deepEqual(foreign, [], 'no request leaves the page');
  assert.deepEqual(log.errors, [], 'no console error or page error');
}

// Viewport pixel of every row of panel `p` (scrolls the panel into view first).
async function pixels(page, D, p) {
  const rect = await page.evaluate((i) => {
    const cv = document.querySelectorAll('canvas.overlay')[i];
    cv.scrollIntoView({ block: 'center' });
    const r = cv.getBoundingClientRect();
    return { left: r.left, top: r.top, width: r.width, height: r.height, pad: Number(cv.dataset.pad) };
  }, p);
  const P = D.panels[p];
  const xs = new Float64Array(D.n), ys = new Float64Array(D.n);
  for (let i = 0; i < D.n; i++) {
    xs[i] = rect.left + rect.pad + (P.q[2 * i] / P.steps) * (rect.width - 2 * rect.pad);
    ys[i] = rect.top + rect.pad + (1 - P.q[2 * i + 1] / P.steps) * (rect.height - 2 * rect.pad);
  }
  return { xs, ys, rect };
}

// The row farthest from every other row on screen (so the hover cannot pick another), among
// `candidates`.
function isolatedRow(px, candidates) {
  let best = -1, bestD = -1;
  for (const i of candidates) {
    let d = Infinity;
    for (let j = 0; j < px.xs.length && d > bestD; j++) {
      if (j !== i) d = Math.min(d, (px.xs[i] - px.xs[j]) ** 2 + (px.ys[i] - px.ys[j]) ** 2);
    }
    if (d > bestD) { bestD = d; best = i; }
  }
  return best;
}

const tooltipText = (page) => page.evaluate(() => { const t = document.getElementById('tooltip'); return t.hidden ? null : t.textContent; });

test('hovering a known point shows its text, label, cluster and neighbours', { skip: !SMALL }, async () => {
  const D = loadData(SMALL);
  const { context, page, log, url } = await open(SMALL);
  const px = await pixels(page, D, 0);
  const row = isolatedRow(px, Array.from({ length: D.n }, (_, i) => i));
  await page.mouse.move(px.xs[row], px.ys[row]);
  await page.waitForFunction(() => !document.getElementById('tooltip').hidden);
  const text = await tooltipText(page);
  assert.ok(text.includes(D.texts[row]), `tooltip shows row ${row}'s text: ${text}`);
  assert.ok(text.includes('label ' + D.label_names[D.labelCodes[row]]), text);
  assert.ok(text.includes('cluster ' + D.panels[0].clusterIds[row]), text);
  const nn = D.neighbor_sets[0].idList.slice(row * D.neighbor_sets[0].k, (row + 1) * D.neighbor_sets[0].k);
  for (const j of nn) assert.ok(text.includes('#' + D.ids[j] + ' ('), `neighbour ${j} listed: ${text}`);
  // texts hold markup: it must show as text, never become elements
  assert.ok(text.includes('<img src='), 'markup shown literally');
  assert.equal(await page.locator('#tooltip img, #tooltip b').count(), 0);
  await page.screenshot({ path: path.join(ART, 'report-digits-hover.png'), fullPage: true });
  await page.mouse.move(1, 1);
  assertQuiet(log, url);
  await context.close();
});

// How many of 16 spots on the 6 px hover ring around `row` in panel `p` are drawn (alpha > 150) on
// the panel's overlay canvas (read through a 1x1 copy, as colourAt below).
async function ringAround(page, px, p, row) {
  const lx = px.xs[row] - px.rect.left, ly = px.ys[row] - px.rect.top;
  const spots = Array.from({ length: 16 }, (_, k) => [lx + 6 * Math.cos((k * Math.PI) / 8), ly + 6 * Math.sin((k * Math.PI) / 8)]);
  return page.evaluate(([p, spots]) => {
    const cv = document.querySelectorAll('canvas.overlay')[p];
    const one = document.createElement('canvas');
    one.width = one.height = 1;
    const ctx = one.getContext('2d', { willReadFrequently: true });
    let drawn = 0;
    for (const [x, y] of spots) {
      ctx.clearRect(0, 0, 1, 1);
      ctx.drawImage(cv, Math.round(x), Math.round(y), 1, 1, 0, 0, 1, 1);
      if (ctx.getImageData(0, 0, 1, 1).data[3] > 150) drawn++;
    }
    return drawn;
  }, [p, spots]);
}

test('hovering a point in one panel rings the same row in the other panel', { skip: !SMALL }, async () => {
  const D = loadData(SMALL);
  const { context, page, log, url } = await open(SMALL);
  const px1 = await pixels(page, D, 1);  // panel 1's canvas-local positions do not move on scroll
  const px0 = await pixels(page, D, 0);
  const all = Array.from({ length: D.n }, (_, i) => i);
  const row = isolatedRow(px0, all);
  const nset = D.neighbor_sets[0];
  const nn = new Set(nset.idList.slice(row * nset.k, (row + 1) * nset.k));
  // a control: a row far from `row` and its neighbours in panel 1, where no ring may appear
  const far = (i) => [row, ...nn].every((j) => (px1.xs[i] - px1.xs[j]) ** 2 + (px1.ys[i] - px1.ys[j]) ** 2 > 30 ** 2);
  const other = isolatedRow(px1, all.filter(far));
  assert.equal(await ringAround(page, px1, 1, row), 0, 'no ring in panel 1 before the hover');
  await page.mouse.move(px0.xs[row], px0.ys[row]);
  await page.waitForFunction(() => !document.getElementById('tooltip').hidden);
  assert.deepEqual(await page.evaluate(() => window.promptlensReport.state.hover), { row, panel: 0 });
  const ring = await ringAround(page, px1, 1, row);
  assert.ok(ring >= 12, `row ${row} hovered in panel 0 is ringed in panel 1 (${ring} of 16 spots drawn)`);
  assert.equal(await ringAround(page, px1, 1, other), 0, `row ${other} is not ringed in panel 1`);
  await page.mouse.move(1, 1);
  await page.waitForFunction(() => document.getElementById('tooltip').hidden);
  assert.equal(await ringAround(page, px1, 1, row), 0, 'the ring goes when the pointer leaves');
  assertQuiet(log, url);
  await context.close();
});

test('box selection links across panels and exports the selected rows (CSV and JSON)', { skip: !SMALL }, async () => {
  const D = loadData(SMALL);
  const { context, page, log, url } = await open(SMALL);
  const px = await pixels(page, D, 0);
  const r = px.rect;
  const box = [r.left + 0.3 * r.width, r.top + 0.3 * r.height, r.left + 0.6 * r.width, r.top + 0.65 * r.height];
  await page.mouse.move(box[0], box[1]);
  await page.mouse.down();
  await page.mouse.move((box[0] + box[2]) / 2, (box[1] + box[3]) / 2, { steps: 3 });
  await page.mouse.move(box[2], box[3], { steps: 3 });
  await page.mouse.up();
  const selected = await page.evaluate(() => window.promptlensReport.selectedRows());
  const inside = (i, m) => px.xs[i] >= box[0] + m && px.xs[i] <= box[2] - m && px.ys[i] >= box[1] + m && px.ys[i] <= box[3] - m;
  const sel = new Set(selected);
  for (let i = 0; i < D.n; i++) {
    if (inside(i, 0.5)) assert.ok(sel.has(i), `row ${i} inside the box is selected`);
    if (!inside(i, -0.5)) assert.ok(!sel.has(i), `row ${i} outside the box is not selected`);
  }
  assert.ok(selected.length > 20, `a real selection (${selected.length} rows)`);
  assert.equal(await page.textContent('#selection-count'), selected.length + ' selected');
  // every panel draws exactly the selected rows in colour
  for (const id of ['panel-0', 'panel-1']) {
    assert.equal(await page.getAttribute('#' + id, 'data-active'), String(selected.length), id);
  }
  // and in panel 1 an isolated selected row is coloured, an isolated unselected one grey
  const px1 = await pixels(page, D, 1);
  const colourAt = (i) => page.evaluate(([p, x, y]) => {
    const cv = document.querySelectorAll('canvas.base')[p];
    const r = cv.getBoundingClientRect();
    // read through a 1x1 copy, so the page's own canvas is never read back (and Chromium does
    // not warn about repeated getImageData on it)
    const one = document.createElement('canvas');
    one.width = one.height = 1;
    const ctx = one.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(cv, Math.round(x - r.left), Math.round(y - r.top), 1, 1, 0, 0, 1, 1);
    return Array.from(ctx.getImageData(0, 0, 1, 1).data);
  }, [1, px1.xs[i], px1.ys[i]]);
  const spread = (c) => Math.max(c[0], c[1], c[2]) - Math.min(c[0], c[1], c[2]);
  const inSel = isolatedRow(px1, selected);
  const outSel = isolatedRow(px1, Array.from({ length: D.n }, (_, i) => i).filter((i) => !sel.has(i)));
  assert.ok(spread(await colourAt(inSel)) > 40, 'selected row coloured in the other panel');
  assert.ok(spread(await colourAt(outSel)) < 8, 'unselected row grey in the other panel');

  const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const csvPath = path.join(ART, 'report-selection.csv');
  await csvDownload.saveAs(csvPath);
  const csv = fs.readFileSync(csvPath, 'utf8');
  const records = parseCsv(csv);
  assert.deepEqual(records[0].slice(0, 5), ['row', 'id', 'label', 'source', 'text']);
  assert.equal(records.length - 1, selected.length);
  assert.deepEqual(records.slice(1).map((c) => Number(c[0])), selected);
  for (const rec of records.slice(1)) {
    const i = Number(rec[0]);
    assert.equal(rec[1], D.ids[i]);
    assert.equal(rec[2], D.label_names[D.labelCodes[i]]);
    assert.equal(rec[3], D.sources[i]);
    assert.equal(rec[4], D.texts[i]);
  }
  const [jsonDownload] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  const jsonPath = path.join(ART, 'report-selection.json');
  await jsonDownload.saveAs(jsonPath);
  const exported = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  assert.deepEqual(exported.rows.map((e) => e.row), selected);
  const first = exported.rows[0];
  assert.equal(first.text, D.texts[first.row]);
  assert.equal(first.panels[D.panels[0].id].cluster, D.panels[0].clusterIds[first.row]);
  assertQuiet(log, url);
  await context.close();
});

test('lasso, search, colour switch and keyboard', { skip: !SMALL }, async () => {
  const D = loadData(SMALL);
  const { context, page, log, url } = await open(SMALL);
  const px = await pixels(page, D, 1);
  const r = px.rect;
  const poly = [[0.2, 0.2], [0.8, 0.3], [0.5, 0.8]].map(([a, b]) => [r.left + a * r.width, r.top + b * r.height]);
  await page.check('input[name=select-mode][value=lasso]');
  await page.mouse.move(...poly[0]);
  await page.mouse.down();
  for (const q of [poly[1], poly[2], poly[0]]) await page.mouse.move(...q, { steps: 8 });
  await page.mouse.up();
  const selected = await page.evaluate(() => window.promptlensReport.selectedRows());
  assert.ok(selected.length > 20, `lasso selected ${selected.length}`);
  for (const i of selected) assert.ok(insidePolygon(px.xs[i], px.ys[i], poly, 3), `row ${i} inside the lasso`);
  await page.keyboard.press('Escape');
  assert.equal(await page.textContent('#selection-count'), '0 selected');

  // search greys out the rest: "seven" is in the text of exactly the rows labelled 7
  const sevens = D.labelCodes.filter((c) => D.label_names[c] === '7').length;
  await page.fill('#search', 'SEVEN');
  await page.waitForFunction((n) => document.getElementById('search-count').textContent.startsWith(n + ' of'), sevens);
  assert.equal(await page.getAttribute('#panel-1', 'data-active'), String(sevens));
  await page.fill('#search', '');
  await page.waitForFunction((n) => document.getElementById('panel-1').dataset.active === String(n), D.n);

  await page.selectOption('#colour-by', 'cluster');
  assert.ok((await page.textContent('#legend')).includes('cluster 0'));
  await page.selectOption('#colour-by', 'won');
  assert.ok((await page.textContent('#legend')).includes('won'));

  // keyboard: focus a panel, step to a point, Enter selects it
  await page.focus('#panel-0 canvas.overlay');
  await page.keyboard.press('ArrowRight');
  assert.ok((await tooltipText(page)).includes(D.texts[0]));
  await page.keyboard.press('Enter');
  assert.equal(await page.textContent('#selection-count'), '1 selected');
  assert.equal(await page.locator('table.metric').count(), D.tables.length);
  assertQuiet(log, url);
  await context.close();
});

test('16 panels x 25,000 points: load, hover and selection redraw within bounds', { skip: !BIG }, async () => {
  const D = loadData(BIG);
  assert.equal(D.panels.length, 16);
  assert.equal(D.n, 25000);
  const { context, page, log, url, wallMs } = await open(BIG);
  const inPage = await page.evaluate(() => window.promptlensReport.loadMs);
  const times = [], inPageTimes = [];
  for (const p of [0, 7, 15]) {
    const px = await pixels(page, D, p);
    for (const frac of [0.25, 0.5, 0.75]) {
      // the row nearest to a spot inside the panel: hovering it must show that row's text
      const tx = px.rect.left + frac * px.rect.width, ty = px.rect.top + frac * px.rect.height;
      let row = 0, bd = Infinity;
      for (let i = 0; i < D.n; i++) { const d = (px.xs[i] - tx) ** 2 + (px.ys[i] - ty) ** 2; if (d < bd) { bd = d; row = i; } }
      const t = Date.now();
      await page.mouse.move(px.xs[row], px.ys[row]);
      await page.waitForFunction((want) => { const el = document.getElementById('tooltip'); return !el.hidden && el.textContent.includes(want); }, D.texts[row].slice(0, 40));
      times.push(Date.now() - t);
      inPageTimes.push(await page.evaluate(() => [window.promptlensReport.lastHoverMs, window.promptlensReport.lastHoverWorkMs]));
    }
  }
  const hoverMs = Math.max(...inPageTimes.map((t) => t[0])), workMs = Math.max(...inPageTimes.map((t) => t[1]));
  // a box selection in panel 0 redraws all 16 panels with the selected rows in colour
  const px0 = await pixels(page, D, 0);
  const r = px0.rect;
  const selStart = Date.now();
  await page.mouse.move(r.left + 0.3 * r.width, r.top + 0.3 * r.height);
  await page.mouse.down();
  await page.mouse.move(r.left + 0.6 * r.width, r.top + 0.6 * r.height, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => document.getElementById('selection-count').textContent !== '0 selected');
  const selectWallMs = Date.now() - selStart;
  const selectMs = await page.evaluate(() => window.promptlensReport.lastRenderMs);
  const selected = (await page.evaluate(() => window.promptlensReport.selectedRows())).length;
  assert.ok(selected > 1000, `the box selected ${selected} rows`);
  for (let p = 0; p < 16; p++) assert.equal(await page.getAttribute('#panel-' + p, 'data-active'), String(selected), `panel ${p} redrawn`);
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => document.getElementById('selection-count').textContent === '0 selected');
  await page.fill('#search', 'zeta');
  await page.waitForFunction(() => document.getElementById('search-count').textContent !== '');
  const renderMs = await page.evaluate(() => window.promptlensReport.lastRenderMs);
  times.sort((a, b) => a - b);
  const report = `16x25k: page ready ${wallMs} ms (script ${inPage.toFixed(0)} ms), hover median ${times[times.length >> 1]} ms max ${times[times.length - 1]} ms (in page: event to drawn max ${hoverMs.toFixed(1)} ms, of which work ${workMs.toFixed(1)} ms), box selection of ${selected} rows: 16 panels redrawn in ${selectMs.toFixed(0)} ms (${selectWallMs} ms from node), search redraw of 16 panels ${renderMs.toFixed(0)} ms`;
  console.log(report);
  fs.writeFileSync(path.join(ART, 'report-perf.txt'), report + '\n');
  await page.screenshot({ path: path.join(ART, 'report-16x25k.png') });
  assert.ok(wallMs < BIG_LOAD_BOUND_MS, report);
  assert.ok(times[times.length - 1] < HOVER_WALL_BOUND_MS, report);
  assert.ok(workMs < HOVER_WORK_BOUND_MS, report);
  assert.ok(selectMs < SELECT_REDRAW_BOUND_MS, report);
  assertQuiet(log, url);
  await context.close();
});

function insidePolygon(x, y, poly, margin) {
  // inside, or within `margin` px of an edge (the lasso the page saw has the intermediate steps)
  let inside = false;
  for (let a = 0, b = poly.length - 1; a < poly.length; b = a++) {
    const [xa, ya] = poly[a], [xb, yb] = poly[b];
    if ((ya > y) !== (yb > y) && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) inside = !inside;
    const len2 = (xb - xa) ** 2 + (yb - ya) ** 2;
    const t = Math.max(0, Math.min(1, ((x - xa) * (xb - xa) + (y - ya) * (yb - ya)) / len2));
    if ((x - xa - t * (xb - xa)) ** 2 + (y - ya - t * (yb - ya)) ** 2 <= margin * margin) return true;
  }
  return inside;
}

function parseCsv(text) {  // RFC 4180: quoted fields may hold commas, quotes ("") and newlines
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; }
    else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

test('the demo report: every panel, the random-weights banner, a hover shows a review sentence', { skip: !DEMO }, async () => {
  const D = loadData(DEMO);
  assert.equal(D.panels.length, 32, 'prompts x outputs x scalings x methods');
  const { context, page, log, url } = await open(DEMO);
  assert.match(await page.locator('#warning').textContent(), /^random-weight GPT-2 .* the numbers describe no trained language model$/);
  const px = await pixels(page, D, 0);
  const row = isolatedRow(px, Array.from({ length: D.n }, (_, i) => i));
  await page.mouse.move(px.xs[row], px.ys[row]);
  await page.waitForFunction(() => !document.getElementById('tooltip').hidden);
  assert.ok((await tooltipText(page)).includes(D.texts[row].trim().slice(0, 40)));
  // The metric tables (label-token accuracy, separation, 16 purity tables) lie side by side
  // without overlapping, and none is wider than the box it is laid out in.
  const boxes = await page.$$eval('#tables .table-wrap', (ws) => ws.map((w) => {
    const r = w.getBoundingClientRect();
    return { x0: r.left, x1: r.right, y0: r.top, y1: r.bottom, spill: w.querySelector('table').scrollWidth - w.clientWidth };
  }));
  assert.equal(boxes.length, 2 + 16, 'label-token, separation and one table per KMeans panel');
  boxes.forEach((a, i) => {
    assert.ok(a.spill <= 1, `table ${i} is ${a.spill} px wider than its box`);
    boxes.slice(i + 1).forEach((b, k) => {
      const overlap = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0) > 1 && Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0) > 1;
      assert.ok(!overlap, `tables ${i} and ${i + 1 + k} overlap`);
    });
  });
  await page.screenshot({ path: path.join(ART, 'demo-report.png'), fullPage: true });
  assertQuiet(log, url);
  await context.close();
});
