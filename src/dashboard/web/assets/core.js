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
export function go(page, arg, changes = {}) {
  const { params } = parseHash();
  for (const [k, v] of Object.entries(changes)) v === undefined ? params.delete(k) : params.set(k, String(v));
  location.hash = `#/${page}${arg ? `/${encodeURIComponent(arg)}` : ''}${params.size ? `?${params}` : ''}`;
}
export function currentRange() {
  const { params } = parseHash();
  const max = dataRange?.max ?? Date.now();
  const min = dataRange?.min ?? max - 7 * 86400000;
  const from = Number(params.get('from') ?? min);
  const to = Number(params.get('to') ?? max);
  return { from, to };
}

// ---------- small DOM helpers (text only) ----------
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'onclick') e.addEventListener('click', v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
export function panel(title, size = '', hint) {
  const body = el('div');
  const p = el('section', { class: `panel ${size}`, 'data-panel': title }, el('h2', {}, title), hint ? el('div', { class: 'hint' }, hint) : null, body);
  main.append(p);
  return body;
}
export const fmtTime = (t) => (t === null || t === undefined ? '' : new Date(Number(t)).toISOString().replace('T', ' ').slice(0, 19));
export const fmtBytes = (b) => {
  const n = Number(b);
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
};
/** A link to everything about an address, keeping the time range in view. */
export function ipLink(ip) {
  if (!ip) return '';
  const { params } = parseHash();
  const range = new URLSearchParams([...params].filter(([k]) => k === 'from' || k === 'to'));
  return el('a', { class: 'ip', href: `#/ip/${encodeURIComponent(ip)}${range.size ? `?${range}` : ''}`, 'data-ip': ip }, ip);
}
export async function api(path, extra = {}) {
  const r = currentRange();
  const params = new URLSearchParams({ from: String(Math.floor(r.from)), to: String(Math.ceil(r.to)), ...extra });
  const res = await fetch(`${path}${path.includes('?') ? '&' : '?'}${params}`);
  if (res.status === 401) location.href = '/login.html';
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}${res.status === 400 ? ` (${(await res.json().catch(() => ({}))).error ?? 'bad request'})` : ''}`);
  return res.json();
}
