// web/common.js - helpers shared by the upload page (upload.js) and the map page (map.js):
// calling the service's JSON API with its errors turned into plain-word exceptions, building
// DOM nodes without innerHTML (names and messages come from the server and models), and
// formatting numbers.

// Thrown for an answer that is not 2xx: message is the server's error.message, status the
// HTTP status, code the error.code.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// The API key of a server started with --api-key-file, kept in this browser's localStorage
// (asked for on the first 401); '' when none.
const KEY_ITEM = 'eosight-api-key';
export function apiKey() {
  try {
    return localStorage.getItem(KEY_ITEM) || '';
  } catch {
    return '';
  }
}

// A query suffix carrying the API key for URLs the browser fetches itself (map tile images
// cannot send headers): '' without a key, else `${sep}api_key=...`.
export function keyQuery(sep = '?') {
  const k = apiKey();
  return k ? `${sep}api_key=${encodeURIComponent(k)}` : '';
}

function withKey(options) {
  const k = apiKey();
  if (!k) return options;
  return { ...options, headers: { ...(options.headers || {}), 'X-API-Key': k } };
}

// fetch() a route and parse its JSON answer; non-2xx answers throw ApiError with the server's
// own message (or the status line when the body is not our JSON error). A 401 asks for the
// API key once, keeps it, and tries again.
export async function api(path, options = {}, retried = false) {
  let res;
  try {
    res = await fetch(path, withKey(options));
  } catch (e) {
    throw new ApiError(0, 'network', `the server did not answer (${e.message})`);
  }
  if (res.status === 401 && !retried && typeof window.prompt === 'function') {
    const k = window.prompt('This server needs an API key (ask its operator):', '');
    if (k) {
      try {
        localStorage.setItem(KEY_ITEM, k.trim());
      } catch {
        /* private mode: the key lasts this call only */
      }
      return api(path, options, true);
    }
  }
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const msg = body?.error?.message ?? `${res.status} ${res.statusText || 'error'}`;
    throw new ApiError(res.status, body?.error?.code ?? 'http', msg);
  }
  if (body === null) throw new ApiError(res.status, 'parse', 'the server answered no JSON');
  return body;
}

// POST a JSON object.
export function postJSON(path, obj) {
  return api(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(obj),
  });
}

// el('div', {class: 'x', dataset: {testid: 'y'}, onclick: fn}, child, 'text', ...): a DOM
// element; strings become text nodes, null/undefined/false children are left out.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'style' && typeof v === 'object') Object.assign(node.style, v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// 0.9145 -> "91.5 %".
export function pct(p, digits = 1) {
  return Number.isFinite(p) ? `${(100 * p).toFixed(digits)} %` : '-';
}

// A number with thin grouping, at most `digits` decimals: 12345.678 -> "12,345.68".
export function num(x, digits = 2) {
  if (!Number.isFinite(x)) return '-';
  return x.toLocaleString('en-US', { maximumFractionDigits: digits });
}

// The route of a task as the pages name it, and the task name of the model contracts.
export const TASKS = {
  classify: { route: 'classify', contract: 'classify', label: 'Classify' },
  tag: { route: 'tag', contract: 'tag', label: 'Tag' },
  clouds: { route: 'clouds', contract: 'cloud', label: 'Clouds' },
  segment: { route: 'segment', contract: 'segment', label: 'Segment' },
};

// Horizontal bars of the classes (name, probability), best first.
export function classBars(classes, testid = 'class-bars') {
  return el('div', { class: 'class-bars', dataset: { testid } },
    classes.map((c) => el('div', { class: 'class-bar' },
      el('div', { class: 'd-flex justify-content-between small' },
        el('span', { class: 'name' }, c.name), el('span', { class: 'text-secondary' }, pct(c.prob))),
      el('div', { class: 'progress', role: 'progressbar', 'aria-label': c.name,
                  'aria-valuenow': Math.round(100 * c.prob), 'aria-valuemin': 0,
                  'aria-valuemax': 100 },
        el('div', { class: 'progress-bar', style: { width: `${Math.max(0, Math.min(1, c.prob)) * 100}%` } })))));
}

// The out-of-distribution warning of an answer marked uncertain (null otherwise).
export function oodWarning(r) {
  if (!r.uncertain) return null;
  const score = Number.isFinite(r.ood_score) ? ` (out-of-distribution score ${r.ood_score.toFixed(2)})` : '';
  return el('div', { class: 'alert alert-warning py-2 small', dataset: { testid: 'ood-warning' } },
    el('strong', {}, 'Uncertain: '),
    `this image looks unlike what the model was trained on${score}; treat the answer with care.`);
}
