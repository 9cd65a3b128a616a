// Helpers of the analyst's views (entity pages, alert view, triage, map). Every value shown comes from logs an
// attacker can influence, or from notes anyone with access typed: text only (textContent and DOM APIs, canvas
// charts with richText tooltips), never HTML.

import { charts, currentRange, el, fmtBytes, fmtTime, GLOBAL_KEYS, panel, parseHash } from './core.js';

// The range and the search come from core.js (currentRange, GLOBAL_KEYS), the one place that reads the URL's
// view, so every analyst link keeps the range AND the search like the other pages' links; elements, panels and
// formats are core.js's too.
export { currentRange, el, fmtBytes, fmtTime, panel };

/** The hash parameters that follow the analyst from page to page (range, refresh, search). */
export function keptParams() {
  const { params } = parseHash();
  return new URLSearchParams([...params].filter(([k]) => GLOBAL_KEYS.includes(k)));
}
/** A page's URL fragment with the global keys of the view and `extra` (its own filters; empty ones dropped). */
export function pageHref(page, arg, extra = {}) {
  const params = keptParams();
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  return `#/${page}${arg !== undefined ? `/${encodeURIComponent(arg)}` : ''}${params.size ? `?${params}` : ''}`;
}

/** A link to an entity page (or the IP page), keeping the range; empty when there is no value. */
export function entityLink(kind, value, label) {
  if (value === null || value === undefined || value === '') return '';
  return el('a', { class: 'ip entity', href: pageHref(kind, String(value)), 'data-entity': kind }, label ?? String(value));
}

export const STATUS_LABEL = { new: 'new', acknowledged: 'acknowledged', closed_true_positive: 'closed: true positive', closed_false_positive: 'closed: false positive' };

export function table(body, columns, rows, onRow, empty = 'Nothing in this time range.') {
  if (!rows?.length) return body.append(el('div', { class: 'empty' }, empty));
  const t = el('table', {}, el('thead', {}, el('tr', {}, ...columns.map((c) => el('th', {}, c.label)))));
  const tb = el('tbody');
  for (const r of rows) {
    const tr = el('tr', onRow ? { class: 'clickable' } : {}, ...columns.map((c) => el('td', c.cls ? { class: c.cls(r) } : {}, c.render ? c.render(r) : r[c.key] ?? '')));
    if (onRow) tr.addEventListener('click', (e) => { if (!e.target.closest('a, button, input, select, textarea')) onRow(r); });
    tb.append(tr);
  }
  t.append(tb);
  body.append(t);
}

export function chart(body, option, cls = '') {
  const box = el('div', { class: `chart ${cls}` });
  body.append(box);
  const c = echarts.init(box, 'dark', { renderer: 'canvas' });
  c.setOption({ backgroundColor: 'transparent', tooltip: { trigger: 'axis', renderMode: 'richText' }, grid: { left: 60, right: 20, top: 30, bottom: 30 }, ...option });
  charts.push(c);
  return c;
}
// core.js's list: app.js disposes them on every render (navigation and auto-refresh) and resizes them

export async function api(path, extra = {}, init) {
  const r = currentRange();
  const params = new URLSearchParams({ from: String(Math.floor(r.from)), to: String(Math.ceil(r.to)) });
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const res = await fetch(`${path}${path.includes('?') ? '&' : '?'}${params}`, init);
  return answer(path, res);
}

export async function answer(path, res) {
  if (res.status === 401) location.href = '/login.html';
  if (!res.ok) {
    const why = (await res.json().catch(() => ({}))).error;
    throw new Error(`${path}: HTTP ${res.status}${why ? ` (${why})` : ''}`);
  }
  return res.json();
}

let session;
/** The dashboard's sign-in state (asked once per page load). */
export async function sessionInfo() {
  session ??= fetch('/api/session').then((r) => r.json()).catch(() => ({ authRequired: false }));
  return session;
}

export const levelCls = (r) => (Number(r.level) >= 10 ? 'lvl-high' : '');
export const BAND_COLOURS = { low: '#5b8ff9', medium: '#f6bd16', high: '#ff8a3d', critical: '#e8384f' };
