// ThreatLockDown dashboard: the entry module. Pages live in their own modules and register themselves
// (registerPage in core.js); this module renders the page the URL names, keeps the header (nav links, time
// range, auto-refresh, saved views) in step with the URL, and re-renders on every change of it. The URL holds
// the whole view, so a link reproduces it and the back button steps back through ranges and pages.
import { charts, currentRange, el, go, href, main, pages, parseHash, RELATIVE, setDataRange, setRange } from './core.js';
import { savedViews, saveView } from './views.js';
import './pages.js';
import { refreshTriageBadge } from './analyst.js'; // registers the alert, entity and triage pages

const preset = document.getElementById('preset');
const fromInput = document.getElementById('range-from');
const toInput = document.getElementById('range-to');
const refresh = document.getElementById('refresh');
const saved = document.getElementById('saved');

// the preset menu: all data, relative to now, relative to the newest record, and the absolute range shown
preset.replaceChildren(
  el('option', { value: 'all' }, 'All data'),
  ...Object.entries(RELATIVE).map(([v, label]) => el('option', { value: v }, label)),
  el('option', { value: 'custom' }, 'Custom (from/to)'),
);

/** epoch ms → the value of a datetime-local input, in UTC */
const toInputValue = (t) => new Date(Math.round(t / 1000) * 1000).toISOString().slice(0, 19);
/** the value of a datetime-local input (UTC) → epoch ms; NaN when empty or invalid */
const fromInputValue = (v) => (v ? Date.parse(`${v.length === 16 ? `${v}:00` : v}Z`) : NaN);

async function fetchDataRange() {
  const res = await fetch('/api/range');
  if (res.status === 401) location.href = '/login.html';
  setDataRange(res.ok ? await res.json() : null);
}

function syncHeader() {
  const { page, params } = parseHash();
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.dataset.page === page);
    a.setAttribute('href', href(a.dataset.page)); // the range and the search go along
  }
  const r = currentRange();
  preset.value = params.has('from') ? 'custom' : params.get('range') in RELATIVE ? params.get('range') : 'all';
  fromInput.value = toInputValue(r.from);
  toInput.value = toInputValue(r.to);
  refresh.value = ['10s', '1m', '5m'].includes(params.get('refresh')) ? params.get('refresh') : '';
  saved.replaceChildren(el('option', { value: '' }, 'Saved views…'), ...savedViews().map((v) => el('option', { value: v.hash }, v.name)));
}

let rendering = 0;
async function render() {
  const mine = ++rendering;
  // data-hash says which address the drawn page is for (tests wait for it to be the current one)
  const hash = location.hash;
  delete document.body.dataset.loaded;
  for (const c of charts.splice(0)) c.dispose();
  // keep the page's height while it is rebuilt, so a refresh does not jump to the top
  main.style.minHeight = `${main.offsetHeight}px`;
  main.replaceChildren();
  syncHeader();
  const { page, arg } = parseHash();
  try {
    await (pages[page] ?? pages.overview)(arg);
  } catch (e) {
    main.append(el('p', { class: 'lvl-high' }, `Could not load this page: ${e.message}`));
  }
  main.style.minHeight = '';
  if (mine === rendering) {
    document.body.dataset.hash = hash;
    document.body.dataset.loaded = page;
  }
  void refreshTriageBadge();
  scheduleRefresh();
}

// auto-refresh: re-reads the data's extent (newly collected records) and redraws the page; a relative range
// moves with the clock or with the newest record
const PERIOD = { '10s': 10_000, '1m': 60_000, '5m': 300_000 };
let timer;
function scheduleRefresh() {
  clearTimeout(timer);
  const period = PERIOD[parseHash().params.get('refresh')];
  if (!period) return;
  timer = setTimeout(async () => {
    await fetchDataRange().catch(() => undefined);
    document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes ?? 0) + 1);
    await render();
  }, period);
}

preset.addEventListener('change', () => {
  const { page, arg } = parseHash();
  const v = preset.value;
  if (v === 'custom') return fromInput.focus();
  go(page, arg, { from: undefined, to: undefined, range: v === 'all' ? undefined : v });
});
document.getElementById('range').addEventListener('submit', (e) => {
  e.preventDefault();
  const [from, to] = [fromInputValue(fromInput.value), fromInputValue(toInput.value)];
  if (!Number.isFinite(from) || !Number.isFinite(to) || from > to) {
    fromInput.setCustomValidity(from > to ? 'from must not be after to' : 'enter a date and time');
    return fromInput.reportValidity();
  }
  fromInput.setCustomValidity('');
  setRange(from, to);
});
fromInput.addEventListener('input', () => fromInput.setCustomValidity(''));
refresh.addEventListener('change', () => {
  const { page, arg } = parseHash();
  go(page, arg, { refresh: refresh.value || undefined });
});
saved.addEventListener('change', () => {
  if (saved.value) location.hash = saved.value;
});
const viewName = document.getElementById('view-name');
document.getElementById('views').addEventListener('submit', (e) => {
  e.preventDefault();
  const { page, arg, params } = parseHash();
  const name = viewName.value.trim() || [page, arg, params.get('q')].filter(Boolean).join(' ');
  saveView(name, location.hash || '#/overview');
  viewName.value = '';
  syncHeader();
});

window.addEventListener('hashchange', render);
window.addEventListener('resize', () => charts.forEach((c) => c.resize()));
(async () => {
  const session = await (await fetch('/api/session')).json();
  if (session.authRequired && !session.signedIn) return (location.href = '/login.html');
  await fetchDataRange();
  await render();
})();

