// The web app's core: the view's state in the URL (#/page/arg?from=…&to=…&filters), the JSON API, and small DOM
// helpers that only ever set text. Every value shown comes from logs an attacker can influence, so it is only
// ever set with textContent / DOM APIs, never as HTML.

export const main = document.getElementById('main');
/** ECharts instances of the page shown (disposed on every render) */
export const charts = [];
/** the oldest and newest record time in the store ({min, max} epoch ms), read at start-up */
export let dataRange = null;
export function setDataRange(r) {
  dataRange = r;
}
/** page name → async function(arg) that fills `main`; other modules add theirs with registerPage */
export const pages = {};
export function registerPage(name, render) {
  pages[name] = render;
}

export function parseHash() {
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query ?? '');
  const parts = (path || '/overview').split('/').filter(Boolean);
  return { page: parts[0] ?? 'overview', arg: parts[1] ? decodeURIComponent(parts[1]) : undefined, params };
}

/**
 * What follows the analyst from page to page (Kibana's global time): the range (`from`/`to` in epoch ms, or a
 * relative `range`), auto-refresh and the search. Anything else in the URL belongs to the page it was set on.
 */
export const GLOBAL_KEYS = ['from', 'to', 'range', 'refresh', 'q'];
const MINUTE = 60_000;
const UNIT = { m: MINUTE, h: 60 * MINUTE, d: 1440 * MINUTE };
/** relative ranges: `now-15m` ends now, `data-24h` ends at the newest record; label for the menu */
export const RELATIVE = {
  'now-15m': 'Last 15 minutes', 'now-1h': 'Last hour', 'now-24h': 'Last 24 hours', 'now-7d': 'Last 7 days', 'now-30d': 'Last 30 days',
  'data-1h': 'Newest hour of data', 'data-6h': 'Newest 6 hours of data', 'data-24h': 'Newest 24 hours of data', 'data-7d': 'Newest 7 days of data',
};

/** The URL fragment of a page with the global keys of the current view (and `changes`; undefined removes). */
export function href(page, arg, changes = {}) {
  const { page: now, params } = parseHash();
  const keep = page === now ? params : new URLSearchParams([...params].filter(([k]) => GLOBAL_KEYS.includes(k)));
  for (const [k, v] of Object.entries(changes)) v === undefined || v === '' ? keep.delete(k) : keep.set(k, String(v));
  return `#/${page}${arg ? `/${encodeURIComponent(arg)}` : ''}${keep.size ? `?${keep}` : ''}`;
}
/** Goes to a page (a new history entry: the back button returns to the previous view). */
export function go(page, arg, changes = {}) {
  location.hash = href(page, arg, changes);
}
/** Sets an absolute range on the page shown (a brushed chart, the from/to inputs). */
export function setRange(from, to) {
  const { page, arg } = parseHash();
  go(page, arg, { from: Math.floor(from), to: Math.ceil(to), range: undefined });
}
/** The range in force: absolute from/to, else the relative one (evaluated now), else all the data. */
export function currentRange() {
  const { params } = parseHash();
  const max = dataRange?.max ?? Date.now();
  const min = dataRange?.min ?? max - 7 * 86400000;
  const rel = /^(now|data)-(\d+)([mhd])$/.exec(params.get('range') ?? '');
  if (rel && !params.has('from')) {
    const end = rel[1] === 'now' ? Date.now() : max;
    return { from: end - Number(rel[2]) * UNIT[rel[3]], to: end };
  }
  const from = Number(params.get('from') ?? min);
  const to = Number(params.get('to') ?? max);
  return { from, to };
}

// ---------- small DOM helpers (text only) ----------
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === 'class') e.className = v;
    else if (k === 'onclick') e.addEventListener('click', v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
export function panel(title, size = '', hint) {
  const body = el('div');
  const p = el('section', { class: `panel ${size}`, 'data-panel': title }, el('h2', {}, title), hint ? el('div', { class: 'hint' }, hint) : null, body);
  main.append(p);
  return body;
}
export const fmtTime = (t) => (t === null || t === undefined || t === '' ? '' : new Date(Number(t)).toISOString().replace('T', ' ').slice(0, 19));
export const fmtBytes = (b) => {
  const n = Number(b ?? 0);
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
};
/** A link to everything about an address, keeping the range and search in view. */
export function ipLink(ip) {
  if (!ip) return '';
  return el('a', { class: 'ip', href: href('ip', ip), 'data-ip': ip }, ip);
}
/** GET of the JSON API with the range in force; a 400 shows the server's message (it names the parameter). */
export async function api(path, extra = {}) {
  const r = currentRange();
  const params = new URLSearchParams({ from: String(Math.floor(r.from)), to: String(Math.ceil(r.to)) });
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const res = await fetch(`${path}${path.includes('?') ? '&' : '?'}${params}`);
  if (res.status === 401) location.href = '/login.html';
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}${res.status === 400 ? ` (${(await res.json().catch(() => ({}))).error ?? 'bad request'})` : ''}`);
  return res.json();
}
