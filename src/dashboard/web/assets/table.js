// Tables: every one says "N of M", sorts by its columns, and exports what it shows (CSV, NDJSON). A listing
// of the API (pagedTable) pages and sorts on the server (GET /api/list/<name>: sort keys are the listing's
// own); a small fixed table (top 10s, health) sorts in the browser. Cells are text only.
import { api, el } from './core.js';
import { toCsv, toNdjson } from './export.js';

const PAGE_SIZE = 50;

/** What a cell shows, as text (a rendered link gives its text). */
function cellValue(c, r) {
  const v = c.render ? c.render(r) : r[c.key];
  if (v instanceof Node) return v.textContent;
  return v ?? '';
}

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const slug = (title) => (title || 'table').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'table';

/**
 * Draws one table into `box` with its bar. `state` = { rows, total, offset, sort, dir }; `on` = { sort(key),
 * page(offset) } (absent: no pager). Columns: { label, key | render, cls?, sort? (a sort key, or false) }.
 */
function draw(box, title, columns, state, onRow, on) {
  const { rows, total, offset } = state;
  const shown = rows.length ? `${offset + 1}–${offset + rows.length} of ${total}` : `0 of ${total}`;
  const bar = el('div', { class: 'table-bar' }, el('span', { class: 'count', 'data-count': '' }, shown));
  if (on.page && total > rows.length) {
    const prev = el('button', { type: 'button', class: 'prev', 'aria-label': 'previous page' }, '‹ Prev');
    const next = el('button', { type: 'button', class: 'next', 'aria-label': 'next page' }, 'Next ›');
    prev.disabled = offset === 0;
    next.disabled = offset + rows.length >= total;
    prev.addEventListener('click', () => on.page(Math.max(0, offset - PAGE_SIZE)));
    next.addEventListener('click', () => on.page(offset + PAGE_SIZE));
    bar.append(prev, next);
  }
  const exportRows = () => rows.map((r) => columns.map((c) => cellValue(c, r)));
  const csv = el('button', { type: 'button', class: 'export-csv', title: 'the rows shown, as CSV' }, 'CSV');
  const nd = el('button', { type: 'button', class: 'export-ndjson', title: 'the rows shown, as NDJSON' }, 'NDJSON');
  csv.addEventListener('click', () => download(`${slug(title)}.csv`, 'text/csv', toCsv(columns.map((c) => c.label), exportRows())));
  nd.addEventListener('click', () => download(`${slug(title)}.ndjson`, 'application/x-ndjson', toNdjson(rows)));
  bar.append(el('span', { class: 'spacer' }), csv, nd);
  const head = el('tr', {}, ...columns.map((c) => {
    const key = c.sort === undefined ? c.key : c.sort;
    if (!key || !on.sort) return el('th', {}, c.label);
    const active = state.sort === key;
    const th = el('th', { class: 'sortable', 'aria-sort': active ? (state.dir === 'asc' ? 'ascending' : 'descending') : 'none', 'data-sort': key }, c.label, active ? (state.dir === 'asc' ? ' ▲' : ' ▼') : '');
    th.addEventListener('click', () => on.sort(key));
    return th;
  }));
  const t = el('table', {}, el('thead', {}, head));
  const tb = el('tbody');
  for (const r of rows) {
    const tr = el('tr', onRow ? { class: 'clickable' } : {}, ...columns.map((c) => el('td', c.cls ? { class: c.cls(r) } : {}, c.render ? c.render(r) : r[c.key] ?? '')));
    if (onRow) tr.addEventListener('click', (e) => { if (!e.target.closest('a')) onRow(r); });
    tb.append(tr);
  }
  t.append(tb);
  box.replaceChildren(bar, rows.length ? t : el('div', { class: 'empty' }, 'Nothing in this time range.'));
}

const titleOf = (body) => body.closest('[data-panel]')?.dataset.panel ?? '';

/** A table of rows already fetched (top 10s, health): sorted in the browser, all rows shown. */
export function table(body, columns, rows, onRow) {
  const box = el('div', { class: 'table-box' });
  body.append(box);
  const state = { rows, total: rows.length, offset: 0, sort: undefined, dir: 'desc' };
  const value = (key, r) => {
    const v = r[key];
    return v === null || v === undefined || v === '' ? null : typeof v === 'number' || /^-?\d+(\.\d+)?$/.test(String(v)) ? Number(v) : String(v);
  };
  const sort = (key) => {
    state.dir = state.sort === key && state.dir === 'asc' ? 'desc' : state.sort === key ? 'asc' : 'desc';
    state.sort = key;
    const sign = state.dir === 'asc' ? 1 : -1;
    state.rows = [...rows].sort((a, b) => {
      const [x, y] = [value(key, a), value(key, b)];
      if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
      return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * sign;
    });
    draw(box, titleOf(body), columns, state, onRow, { sort });
  };
  draw(box, titleOf(body), columns, state, onRow, { sort });
}

/** A listing of the API (GET /api/list/<name>): pages and sorts on the server; `params` are its filters. */
export async function pagedTable(body, columns, name, params = {}, onRow) {
  const box = el('div', { class: 'table-box', 'data-list': name });
  body.append(box);
  const state = { rows: [], total: 0, offset: 0, sort: undefined, dir: undefined };
  const load = async () => {
    const d = await api(`/api/list/${name}`, { ...params, sort: state.sort, dir: state.dir, offset: state.offset, limit: PAGE_SIZE });
    Object.assign(state, { rows: d.rows, total: d.total, offset: d.offset, sort: d.sort, dir: d.dir });
    draw(box, titleOf(body), columns, state, onRow, { sort, page });
  };
  const sort = (key) => {
    state.dir = state.sort === key ? (state.dir === 'asc' ? 'desc' : 'asc') : 'desc';
    state.sort = key;
    state.offset = 0;
    return load();
  };
  const page = (offset) => {
    state.offset = offset;
    return load();
  };
  await load();
}
