// The demo page: builds startSearch options from the form, runs the search in a worker, draws live charts with
// the library's SVG helpers, and shows the result table and the exported model. Plain ES module, no build step.
import { MODEL_NAMES, availableCores, startSearch } from '../dist/index.js';
import { DEFAULT_PALETTE, categoryStrip, escapeXml, linePlot } from '../dist/report/svg.js';
import { loadSubset, splitsFromNpy } from './data.js';

const $ = (id) => document.getElementById(id);
const state = { handle: null, info: null, points: [], outcome: null, options: null, progressEvents: 0, maxTickGapMs: 0, ticksWhileRunning: 0, npy: null, subset: null, drawQueued: false };
// For the end-to-end test (test/browser-demo.test.ts) and the curious: what ran and what came back.
window.fliqsDemo = state;

// ---- the page's heartbeat: a main-thread timer that keeps ticking while the search runs in its worker
let ticks = 0, lastTick = performance.now();
setInterval(() => {
  const t = performance.now();
  if (state.handle) { state.maxTickGapMs = Math.max(state.maxTickGapMs, t - lastTick); state.ticksWhileRunning++; }
  lastTick = t;
  $('heartbeat').textContent = String(++ticks);
}, 50);

// ---- errors: every failure ends as a readable line on the page
function showError(e) {
  const el = $('error');
  el.textContent = e instanceof Error ? e.message : String(e);
  el.hidden = false;
}
const clearError = () => { $('error').hidden = true; };
window.addEventListener('unhandledrejection', (e) => showError(e.reason));
window.addEventListener('error', (e) => showError(e.error ?? e.message));

// ---- threads
const isolated = globalThis.crossOriginIsolated === true;
$('threads').textContent = isolated ? `threads: ${availableCores()} (cross-origin isolated)` : 'one thread';
if (!isolated) {
  $('threads').classList.add('warn');
  $('threads').textContent = 'runs on one thread: this page is not cross-origin isolated (serve it with `npx fliqs serve`, which sends COOP/COEP headers)';
}

// ---- form
for (const m of MODEL_NAMES) $('model').add(new Option(m, m, m === 'cnn', m === 'cnn'));
const dataKind = () => document.querySelector('input[name=data]:checked').value;

async function readNpyFiles(files) {
  const list = [...files];
  if (list.length !== 2) throw new Error(`Drop two .npy files (images and labels); got ${list.length}.`);
  const read = await Promise.all(list.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
  // the labels file is the one whose name says so, else the smaller
  read.sort((a, b) => (/label/i.test(a.name) ? 1 : /label/i.test(b.name) ? -1 : b.bytes.length - a.bytes.length));
  const splits = splitsFromNpy(read[0], read[1]);
  state.npy = splits;
  const t = splits.train;
  $('npy-info').textContent = `${read[0].name}: ${t.shape.join('×')} images, ${t.classes} classes; ${t.labels.length} train / ${splits.validation.labels.length} validation / ${splits.test.labels.length} test`;
  document.querySelector('input[name=data][value=npy]').checked = true;
}
async function takeFiles(files) {
  clearError();
  state.npy = null;
  $('npy-info').textContent = '';
  try { await readNpyFiles(files); } catch (e) { showError(e); }
}
$('npy').addEventListener('change', (e) => takeFiles(e.target.files));
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); takeFiles(e.dataTransfer.files); });

