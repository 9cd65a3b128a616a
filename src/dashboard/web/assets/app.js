// ThreatLockDown dashboard: the entry module. Pages live in their own modules and register themselves
// (registerPage in core.js); this module renders the page the URL names and keeps the header in step.
import { charts, currentRange, dataRange, el, fmtTime, go, main, pages, parseHash, setDataRange } from './core.js';
import './pages.js';

async function render() {
  delete document.body.dataset.loaded;
  for (const c of charts.splice(0)) c.dispose();
  main.replaceChildren();
  const { page, arg } = parseHash();
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page);
  const r = currentRange();
  document.getElementById('range-text').textContent = `${fmtTime(r.from)} → ${fmtTime(r.to)} UTC`;
  const { params } = parseHash();
  document.getElementById('preset').value = params.has('from') ? 'custom' : 'all';
  try {
    await (pages[page] ?? pages.overview)(arg);
  } catch (e) {
    main.append(el('p', { class: 'lvl-high' }, `Could not load this page: ${e.message}`));
  }
  document.body.dataset.loaded = page;
}

document.getElementById('preset').addEventListener('change', (e) => {
  const v = e.target.value;
  const max = dataRange?.max ?? Date.now();
  const { page, arg } = parseHash();
  if (v === 'all') go(page, arg, { from: undefined, to: undefined });
  else if (v === '24h') go(page, arg, { from: max - 86400000, to: max });
  else if (v === '6h') go(page, arg, { from: max - 6 * 3600000, to: max });
});
window.addEventListener('hashchange', render);
window.addEventListener('resize', () => charts.forEach((c) => c.resize()));
(async () => {
  const session = await (await fetch('/api/session')).json();
  if (session.authRequired && !session.signedIn) return (location.href = '/login.html');
  const res = await fetch('/api/range');
  setDataRange(res.ok ? await res.json() : null);
  await render();
})();
