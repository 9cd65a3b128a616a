// Tables: rows as text cells, a row click handler.
import { el } from './core.js';

export function table(body, columns, rows, onRow) {
  if (!rows.length) return body.append(el('div', { class: 'empty' }, 'Nothing in this time range.'));
  const t = el('table', {}, el('thead', {}, el('tr', {}, ...columns.map((c) => el('th', {}, c.label)))));
  const tb = el('tbody');
  for (const r of rows) {
    const tr = el('tr', onRow ? { class: 'clickable' } : {}, ...columns.map((c) => el('td', c.cls ? { class: c.cls(r) } : {}, c.render ? c.render(r) : r[c.key] ?? '')));
    if (onRow) tr.addEventListener('click', (e) => { if (!e.target.closest('a')) onRow(r); });
    tb.append(tr);
  }
  t.append(tb);
  body.append(t);
}