function number(id, { int = false, min = -Infinity, max = Infinity } = {}) {
  const raw = $(id).value, v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || (int && !Number.isInteger(v)) || v < min || v > max) {
    throw new Error(`${id}: ${JSON.stringify(raw)} is not ${int ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return v;
}

/** The search options from the form (everything but the data), as plain data. */
function formOptions(trainCount) {
  const steps = number('steps', { int: true, min: 20, max: 1e5 }), batch = number('batch', { int: true, min: 1, max: 1024 });
  const target = $('target').value.trim();
  return {
    model: $('model').value, width: number('width', { min: 0.01, max: 8 }), space: $('space').value,
    target: /^\d*\.?\d+(e-?\d+)?$/i.test(target) ? Number(target) : target,
    train: { epochs: Math.max(1, Math.ceil((steps * batch) / trainCount)), batchSize: batch, optimizer: 'sgd',
      lr: number('lr', { min: 0, max: 10 }), seed: number('seed', { int: true, min: 0, max: 2 ** 32 - 1 }), maxSteps: steps },
  };
}

async function data() {
  if (dataKind() === 'npy') {
    if (!state.npy) throw new Error('Choose your images.npy and labels.npy first (or pick the Fashion-MNIST subset).');
    return state.npy;
  }
  if (!state.subset) {
    setStatus('loading the Fashion-MNIST subset …');
    state.subset = (await loadSubset()).splits;
  }
  return state.subset;
}

// ---- running
const buttons = (running) => {
  $('start').disabled = running;
  $('pause').disabled = !running;
  $('stop').disabled = !running;
  $('pause').textContent = 'Pause';
  for (const el of $('controls').querySelectorAll('select, input')) el.disabled = running;
};
const setStatus = (html) => { $('status').innerHTML = html; };

$('controls').addEventListener('submit', async (e) => {
  e.preventDefault();
  clearError();
  $('result').hidden = true;
  state.points = []; state.info = null; state.outcome = null; state.progressEvents = 0; state.maxTickGapMs = 0; state.ticksWhileRunning = 0;
  for (const id of ['chart-quality', 'chart-cost', 'chart-entropy', 'chart-strip']) $(id).textContent = 'waiting for the first steps …';
  buttons(true);
  try {
    const d = await data();
    const options = formOptions(d.train.labels.length);
    state.options = options;
    setStatus('starting the worker …');
    const h = startSearch({ ...options, data: d });
    state.handle = h;
    h.on('start', (info) => {
      state.info = info;
      const why = info.singleThreadReason ? ` — one thread: ${escapeXml(info.singleThreadReason)}` : ` on ${info.threads} thread${info.threads > 1 ? 's' : ''}`;
      setStatus(`${info.layers.length} searched layers, ${info.totalSteps} steps (warm-up ${info.warmupSteps})${why}`);
    });
    h.on('progress', (p) => {
      state.progressEvents++;
      state.points.push(...p.steps);
      state.last = p;
      if (!state.drawQueued) { state.drawQueued = true; requestAnimationFrame(draw); }
    });
    const outcome = await h.result;
    state.outcome = outcome;
    draw();
    showResult(outcome);
    state.resultShownAt = performance.now();
  } catch (err) {
    showError(err);
    setStatus('stopped by an error (above).');
    for (const id of ['chart-quality', 'chart-cost', 'chart-entropy', 'chart-strip']) if (!$(id).querySelector('svg')) $(id).textContent = 'no steps';
  } finally {
    state.handle = null;
    buttons(false);
  }
});
$('pause').addEventListener('click', () => {
  const h = state.handle;
  if (!h) return;
  if (h.state === 'paused') { h.resume(); $('pause').textContent = 'Pause'; } else { h.pause(); $('pause').textContent = 'Resume'; }
});
$('stop').addEventListener('click', () => { state.handle?.stop(); $('stop').disabled = true; $('pause').disabled = true; });

// ---- charts
const PHASE = { warmup: 'warm-up (random formats)', calibration: 'warm-up, measuring the noise of Q', search: 'searching', evaluating: 'evaluating on the test split', exporting: 'exporting the model', done: 'done' };

function colorsOf(formats) {
  return Object.fromEntries(formats.map((f, i) => [f, DEFAULT_PALETTE[i % DEFAULT_PALETTE.length]]));
}

/** A layer name short enough for the strip's labels (stages.1.downsample.layers.0 → s1.down.0). */
function shortName(name) {
  const s = name.replace(/\.layers\./g, '.').replace(/\bstages\.(\d+)/g, 's$1').replace('downsample', 'down');
  return s.length > 20 ? `…${s.slice(-19)}` : s;
}

/** At most n evenly spaced items (the last kept). */
function thin(a, n) {
  if (a.length <= n) return a;
  const out = [];
  for (let i = 0; i < n; i++) out.push(a[Math.round((i * (a.length - 1)) / (n - 1))]);
  return out;
}

/** Moving mean over the last k values (nulls skipped), as [x, y] pairs where y exists. */
function smooth(points, get, k) {
  const out = [], win = [];
  for (const p of points) {
    const v = get(p);
    if (v === null || v === undefined) continue;
    win.push(v);
    if (win.length > k) win.shift();
    out.push([p.step, win.reduce((a, b) => a + b, 0) / win.length]);
  }
  return out;
}

function plot(id, series, opts) {
  const s = series.filter((x) => x.pts.length > 0).map((x) => {
    const t = thin(x.pts, 300);
    return { name: x.name, x: t.map((p) => p[0]), y: t.map((p) => p[1]) };
  });
  if (s.length === 0) return;
  $(id).innerHTML = linePlot(s, { width: 560, height: 260, markers: false, xLabel: 'step', ...opts });
}

function draw() {
  state.drawQueued = false;
  const p = state.last, info = state.info, pts = state.points;
  if (!p || !info) return;
  $('bar').style.width = `${(100 * p.step) / p.totalSteps}%`;
  const L = p.last;
  if (L && !state.outcome) {
    const phase = PHASE[p.phase] ?? p.phase;
    setStatus(`<b>${phase}</b> · step ${p.step} / ${p.totalSteps} · ${(p.elapsedMs / 1000).toFixed(1)} s`
      + ` · Q ${L.quality === null ? '–' : L.quality.toFixed(3)} · cost/target ${L.argmaxCostRatio.toFixed(3)} · H ${L.entropyMean.toFixed(3)} nats/layer`
      + `${info.singleThreadReason ? ' · one thread' : ` · ${info.threads} threads`}`);
  }
  plot('chart-quality', [
    { name: 'Q (validation)', pts: smooth(pts, (s) => s.quality, 20) },
    { name: 'train accuracy', pts: smooth(pts, (s) => s.trainAccuracy, 20) },
  ], { yLabel: 'accuracy' });
  const first = pts[0]?.step ?? 0, lastStep = pts.at(-1)?.step ?? 0;
  plot('chart-cost', [
    { name: 'sampled', pts: smooth(pts, (s) => s.costRatio, 20) },
    { name: 'argmax', pts: pts.map((s) => [s.step, s.argmaxCostRatio]) },
    { name: 'target', pts: [[first, 1], [lastStep, 1]] },
  ], { yLabel: 'cost / target' });
  plot('chart-entropy', [{ name: 'H per layer', pts: pts.map((s) => [s.step, s.entropyMean]) }], { yLabel: 'nats' });
  // the argmax of every layer at up to 48 moments of the search (columns), one row per layer
  const cols = thin(pts, 48);
  if (cols.length) {
    const rows = info.layers.map((l, i) => ({ label: shortName(l.name), cells: cols.map((s) => s.argmax[i]) }));
    $('chart-strip').innerHTML = categoryStrip(rows, { width: 560, height: Math.max(150, 40 + 24 * rows.length), categories: info.formats, colors: colorsOf(info.formats) });
  }
}

// ---- result
function showResult(o) {
  const r = o.result, colors = colorsOf(state.info.formats);
  const body = $('table').tBodies[0];
  body.innerHTML = '';
  for (const l of r.layers) {
    const tr = body.insertRow();
    tr.innerHTML = `<td>${escapeXml(l.name)}</td><td class="num">${l.macs.toLocaleString('en')}</td>`
      + `<td><span class="swatch" style="background:${colors[l.format] ?? '#999'}"></span>${escapeXml(l.format)}${l.pinned ? ' (pinned)' : ''}</td>`
      + `<td class="num">${l.probability.toFixed(3)}</td><td class="num">${(l.bops / 1e6).toPrecision(4)}</td>`;
  }
  $('summary').innerHTML = `test accuracy <b>${(100 * r.test.accuracy).toFixed(2)}%</b> on ${r.test.count} images · `
    + `cost <b>${(r.bops / 1e6).toPrecision(4)} MBOPs</b> vs target ${(r.targetBops / 1e6).toPrecision(4)} (ratio <b>${r.costRatio.toFixed(3)}</b>) · `
    + `${r.steps} steps in ${o.wallSeconds.toFixed(1)} s on ${o.threads} thread${o.threads > 1 ? 's' : ''}${o.stopped ? ' · <b>stopped early</b>' : ''}`;
  const notes = o.model ? r.warnings : [...r.warnings, `no model to download: ${o.exportError}`];
  $('warnings').innerHTML = notes.map((w) => `<li>${escapeXml(w)}</li>`).join('');
  const dl = $('download');
  dl.disabled = !o.model;
  dl.title = o.model ? `${o.model.length.toLocaleString('en')} bytes; npx fliqs eval reads it` : `no export: ${o.exportError}`;
  dl.onclick = () => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([o.model], { type: 'application/octet-stream' }));
    a.download = `${state.options.model}-x${state.options.width}-${state.options.space}.fliqs`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  $('result').hidden = false;
  setStatus(`<b>done</b> · ${r.steps} steps in ${o.wallSeconds.toFixed(1)} s · ${state.progressEvents} progress events · longest main-thread stall ${state.maxTickGapMs.toFixed(0)} ms`);
}
