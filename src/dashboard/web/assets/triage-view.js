// Triage of one alert or GuardDuty finding: status, assignee, notes, and the audit trail (who changed what when).
// Notes are shown as text, as typed. Changes are JSON POSTs (see analyst-routes.ts for the CSRF checks).
import { el, fmtTime, STATUS_LABEL, answer, sessionInfo } from './analyst-dom.js';

const ANALYST_KEY = 'tld.analyst';

function describe(change) {
  const parts = [];
  if (change.status !== undefined) parts.push(`status → ${STATUS_LABEL[change.status] ?? change.status}`);
  if (change.assignee !== undefined) parts.push(change.assignee === '' ? 'unassigned' : `assigned to ${change.assignee}`);
  if (change.note !== undefined) parts.push('note added');
  return parts.join(', ');
}

/** Renders the triage box of `kind`/`id` into `body` from `state` (as GET /api/triage/:kind/:id answers). */
export async function triageBox(body, kind, id, state) {
  const { authRequired, user } = await sessionInfo();
  const box = el('div', { class: 'triage', 'data-triage': `${kind}/${id}` });
  body.append(box);
  const draw = (s) => {
    box.replaceChildren();
    box.append(el('p', {}, 'Status: ', el('strong', { class: `status status-${s.status}`, 'data-status': s.status }, STATUS_LABEL[s.status] ?? s.status),
      s.assignee ? ` · assigned to ${s.assignee}` : ' · unassigned', s.updatedAt ? ` · last change ${fmtTime(Date.parse(s.updatedAt))} UTC by ${s.updatedBy}` : ''));
    const form = el('form', { class: 'triage-form' });
    const status = el('select', { name: 'status', 'aria-label': 'status' }, ...Object.entries(STATUS_LABEL).map(([v, label]) => el('option', { value: v }, label)));
    status.value = s.status;
    const assignee = el('input', { name: 'assignee', placeholder: 'assignee', 'aria-label': 'assignee', maxlength: '100' });
    assignee.value = s.assignee ?? '';
    const note = el('textarea', { name: 'note', placeholder: 'add a note', 'aria-label': 'note', maxlength: '4000', rows: '3' });
    const actor = authRequired ? null : el('input', { name: 'actor', placeholder: 'your name', 'aria-label': 'your name', maxlength: '100' });
    if (actor) actor.value = localStorage.getItem(ANALYST_KEY) ?? '';
    const error = el('span', { class: 'lvl-high', role: 'alert' });
    form.append(status, ' ', assignee, ' ', actor ?? el('span', { class: 'hint' }, `as ${user}`), el('br'), note, el('br'), el('button', { type: 'submit' }, 'Save'), ' ', error);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const change = {};
      if (status.value !== s.status) change.status = status.value;
      if (assignee.value.trim() !== (s.assignee ?? '')) change.assignee = assignee.value.trim();
      if (note.value.trim() !== '') change.note = note.value;
      if (!Object.keys(change).length) return (error.textContent = 'Nothing changed.');
      if (actor?.value.trim()) {
        change.actor = actor.value.trim();
        localStorage.setItem(ANALYST_KEY, change.actor);
      }
      try {
        const path = `/api/triage/${kind}/${encodeURIComponent(id)}`;
        draw(await answer(path, await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(change) })));
        box.dataset.saved = String(Number(box.dataset.saved ?? 0) + 1);
      } catch (err) {
        error.textContent = err.message;
      }
    });
    box.append(form);
    if (s.notes.length) {
      box.append(el('h3', {}, 'Notes'));
      const list = el('ul', { class: 'notes' });
      for (const n of s.notes) list.append(el('li', {}, el('span', { class: 'hint' }, `${fmtTime(Date.parse(n.at))} UTC, ${n.actor}: `), el('span', { class: 'note-text' }, n.text)));
      box.append(list);
    }
    if (s.history.length) {
      box.append(el('h3', {}, 'Audit trail'));
      const list = el('ol', { class: 'audit' });
      for (const c of s.history) list.append(el('li', {}, `${fmtTime(Date.parse(c.at))} UTC — ${c.actor}: ${describe(c)}`));
      box.append(list);
    }
  };
  draw(state);
}
