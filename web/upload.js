// web/upload.js - the upload page (index.html): lists the loaded models (GET /v1/models) per
// task, takes an image from the file picker or a drop, POSTs it as the raw request body to
// /v1/{classify,tag,clouds,segment} and draws the answer: class bars, tag chips, the cloud
// score, the out-of-distribution warning, and for segmentation the mask over the image with an
// opacity slider, a legend and the class areas. Errors are shown with the server's message.
import { api, el, pct, num, TASKS, classBars, oodWarning } from './common.js';

const $ = (id) => document.getElementById(id);
const ui = {
  drop: $('drop'), file: $('file'), fileName: $('file-name'), task: $('task'),
  model: $('model'), modelInfo: $('model-info'), run: $('run'), error: $('error'),
  busy: $('busy'), view: $('view'), preview: $('preview'), mask: $('mask'),
  noPreview: $('no-preview'), opacityBox: $('opacity-box'), opacity: $('opacity'),
  result: $('result'),
};
let models = [];        // the contracts of GET /v1/models
let file = null;        // the chosen image (a File)
let previewUrl = null;  // its object URL
let seq = 0;            // answers of older requests are dropped

function showError(msg) {
  ui.error.textContent = msg;
  ui.error.classList.toggle('d-none', !msg);
}

function modelsOf(task) {
  return models.filter((m) => m.task === TASKS[task].contract);
}

// Fill the model selector with the task's models, the task's default model chosen (the one
// the server marks "default", else the server's choice: no model= parameter).
function fillModels() {
  const list = modelsOf(ui.task.value);
  ui.model.replaceChildren();
  if (list.length === 0) {
    ui.model.append(el('option', { value: '', disabled: true, selected: true }, 'no model loaded for this task'));
    ui.modelInfo.textContent = 'The server has no model of this task (see `eosight models`).';
    ui.run.disabled = true;
    return;
  }
  const flagged = list.find((m) => m.default === true);
  if (!flagged) ui.model.append(el('option', { value: '' }, `default (${list.length === 1 ? list[0].name : "the server's choice"})`));
  for (const m of list) ui.model.append(el('option', { value: m.name, selected: m === flagged }, m.name));
  ui.modelInfo.textContent = `${list.length} model${list.length === 1 ? '' : 's'} loaded for this task.`;
  ui.run.disabled = !file;
}

async function loadModels() {
  try {
    const body = await api('/v1/models');
    models = Array.isArray(body.models) ? body.models : [];
  } catch (e) {
    showError(`Cannot list the models: ${e.message}`);
    models = [];
  }
  // Start on a task that has a model when the first one has none.
  if (modelsOf(ui.task.value).length === 0) {
    const t = Object.keys(TASKS).find((k) => modelsOf(k).length > 0);
    if (t) ui.task.value = t;
  }
  fillModels();
}

function setFile(f) {
  if (!f) return;
  file = f;
  ui.fileName.textContent = `${f.name} (${num(f.size / 1024, 1)} KiB)`;
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = URL.createObjectURL(f);
  ui.view.classList.remove('d-none', 'no-image');
  ui.noPreview.classList.add('d-none');
  ui.preview.src = previewUrl;
  hideMask();
  ui.run.disabled = modelsOf(ui.task.value).length === 0;
  analyse();
}

function hideMask() {
  ui.mask.classList.add('d-none');
  ui.mask.removeAttribute('src');
  ui.opacityBox.classList.add('d-none');
}

function requestUrl(task) {
  const q = new URLSearchParams();
  if (ui.model.value) q.set('model', ui.model.value);
  if (task === 'classify') q.set('top_k', '5');
  if (task === 'segment') q.set('outputs', 'polygons,mask_png');
  const s = q.toString();
  return `/v1/${TASKS[task].route}${s ? `?${s}` : ''}`;
}

async function analyse() {
  if (!file || ui.run.disabled) return;
  const task = ui.task.value;
  const mine = ++seq;
  showError('');
  ui.result.replaceChildren();
  hideMask();
  ui.busy.classList.remove('d-none');
  try {
    const r = await api(requestUrl(task), {
      method: 'POST',
      headers: { 'Content-Type': file.type || 'application/octet-stream', Accept: 'application/json' },
      body: file,
    });
    if (mine !== seq) return;
    render(task, r);
  } catch (e) {
    if (mine !== seq) return;
    showError(e.message);
  } finally {
    if (mine === seq) ui.busy.classList.add('d-none');
  }
}

function render(task, r) {
  if (task === 'segment') renderSegment(r);
  else if (task === 'tag') renderTags(r);
  else renderClasses(task, r);
  ui.result.append(el('p', { class: 'small text-secondary mt-3', dataset: { testid: 'model-used' } },
    `Model ${r.model ?? '?'}`, r.seconds > 0 ? `, ${num(r.seconds * 1000, 0)} ms` : ''));
}

function headline(name, detail) {
  return el('h2', { class: 'h4' },
    el('span', { dataset: { testid: 'top-class' } }, name), ' ',
    detail ? el('small', { class: 'text-secondary' }, detail) : null);
}

function gridNote(r) {
  const g = r.grid;
  if (!g || typeof g !== 'object') return null;
  const shares = (g.class_share ?? []).filter((c) => c.share > 0)
    .sort((a, b) => b.share - a.share).slice(0, 5).map((c) => ({ name: c.name, prob: c.share }));
  return el('div', { class: 'mt-3', dataset: { testid: 'grid' } },
    el('p', { class: 'small mb-1' },
      `A large image: cut into ${g.cells_x} x ${g.cells_y} windows of ${g.window_px} px ` +
      `(${g.valid} valid, ${g.nodata} nodata${g.cloudy ? `, ${g.cloudy} cloudy` : ''}). Share of the windows per class:`),
    classBars(shares, 'grid-shares'));
}

