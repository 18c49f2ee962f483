// web/map.js - the map page (map.html): a Leaflet map whose only base layer is the server's
// own XYZ tiles (/v1/tiles/{z}/{x}/{y}.png, rendered from the catalog's rasters), the scene
// footprints of GET /v1/scenes?format=geojson as outlines (the map fits them at load), a click
// that POSTs {lat, lon} to /v1/{classify,tag,clouds}-at and shows the answer in a popup with
// the analysed tile drawn as a rectangle, and per scene a button that segments it
// (POST /v1/scenes/{id}/segment) and lays its class mask over the map as a tile overlay.
import { api, postJSON, el, pct, classBars, oodWarning, keyQuery } from './common.js';

const L = window.L;
const AT_TASKS = {
  classify: { route: '/v1/classify-at', label: 'Classify' },
  tag: { route: '/v1/tag-at', label: 'Tag' },
  clouds: { route: '/v1/clouds-at', label: 'Clouds' },
};
const TILE_OPTS = { maxZoom: 22, maxNativeZoom: 22, minZoom: 0 };

const map = L.map('map', { worldCopyJump: true });
const baseLayer = L.tileLayer(`/v1/tiles/{z}/{x}/{y}.png${keyQuery('?')}`, {
  ...TILE_OPTS,
  attribution: 'imagery: the eosight scene catalog',
}).addTo(map);
L.control.scale({ imperial: false }).addTo(map);

let atTask = 'classify';
let tileRect = null;   // the rectangle of the last analysed tile
let clickSeq = 0;
const overlays = new Map();   // scene id -> its segmentation tile layer

// ------------------------------------------------------------------ the task control

const TaskControl = L.Control.extend({
  onAdd() {
    const box = el('div', { class: 'leaflet-bar task-control' },
      el('label', { for: 'at-task', class: 'small me-1' }, 'Click to'),
      el('select', { id: 'at-task', class: 'form-select form-select-sm', dataset: { testid: 'at-task' },
                     onchange: (e) => { atTask = e.target.value; } },
        Object.entries(AT_TASKS).map(([k, t]) => el('option', { value: k }, t.label))));
    L.DomEvent.disableClickPropagation(box);
    return box;
  },
});
new TaskControl({ position: 'topright' }).addTo(map);

// ------------------------------------------------------------------ click: analyse a tile

function answerNodes(task, a) {
  const r = a.result ?? {};
  const nodes = [];
  if (task === 'tag') {
    const labels = Array.isArray(r.labels) ? r.labels : [];
    nodes.push(el('div', { class: 'fw-semibold', dataset: { testid: 'popup-top-class' } },
      labels.length ? labels.join(', ') : 'no tag above its threshold'));
  } else if (task === 'clouds') {
    nodes.push(el('div', { class: 'fw-semibold', dataset: { testid: 'popup-top-class' } },
      r.cloudy ? 'Cloudy' : 'Clear', ' ',
      el('span', { class: 'text-secondary fw-normal' }, `cloud score ${pct(r.cloud_prob)}`)));
  } else {
    nodes.push(el('div', { class: 'fw-semibold', dataset: { testid: 'popup-top-class' } },
      r.top ?? 'no class (no valid pixels)', ' ',
      r.top ? el('span', { class: 'text-secondary fw-normal' }, pct(r.prob)) : ''));
  }
  const classes = (Array.isArray(r.classes) ? r.classes : []).slice(0, 3);
  if (task !== 'clouds' && classes.length) nodes.push(classBars(classes, 'popup-classes'));
  const w = oodWarning(r);
  if (w) nodes.push(w);
  const s = a.scene ?? {};
  const t = a.tile ?? {};
  nodes.push(el('div', { class: 'small text-secondary mt-1', dataset: { testid: 'popup-scene' } },
    `Scene ${s.id ?? '?'}`, s.time ? `, ${s.time}` : '',
    Number.isFinite(t.w) ? `; tile ${t.w} x ${t.h} px at (${t.x}, ${t.y})` : '',
    r.model ? `; model ${r.model}` : ''));
  return nodes;
}

function drawTile(tile) {
  if (tileRect) tileRect.remove();
  tileRect = null;
  const b = tile?.bounds;
  if (!Array.isArray(b) || b.length !== 4 || !b.every(Number.isFinite)) return;
  const [west, south, east, north] = b;
  tileRect = L.rectangle([[south, west], [north, east]],
    { color: '#ffc107', weight: 2, fill: false, interactive: false }).addTo(map);
}

async function onClick(e) {
  const task = atTask;
  const p = e.latlng.wrap();
  const content = el('div', { class: 'popup-answer', dataset: { testid: 'popup-content' } },
    el('div', { class: 'text-secondary', dataset: { testid: 'popup-busy' } },
      `${AT_TASKS[task].label}: the tile at ${p.lat.toFixed(5)}, ${p.lng.toFixed(5)}...`));
  const popup = L.popup({ maxWidth: 320, minWidth: 220 }).setLatLng(e.latlng).setContent(content).openOn(map);
  const mine = ++clickSeq;
  try {
    const a = await postJSON(AT_TASKS[task].route, { lat: p.lat, lon: p.lng });
    if (mine !== clickSeq) return;
    content.replaceChildren(...answerNodes(task, a));
    drawTile(a.tile);
  } catch (err) {
    if (mine !== clickSeq) return;
    if (tileRect) tileRect.remove();
    tileRect = null;
    content.replaceChildren(err.status === 404
      ? el('div', { dataset: { testid: 'popup-none' } }, el('strong', {}, 'No scene here. '),
        el('span', { class: 'text-secondary small' }, err.message))
      : el('div', { class: 'text-danger', dataset: { testid: 'popup-error' } }, err.message));
  }
  popup.update();
}
map.on('click', onClick);

