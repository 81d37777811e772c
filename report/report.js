// promptlens report: draws the embedded data (src/report/report_data.hpp, report/FORMAT.md) as
// linked scatter panels with hover, search, box/lasso selection, CSV/JSON export and metric tables.
//
// How it stays smooth at 16 panels x 25,000 points with plain Canvas2D:
//  * each panel has a base canvas, filled by writing RGBA bytes into one ImageData and calling
//    putImageData (no per-point canvas calls); it is redrawn only when the colouring, the search or
//    the selection changes;
//  * a second, transparent overlay canvas per panel carries what moves with the mouse (the hovered
//    row, its neighbours, the selection box or lasso); only the overlays are redrawn on hover;
//  * hover hit-testing uses a uniform grid of 10 px cells per panel (a counting sort of the rows by
//    cell), so a query looks at the 3 x 3 cells around the cursor instead of every point.
// Untrusted strings (texts, labels, ids, titles) only ever reach the page through textContent.
'use strict';
(function () {
  const t0 = performance.now();
  const PAD = 6;        // css px between the plot frame and the outermost point
  const CELL = 10;      // css px: hit-test grid cell
  const HIT_RADIUS = 7; // css px: the farthest a point may be from the cursor to be hovered
  const GREY = [200, 200, 200];
  const TOOLTIP_TEXT_CHARS = 500;
  const NEIGHBOUR_TEXT_CHARS = 90;

  const D = JSON.parse(document.getElementById('promptlens-data').textContent);
  const N = D.n;

  // ---- decoding --------------------------------------------------------------------------------
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  function bytesOf(b64) {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function typed(obj) {  // {"t": "u8"|"u16"|"u32", "b": base64}, little-endian
    if (!obj) return null;
    const bytes = bytesOf(obj.b);
    const width = { u8: 1, u16: 2, u32: 4 }[obj.t];
    if (width === 1) return bytes;
    const n = bytes.length / width;
    if (littleEndian) return width === 2 ? new Uint16Array(bytes.buffer) : new Uint32Array(bytes.buffer);
    const view = new DataView(bytes.buffer);
    const out = width === 2 ? new Uint16Array(n) : new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = width === 2 ? view.getUint16(2 * i, true) : view.getUint32(4 * i, true);
    return out;
  }
  function rgb(hex) { return [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)); }

  const labels = typed(D.labels);
  const labelRgb = D.label_colours.map(rgb);
  const paletteRgb = D.palette.map(rgb);
  const WON_RGB = [paletteRgb[2], paletteRgb[3]];  // won: bluish green, lost: vermillion
  const texts = D.texts;
  const ids = D.ids;
  const sources = D.sources;
  const neighborSets = D.neighbor_sets.map((s) => ({ space: s.space, k: s.k, ids: typed(s.ids) }));
  const rowId = (i) => (ids ? ids[i] : String(i));

  const panels = D.panels.map((p, index) => {
    const q = typed(p.xy);  // interleaved x, y steps
    const steps = p.steps;
    return {
      index, meta: p, q, steps,
      clusters: typed(p.clusters), won: typed(p.won),
      nset: p.neighbors >= 0 ? neighborSets[p.neighbors] : null,
      worldX: (i) => p.x_range[0] + (q[2 * i] / steps) * (p.x_range[1] - p.x_range[0]),
      worldY: (i) => p.y_range[0] + (q[2 * i + 1] / steps) * (p.y_range[1] - p.y_range[0]),
    };
  });
  const anyClusters = panels.some((p) => p.clusters);
  const anyWon = panels.some((p) => p.won);

  // Draw order: one seeded shuffle shared by every panel, so no class is always drawn on top.
  const order = new Uint32Array(N);
  for (let i = 0; i < N; i++) order[i] = i;
  let seed = 0x9e3779b9;
  for (let i = N - 1; i > 0; i--) {
    seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
    const j = seed % (i + 1);
    const t = order[i]; order[i] = order[j]; order[j] = t;
  }

  // ---- state -------------------------------------------------------------------------------------
  const state = {
    colourBy: 'label',
    selected: new Uint8Array(N), selectedCount: 0,
    match: null, matchCount: 0, query: '',
    hover: null,        // {row, panel}
    focusPanel: 0,      // the panel whose clusters / flags the legend counts
    drag: null,         // {panel, mode, op, points: [[x, y], ...]}
  };
  const isActive = (i) => (!state.match || state.match[i]) && (state.selectedCount === 0 || state.selected[i]);

  // ---- DOM helpers (textContent only) ------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c != null) e.append(c);
    return e;
  }
  const $ = (id) => document.getElementById(id);
  function clip(s, n) { return s.length > n ? s.slice(0, n) + '\u2026' : s; }

  // ---- header, tables ----------------------------------------------------------------------------
  $('title').textContent = D.title;
  if (D.random_weights) {
    const m = D.model || 'the model';
    $('warning').textContent = (/random/i.test(m) ? m : m + ' with random weights') + ' \u2014 the numbers describe no trained language model';
    $('warning').hidden = false;
  }
  const provLines = (D.model ? ['model: ' + D.model + (D.random_weights ? ' (random weights)' : '')] : []).concat(D.provenance);
  for (const line of provLines) $('provenance-lines').append(el('li', { text: line }));
  if (provLines.length === 0) $('provenance').hidden = true; else $('provenance').open = true;

  if (D.tables.length) $('tables').append(el('h2', { text: 'Metrics' }));
  for (const t of D.tables) {
    const table = el('table', { class: 'metric' }, el('caption', { text: t.title }));
    const head = el('tr');
    for (const c of t.columns) head.append(el('th', { scope: 'col', text: c }));
    table.append(el('thead', {}, head));
    const body = el('tbody');
    for (const r of t.rows) {
      const tr = el('tr');
      r.forEach((cell, k) => tr.append(el(k === 0 ? 'th' : 'td', k === 0 ? { scope: 'row', text: cell } : { text: cell })));
      body.append(tr);
    }
    table.append(body);
    // More than 3 columns (label-token accuracy, the separation table, purity tables of many
    // labels) do not fit a 320 px grid cell: such a table takes a whole row of the grid.
    const wrap = t.columns.length > 3 ? 'table-wrap wide' : 'table-wrap';
    $('tables').append(el('div', { class: wrap }, table, t.note ? el('p', { class: 'table-note', text: t.note }) : null));
  }

  // ---- panels: layout, base layer, hit grid ------------------------------------------------------
  for (const p of panels) {
    p.base = el('canvas', { class: 'base', 'aria-hidden': 'true' });
    p.overlay = el('canvas', {
      class: 'overlay', tabindex: '0', role: 'img', 'data-pad': String(PAD), 'data-panel': p.meta.id,
      'aria-label': p.meta.title + ': scatter plot of ' + N + ' points. Arrow keys step through points, Enter selects, Esc clears.',
    });
    p.card = el('figure', { class: 'panel', id: 'panel-' + p.index, 'data-panel': p.meta.id },
      el('h3', { text: p.meta.title, title: p.meta.title }),
      p.meta.subtitle ? el('p', { class: 'subtitle', text: p.meta.subtitle }) : null,
      el('div', { class: 'plot' }, p.base, p.overlay),
      el('p', { class: 'axes', text: p.meta.x_axis + ' \u2192, ' + p.meta.y_axis + ' \u2191' }),
      p.meta.note ? el('p', { class: 'note', text: p.meta.note }) : null);
    p.card.style.margin = '0';
    $('panels').append(p.card);
  }

  function layout(p) {
    const rect = p.overlay.getBoundingClientRect();
    const w = Math.max(40, rect.width), h = Math.max(40, rect.height);
    const dpr = window.devicePixelRatio || 1;
    p.w = w; p.h = h; p.dpr = dpr;
    p.W = Math.round(w * dpr); p.H = Math.round(h * dpr);
    for (const c of [p.base, p.overlay]) { c.width = p.W; c.height = p.H; }
    // css-pixel positions of every row
    p.px = new Float32Array(N); p.py = new Float32Array(N);
    const sx = w - 2 * PAD, sy = h - 2 * PAD;
    for (let i = 0; i < N; i++) {
      p.px[i] = PAD + (p.q[2 * i] / p.steps) * sx;
      p.py[i] = PAD + (1 - p.q[2 * i + 1] / p.steps) * sy;
    }
    // uniform grid: cellStart[c] .. cellStart[c+1] index cellRows
    p.gw = Math.ceil(w / CELL) + 1; p.gh = Math.ceil(h / CELL) + 1;
    const cells = p.gw * p.gh;
    const start = new Int32Array(cells + 1);
    const cellOf = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      const c = Math.floor(p.py[i] / CELL) * p.gw + Math.floor(p.px[i] / CELL);
      cellOf[i] = c; start[c + 1]++;
    }
    for (let c = 0; c < cells; c++) start[c + 1] += start[c];
    const fill = start.slice(0, cells);
    const rows = new Int32Array(N);
    for (let i = 0; i < N; i++) rows[fill[cellOf[i]]++] = i;
    p.cellStart = start; p.cellRows = rows;
    p.ctx = p.overlay.getContext('2d');
    p.image = p.base.getContext('2d').createImageData(p.W, p.H);
  }

  function rowColour(p, i) {
    if (state.colourBy === 'cluster') return p.clusters ? paletteRgb[p.clusters[i] % paletteRgb.length] : GREY;
    if (state.colourBy === 'won') return p.won ? WON_RGB[p.won[i] ? 0 : 1] : GREY;
    return labelRgb[labels[i]];
  }

  function renderBase(p) {
    const img = p.image, px = img.data, W = p.W, H = p.H;
    px.fill(255);
    const s = Math.max(2, Math.round((N <= 3000 ? 3.2 : 2.2) * p.dpr));
    const half = s / 2;
    let active = 0;
    const plot = (i, c, a) => {
      const x0 = Math.round(p.px[i] * p.dpr - half), y0 = Math.round(p.py[i] * p.dpr - half);
      for (let y = Math.max(0, y0); y < Math.min(H, y0 + s); y++) {
        let k = (y * W + Math.max(0, x0)) * 4;
        for (let x = Math.max(0, x0); x < Math.min(W, x0 + s); x++, k += 4) {
          px[k] += (c[0] - px[k]) * a; px[k + 1] += (c[1] - px[k + 1]) * a; px[k + 2] += (c[2] - px[k + 2]) * a;
        }
      }
    };
    const filtering = state.match || state.selectedCount > 0;
    if (filtering) for (let k = 0; k < N; k++) { const i = order[k]; if (!isActive(i)) plot(i, GREY, 0.45); }
    for (let k = 0; k < N; k++) {
      const i = order[k];
      if (filtering && !isActive(i)) continue;
      plot(i, rowColour(p, i), 0.75); active++;
    }
    p.base.getContext('2d').putImageData(img, 0, 0);
    p.card.dataset.active = String(active);
  }

  function renderAll() {
    const t = performance.now();
    for (const p of panels) renderBase(p);
    drawOverlays();
    window.promptlensReport.lastRenderMs = performance.now() - t;
  }

  function nearest(p, x, y) {
    const cx = Math.floor(x / CELL), cy = Math.floor(y / CELL);
    let best = -1, bestD = HIT_RADIUS * HIT_RADIUS, bestActive = false;
    for (let gy = Math.max(0, cy - 1); gy <= Math.min(p.gh - 1, cy + 1); gy++) {
      for (let gx = Math.max(0, cx - 1); gx <= Math.min(p.gw - 1, cx + 1); gx++) {
        const c = gy * p.gw + gx;
        for (let k = p.cellStart[c]; k < p.cellStart[c + 1]; k++) {
          const i = p.cellRows[k];
          const dx = p.px[i] - x, dy = p.py[i] - y, d = dx * dx + dy * dy;
          const a = isActive(i);
          // an active (coloured) row beats a greyed one; then the nearer, then the lower row
          if (d > HIT_RADIUS * HIT_RADIUS) continue;
          if ((a && !bestActive) || (a === bestActive && (d < bestD || (d === bestD && i < best)))) {
            best = i; bestD = d; bestActive = a;
          }
        }
      }
    }
    return best;
  }

  // ---- overlays: hover ring, neighbours, drag shape ----------------------------------------------
  function neighboursOf(row, p) { return p && p.nset ? Array.from(p.nset.ids.subarray(row * p.nset.k, (row + 1) * p.nset.k)) : []; }

  function drawOverlays() {
    const h = state.hover;
    const hp = h ? panels[h.panel] : null;
    const nn = h ? neighboursOf(h.row, hp) : [];
    for (const p of panels) {
      const ctx = p.ctx;
      ctx.setTransform(p.dpr, 0, 0, p.dpr, 0, 0);
      ctx.clearRect(0, 0, p.w, p.h);
      if (h) {
        const x = p.px[h.row], y = p.py[h.row];
        if (p === hp && nn.length) {
          ctx.strokeStyle = 'rgba(0,0,0,0.35)'; ctx.lineWidth = 1;
          ctx.beginPath();
          for (const j of nn) { ctx.moveTo(x, y); ctx.lineTo(p.px[j], p.py[j]); }
          ctx.stroke();
        }
        ctx.lineWidth = 1.5; ctx.strokeStyle = '#222';
        for (const j of nn) { ctx.beginPath(); ctx.arc(p.px[j], p.py[j], 3.5, 0, 2 * Math.PI); ctx.stroke(); }
        ctx.lineWidth = 3; ctx.strokeStyle = '#fff';
        ctx.beginPath(); ctx.arc(x, y, 6, 0, 2 * Math.PI); ctx.stroke();
        ctx.lineWidth = 2; ctx.strokeStyle = '#000';
        ctx.beginPath(); ctx.arc(x, y, 6, 0, 2 * Math.PI); ctx.stroke();
      }
      if (state.drag && state.drag.panel === p.index && state.drag.points.length > 1) {
        const pts = state.drag.points;
        ctx.lineWidth = 1; ctx.strokeStyle = '#0072b2'; ctx.fillStyle = 'rgba(0,114,178,0.08)';
        ctx.setLineDash([4, 3]);
        ctx.beginPath();
        if (state.drag.mode === 'box') {
          const [a, b] = [pts[0], pts[pts.length - 1]];
          ctx.rect(Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1]));
        } else {
          ctx.moveTo(pts[0][0], pts[0][1]);
          for (const q of pts) ctx.lineTo(q[0], q[1]);
          ctx.closePath();
        }
        ctx.fill(); ctx.stroke(); ctx.setLineDash([]);
      }
    }
  }

  // ---- tooltip -------------------------------------------------------------------------------------
  const tooltip = $('tooltip');
  function describeRow(i, p) {
    const parts = ['label ' + D.label_names[labels[i]]];
    if (p.clusters) parts.push('cluster ' + p.clusters[i]);
    if (p.won) parts.push('label token ' + (p.won[i] ? 'won' : 'lost'));
    return parts.join(' \u00b7 ');
  }
  function showTooltip(row, p, clientX, clientY) {
    const nodes = [el('div', { class: 'tt-head', text: '#' + rowId(row) + ' \u00b7 ' + describeRow(row, p) }),
      el('div', { class: 'tt-panel', text: p.meta.title + ' (' + p.worldX(row).toPrecision(4) + ', ' + p.worldY(row).toPrecision(4) + ')' })];
    if (texts) nodes.push(el('div', { class: 'tt-text', text: clip(texts[row], TOOLTIP_TEXT_CHARS) }));
    if (sources && sources[row]) nodes.push(el('div', { class: 'tt-source', text: 'source: ' + sources[row] }));
    const nn = neighboursOf(row, p);
    if (nn.length) {
      nodes.push(el('div', { class: 'tt-nn-head', text: nn.length + ' nearest in ' + p.nset.space + ':' }));
      const list = el('ol', { class: 'tt-nn' });
      for (const j of nn) {
        list.append(el('li', { text: '#' + rowId(j) + ' (' + D.label_names[labels[j]] + ')' + (texts ? ': ' + clip(texts[j], NEIGHBOUR_TEXT_CHARS) : '') }));
      }
      nodes.push(list);
    }
    tooltip.replaceChildren(...nodes);
    tooltip.hidden = false;
    // Anchored in the quadrant away from the pointer; the CSS caps the box at half the window, so it
    // always fits without being measured (measuring would force a layout of the page on each hover).
    const W = window.innerWidth, H = window.innerHeight, right = clientX > W / 2, below = clientY < H / 2;
    const st = tooltip.style;
    st.left = right ? '' : clientX + 16 + 'px';
    st.right = right ? W - clientX + 16 + 'px' : '';
    st.top = below ? clientY + 16 + 'px' : '';
    st.bottom = below ? '' : H - clientY + 16 + 'px';
  }
  function hideTooltip() { tooltip.hidden = true; }

  function setHover(row, panelIndex, clientX, clientY) {
    const same = state.hover && row >= 0 && state.hover.row === row && state.hover.panel === panelIndex;
    if (row < 0) {
      if (!state.hover) return;
      state.hover = null; hideTooltip(); drawOverlays(); return;
    }
    if (state.focusPanel !== panelIndex) { state.focusPanel = panelIndex; if (state.colourBy !== 'label') renderLegend(); }
    if (!same) { state.hover = { row, panel: panelIndex }; drawOverlays(); }
    showTooltip(row, panels[panelIndex], clientX, clientY);
  }

  // ---- selection -------------------------------------------------------------------------------------
  function applySelection(rows, op) {  // op: 'replace' | 'add' | 'remove'
    if (op === 'replace') state.selected.fill(0);
    for (const i of rows) state.selected[i] = op === 'remove' ? 0 : 1;
    let c = 0;
    for (let i = 0; i < N; i++) c += state.selected[i];
    state.selectedCount = c;
    $('selection-count').textContent = c + ' selected';
    for (const b of ['export-csv', 'export-json', 'clear-selection']) $(b).disabled = c === 0;
    renderAll();
    renderLegend();
  }
  function rowsInBox(p, a, b) {
    const x0 = Math.min(a[0], b[0]), x1 = Math.max(a[0], b[0]), y0 = Math.min(a[1], b[1]), y1 = Math.max(a[1], b[1]);
    const out = [];
    for (let i = 0; i < N; i++) if (p.px[i] >= x0 && p.px[i] <= x1 && p.py[i] >= y0 && p.py[i] <= y1) out.push(i);
    return out;
  }
  function rowsInLasso(p, pts) {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const [x, y] of pts) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    const out = [];
    for (let i = 0; i < N; i++) {
      const x = p.px[i], y = p.py[i];
      if (x < x0 || x > x1 || y < y0 || y > y1) continue;
      let inside = false;  // even-odd ray casting
      for (let a = 0, b = pts.length - 1; a < pts.length; b = a++) {
        const [xa, ya] = pts[a], [xb, yb] = pts[b];
        if ((ya > y) !== (yb > y) && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) inside = !inside;
      }
      if (inside) out.push(i);
    }
    return out;
  }
  const opOf = (e) => (e.altKey ? 'remove' : e.shiftKey ? 'add' : 'replace');

  for (const p of panels) {
    const cv = p.overlay;
    const local = (e) => { const r = cv.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
    let pending = null;
    cv.addEventListener('pointermove', (e) => {
      if (state.drag && state.drag.panel === p.index) {
        const pt = local(e);
        if (state.drag.mode === 'box') state.drag.points[1] = pt; else state.drag.points.push(pt);
        drawOverlays();
        return;
      }
      const t = performance.now();
      const [x, y] = local(e);
      if (pending) return;
      pending = requestAnimationFrame(() => {
        pending = null;
        const work = performance.now();
        setHover(nearest(p, x, y), p.index, e.clientX, e.clientY);
        // event to done (includes waiting for the frame), and the work alone
        window.promptlensReport.lastHoverMs = performance.now() - t;
        window.promptlensReport.lastHoverWorkMs = performance.now() - work;
      });
    });
    cv.addEventListener('pointerleave', () => { if (!state.drag) setHover(-1); });
    cv.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      cv.setPointerCapture(e.pointerId);
      const mode = document.querySelector('input[name=select-mode]:checked').value;
      const pt = local(e);
      state.drag = { panel: p.index, mode, op: opOf(e), points: mode === 'box' ? [pt, pt] : [pt] };
    });
    cv.addEventListener('pointerup', (e) => {
      const drag = state.drag;
      if (!drag || drag.panel !== p.index) return;
      state.drag = null;
      const a = drag.points[0], b = drag.points[drag.points.length - 1];
      let moved = 0;
      for (const q of drag.points) moved = Math.max(moved, Math.abs(q[0] - a[0]) + Math.abs(q[1] - a[1]));
      if (moved < 4) {  // a click: the point under the cursor, or nothing (clears on plain click)
        const row = nearest(p, a[0], a[1]);
        if (row >= 0) applySelection([row], drag.op === 'replace' && state.selected[row] && state.selectedCount === 1 ? 'remove' : drag.op);
        else if (drag.op === 'replace') applySelection([], 'replace');
        else drawOverlays();
        return;
      }
      applySelection(drag.mode === 'box' ? rowsInBox(p, a, b) : rowsInLasso(p, drag.points), drag.op);
    });
    // keyboard: arrows step through the active rows in draw order, Enter toggles the row
    cv.addEventListener('keydown', (e) => {
      const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
      if (step) {
        e.preventDefault();
        let i = state.hover && state.hover.panel === p.index ? state.hover.row : -1;
        for (let tries = 0; tries < N; tries++) {
          i = (i + step + N) % N;
          if (isActive(i)) break;
        }
        const r = cv.getBoundingClientRect();
        setHover(i, p.index, r.left + p.px[i], r.top + p.py[i]);
      } else if (e.key === 'Enter' && state.hover) {
        e.preventDefault();
        applySelection([state.hover.row], state.selected[state.hover.row] ? 'remove' : 'add');
      }
    });
    cv.addEventListener('blur', () => setHover(-1));
  }

  // ---- search ------------------------------------------------------------------------------------------
  let lowerTexts = null;
  function runSearch(q) {
    q = q.trim().toLowerCase();
    state.query = q;
    if (!q) { state.match = null; $('search-count').textContent = ''; renderAll(); renderLegend(); return; }
    if (!lowerTexts) lowerTexts = texts.map((s) => s.toLowerCase());
    const m = new Uint8Array(N);
    let c = 0;
    for (let i = 0; i < N; i++) if (lowerTexts[i].includes(q) || (ids && ids[i].toLowerCase().includes(q))) { m[i] = 1; c++; }
    state.match = m; state.matchCount = c;
    $('search-count').textContent = c + ' of ' + N + ' match';
    renderAll(); renderLegend();
  }
  let searchTimer = null;
  if (!texts) { $('search').disabled = true; $('search').placeholder = 'no texts in this report'; }
  $('search').addEventListener('input', (e) => { clearTimeout(searchTimer); searchTimer = setTimeout(() => runSearch(e.target.value), 120); });

  // ---- legend ------------------------------------------------------------------------------------------
  function legendEntries() {
    const p = panels[state.focusPanel];
    if (state.colourBy === 'cluster' && p.clusters) {
      const n = p.meta.n_clusters, counts = new Array(n).fill(0);
      for (let i = 0; i < N; i++) counts[p.clusters[i]]++;
      return { title: 'Clusters in ' + p.meta.title + ':', items: counts.map((c, k) => ({ name: 'cluster ' + k, colour: D.palette[k % D.palette.length], count: c, rows: (i) => p.clusters[i] === k })) };
    }
    if (state.colourBy === 'won' && p.won) {
      let won = 0;
      for (let i = 0; i < N; i++) won += p.won[i] ? 1 : 0;
      return { title: 'Label token in ' + p.meta.title + ':', items: [
        { name: 'won', colour: D.palette[2], count: won, rows: (i) => p.won[i] === 1 },
        { name: 'lost', colour: D.palette[3], count: N - won, rows: (i) => p.won[i] === 0 }] };
    }
    const counts = new Array(D.label_names.length).fill(0);
    for (let i = 0; i < N; i++) counts[labels[i]]++;
    const note = state.colourBy === 'label' ? 'Labels:' : 'Labels (' + panels[state.focusPanel].meta.title + ' has no ' + state.colourBy + ' data):';
    return { title: note, items: D.label_names.map((name, k) => ({ name, colour: D.label_colours[k], count: counts[k], rows: (i) => labels[i] === k })) };
  }
  function renderLegend() {
    const { title, items } = legendEntries();
    const nodes = [el('span', { class: 'legend-title', text: title })];
    for (const it of items) {
      const sw = el('span', { class: 'swatch' });
      sw.style.background = it.colour;
      const b = el('button', { type: 'button', title: 'Select these rows (Shift: add, Alt: remove)' }, sw, el('span', { text: it.name }), el('span', { class: 'count', text: String(it.count) }));
      b.addEventListener('click', (e) => {
        const rows = [];
        for (let i = 0; i < N; i++) if (it.rows(i)) rows.push(i);
        applySelection(rows, opOf(e));
      });
      nodes.push(b);
    }
    $('legend').replaceChildren(...nodes);
  }

  // ---- export --------------------------------------------------------------------------------------------
  function selectedRows() { const out = []; for (let i = 0; i < N; i++) if (state.selected[i]) out.push(i); return out; }
  function exportRecord(i) {
    const r = { row: i, id: rowId(i), label: D.label_names[labels[i]] };
    if (sources) r.source = sources[i];
    if (texts) r.text = texts[i];
    r.panels = {};
    for (const p of panels) {
      const e = { x: p.worldX(i), y: p.worldY(i) };
      if (p.clusters) e.cluster = p.clusters[i];
      if (p.won) e.label_token_won = p.won[i] === 1;
      r.panels[p.meta.id] = e;
    }
    return r;
  }
  function csvCell(v) {
    let s = String(v);
    if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = "'" + s;  // no spreadsheet formulas
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function download(name, type, content) {
    const url = URL.createObjectURL(new Blob([content], { type }));
    const a = el('a', { href: url, download: name });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }
  $('export-json').addEventListener('click', () => {
    const out = { title: D.title, exported_rows: state.selectedCount, texts_clipped_to_chars: D.max_text_chars, rows: selectedRows().map(exportRecord) };
    download('promptlens-selection.json', 'application/json', JSON.stringify(out, null, 1));
  });
  $('export-csv').addEventListener('click', () => {
    const cols = ['row', 'id', 'label'];
    if (sources) cols.push('source');
    if (texts) cols.push('text');
    const extra = [];
    for (const p of panels) {
      if (p.clusters) extra.push(['cluster:' + p.meta.id, (i) => p.clusters[i]]);
      if (p.won) extra.push(['label_token_won:' + p.meta.id, (i) => p.won[i]]);
    }
    const lines = [cols.concat(extra.map((e) => e[0])).map(csvCell).join(',')];
    for (const i of selectedRows()) {
      const cells = [i, rowId(i), D.label_names[labels[i]]];
      if (sources) cells.push(sources[i]);
      if (texts) cells.push(texts[i]);
      for (const [, f] of extra) cells.push(f(i));
      lines.push(cells.map(csvCell).join(','));
    }
    download('promptlens-selection.csv', 'text/csv', lines.join('\r\n') + '\r\n');
  });
  $('clear-selection').addEventListener('click', () => applySelection([], 'replace'));

  // ---- controls, keyboard, resize -----------------------------------------------------------------------
  const colourSelect = $('colour-by');
  if (!anyClusters) colourSelect.querySelector('option[value=cluster]').disabled = true;
  if (!anyWon) colourSelect.querySelector('option[value=won]').disabled = true;
  colourSelect.addEventListener('change', () => {
    state.colourBy = colourSelect.value;
    if (state.colourBy === 'cluster' && !panels[state.focusPanel].clusters) state.focusPanel = Math.max(0, panels.findIndex((p) => p.clusters));
    if (state.colourBy === 'won' && !panels[state.focusPanel].won) state.focusPanel = Math.max(0, panels.findIndex((p) => p.won));
    renderAll(); renderLegend();
  });
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    if (document.activeElement === $('search') && $('search').value) { $('search').value = ''; runSearch(''); return; }
    if (state.selectedCount) applySelection([], 'replace');
    setHover(-1);
  });
  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { for (const p of panels) layout(p); renderAll(); }, 150);
  });

  // ---- start ----------------------------------------------------------------------------------------------
  window.promptlensReport = {
    ready: false, loadMs: 0, lastRenderMs: 0, lastHoverMs: 0, lastHoverWorkMs: 0,
    selectedRows, state,
  };
  for (const p of panels) layout(p);
  renderAll();
  renderLegend();
  const loadMs = performance.now() - t0;
  window.promptlensReport.loadMs = loadMs;
  const clipped = D.texts_clipped ? '; ' + D.texts_clipped + ' texts cut to ' + D.max_text_chars + ' characters' : '';
  $('status').textContent = N + ' rows, ' + panels.length + ' panels; drawn in ' + Math.round(loadMs) + ' ms' + clipped + '.';
  window.promptlensReport.ready = true;
  document.body.dataset.ready = 'true';
})();