function renderClasses(task, r) {
  const classes = Array.isArray(r.classes) ? r.classes : [];
  if (task === 'clouds') {
    const cp = Number.isFinite(r.cloud_prob) ? r.cloud_prob : null;
    ui.result.append(headline(r.cloudy ? 'Cloudy' : 'Clear', cp !== null ? `cloud score ${pct(cp)}` : null),
      el('div', { class: 'mb-2' },
        el('span', { class: `badge ${r.cloudy ? 'text-bg-secondary' : 'text-bg-info'}`, dataset: { testid: 'cloud-score' } },
          cp !== null ? `cloud probability ${pct(cp)}` : 'no cloud score')));
  } else {
    ui.result.append(headline(r.top ?? 'no class (no valid pixels)', r.top ? pct(r.prob) : null));
  }
  if (r.skipped) ui.result.append(el('div', { class: 'alert alert-secondary py-2 small' }, 'Left out as cloudy.'));
  ui.result.append(oodWarning(r) ?? '', classBars(classes), gridNote(r) ?? '');
}

function renderTags(r) {
  const labels = Array.isArray(r.labels) ? r.labels : [];
  const classes = (Array.isArray(r.classes) ? r.classes : []).slice().sort((a, b) => b.prob - a.prob);
  ui.result.append(headline(labels.length ? labels.join(', ') : 'no tag above its threshold', null));
  const shown = classes.filter((c) => labels.includes(c.name) || c.prob >= 0.05);
  ui.result.append(oodWarning(r) ?? '',
    el('div', { class: 'd-flex flex-wrap gap-2', dataset: { testid: 'tag-chips' } },
      shown.map((c) => el('span', {
        class: `badge rounded-pill ${labels.includes(c.name) ? 'text-bg-primary' : 'text-bg-light border'}`,
        title: Number.isFinite(c.threshold) ? `threshold ${pct(c.threshold)}` : null,
      }, `${c.name} ${pct(c.prob, 0)}`))),
    el('p', { class: 'small text-secondary mt-2' },
      'Filled chips: tags above their threshold; outlined: other tags scoring 5 % or more.'),
    gridNote(r) ?? '');
}

function renderSegment(r) {
  const classes = (Array.isArray(r.classes) ? r.classes : []).slice()
    .sort((a, b) => (b.share ?? 0) - (a.share ?? 0));
  const top = classes.find((c) => (c.pixels ?? 0) > 0);
  ui.result.append(headline(top ? top.name : 'no valid pixels', top ? `${pct(top.share)} of the image` : null));
  if (r.mask_png) {
    ui.mask.src = r.mask_png;
    ui.mask.style.opacity = String(ui.opacity.value / 100);
    ui.mask.classList.remove('d-none');
    ui.opacityBox.classList.remove('d-none');
  }
  const swatch = (c) => el('span', { class: 'swatch', style: { background: c.color ?? '#888' } });
  const m2 = (c) => (Number.isFinite(c.area_m2) ? num(c.area_m2, 0) : '-');
  const km2 = (c) => (Number.isFinite(c.area_m2) ? num(c.area_m2 / 1e6, 4) : '-');
  const legend = el('div', { class: 'd-flex flex-wrap gap-2 mb-2', dataset: { testid: 'legend' } },
    classes.map((c) => el('span', { class: 'legend-item small' }, swatch(c), c.name)));
  const head = el('tr', {}, el('th', {}, 'Class'), el('th', { class: 'text-end' }, 'm²'),
    el('th', { class: 'text-end' }, 'km²'), el('th', { class: 'text-end' }, 'Share'));
  const rows = classes.map((c) => el('tr', {},
    el('td', {}, swatch(c), c.name),
    el('td', { class: 'text-end' }, m2(c)),
    el('td', { class: 'text-end' }, km2(c)),
    el('td', { class: 'text-end' }, pct(c.share))));
  const table = el('table', { class: 'table table-sm small', dataset: { testid: 'area-table' } },
    el('thead', {}, head), el('tbody', {}, rows));
  ui.result.append(legend, table);
  if ((r.nodata_px ?? 0) > 0) {
    ui.result.append(el('p', { class: 'small text-secondary' }, `${num(r.nodata_px, 0)} pixels are nodata.`));
  }
  if (classes.every((c) => !Number.isFinite(c.area_m2))) {
    ui.result.append(el('p', { class: 'small text-secondary' }, 'Areas need a georeferenced image (GeoTIFF).'));
  }
}

// ------------------------------------------------------------------ events

ui.file.addEventListener('change', () => setFile(ui.file.files[0]));
for (const ev of ['dragenter', 'dragover']) {
  ui.drop.addEventListener(ev, (e) => { e.preventDefault(); ui.drop.classList.add('over'); });
}
for (const ev of ['dragleave', 'drop']) {
  ui.drop.addEventListener(ev, (e) => { e.preventDefault(); ui.drop.classList.remove('over'); });
}
ui.drop.addEventListener('drop', (e) => setFile(e.dataTransfer?.files?.[0]));
ui.task.addEventListener('change', () => { fillModels(); analyse(); });
ui.model.addEventListener('change', analyse);
ui.run.addEventListener('click', analyse);
ui.opacity.addEventListener('input', () => { ui.mask.style.opacity = String(ui.opacity.value / 100); });
ui.preview.addEventListener('error', () => {
  if (!ui.preview.getAttribute('src')) return;
  ui.view.classList.add('no-image');
  ui.noPreview.classList.remove('d-none');
});
loadModels();