// ------------------------------------------------------------------ scenes and overlays

function showError(msg) {
  const box = document.getElementById('map-error');
  box.textContent = msg;
  box.classList.toggle('d-none', !msg);
}

async function segmentScene(id, status, opacity, legend, button) {
  button.disabled = true;
  status.textContent = 'Segmenting...';
  try {
    // a whole scene can take minutes: a background job, polled for its progress
    let job = await api(`/v1/scenes/${encodeURIComponent(id)}/segment?async=1`,
      { method: 'POST', headers: { Accept: 'application/json' } });
    while (job.status === 'queued' || job.status === 'running') {
      const f = job.progress?.fraction ?? 0;
      status.textContent = job.status === 'queued' ? 'Waiting for a worker...'
        : `Segmenting... ${pct(f, 0)} (${job.progress?.done ?? 0} of ${job.progress?.total ?? '?'} windows)`;
      await new Promise((ok) => setTimeout(ok, 500));
      job = await api(`/v1/jobs/${encodeURIComponent(job.id)}`);
    }
    if (job.status !== 'done') throw new Error(job.error?.message ?? 'the job failed');
    const r = job.result ?? {};
    overlays.get(id)?.remove();
    const layer = L.tileLayer(
      `/v1/tiles/{z}/{x}/{y}.png?scene=${encodeURIComponent(id)}&layer=segmentation&v=${Date.now()}${keyQuery('&')}`,
      { ...TILE_OPTS, opacity: opacity.value / 100 }).addTo(map);
    overlays.set(id, layer);
    opacity.parentElement.classList.remove('d-none');
    status.textContent = `Segmented with ${r.model ?? 'the default model'}.`;
    legend.replaceChildren(...(Array.isArray(r.classes) ? r.classes : [])
      .filter((c) => (c.pixels ?? 1) > 0)
      .map((c) => el('span', { class: 'legend-item small' },
        el('span', { class: 'swatch', style: { background: c.color ?? '#888' } }),
        `${c.name} ${pct(c.share, 0)}`)));
  } catch (err) {
    status.textContent = `Segmentation failed: ${err.message}`;
  } finally {
    button.disabled = false;
  }
}

function sceneItem(f, layer) {
  const p = f.properties ?? {};
  const id = p.id;
  const status = el('div', { class: 'small text-secondary' });
  const legend = el('div', { class: 'd-flex flex-wrap gap-1 mt-1', dataset: { testid: `legend-${id}` } });
  const opacity = el('input', { type: 'range', class: 'form-range', min: 0, max: 100, value: 60,
    dataset: { testid: `overlay-opacity-${id}` },
    oninput: (e) => overlays.get(id)?.setOpacity(e.target.value / 100) });
  const segment = el('button', { type: 'button', class: 'btn btn-sm btn-outline-primary',
    dataset: { testid: `segment-${id}` } }, 'Segment');
  segment.addEventListener('click', () => segmentScene(id, status, opacity, legend, segment));
  const name = String(p.path ?? '').split('/').pop();
  return el('div', { class: 'scene-item border-bottom py-2', dataset: { testid: 'scene-item' } },
    el('div', { class: 'fw-semibold' }, `#${id} `, el('span', { class: 'fw-normal' }, name)),
    el('div', { class: 'small text-secondary' },
      p.time ?? 'no time', Number.isFinite(p.width) ? ` - ${p.width} x ${p.height} px` : '',
      Number.isFinite(p.bands) ? `, ${p.bands} band${p.bands === 1 ? '' : 's'}` : ''),
    el('div', { class: 'd-flex gap-2 mt-1' },
      el('button', { type: 'button', class: 'btn btn-sm btn-outline-secondary',
        onclick: () => map.fitBounds(layer.getBounds(), { padding: [20, 20] }) }, 'Zoom'),
      segment),
    status,
    el('div', { class: 'd-none' }, el('label', { class: 'small' }, 'Overlay opacity'), opacity),
    legend);
}

async function loadScenes() {
  const list = document.getElementById('scenes');
  let fc;
  try {
    fc = await api('/v1/scenes?format=geojson');
  } catch (err) {
    showError(`Cannot list the scenes: ${err.message}`);
    map.setView([20, 0], 2);
    return;
  }
  baseLayer.setUrl(`/v1/tiles/{z}/{x}/{y}.png${keyQuery('?')}`);   // a key asked for just now
  const features = Array.isArray(fc.features) ? fc.features : [];
  const footprints = L.geoJSON(null, {
    style: { color: '#d63384', weight: 2, fill: false },
    interactive: false,
  }).addTo(map);
  const items = [];
  for (const f of features) {
    let layer;
    try {
      layer = L.geoJSON(f);
      footprints.addData(f);
    } catch {
      continue;   // a footprint Leaflet cannot draw
    }
    items.push(sceneItem(f, layer));
  }
  if (items.length === 0) {
    list.replaceChildren(el('p', { class: 'small', dataset: { testid: 'no-scenes' } },
      'The catalog has no scene: add rasters with `eosight catalog add FILE...` and start ',
      'the server with --catalog.'));
    map.setView([20, 0], 2);
    return;
  }
  list.replaceChildren(...items);
  map.fitBounds(footprints.getBounds(), { padding: [20, 20] });
}

loadScenes();
