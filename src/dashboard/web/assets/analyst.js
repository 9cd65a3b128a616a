// The analyst's pages, registered with core.js's registerPage (app.js renders the one the hash names):
// #/alert/<id>, #/triage, and one entity page per kind (#/instance/<id>, #/eni/…, #/account/…, #/user/…, #/port/…, #/finding/…, #/finding-type/…, #/rule/…).
import { api, el } from './analyst-dom.js';
import { registerPage } from './core.js';
import { alertPage } from './alert-page.js';
import { entityPage, ENTITY_LABEL } from './entity-page.js';
import { triagePage } from './triage-page.js';

export { entityLink, pageHref } from './analyst-dom.js';
export { attackMap } from './attack-map.js';

export const analystPages = {
  alert: alertPage,
  triage: triagePage,
  ...Object.fromEntries(Object.keys(ENTITY_LABEL).map((kind) => [kind, (value) => entityPage(kind, value)])),
};
for (const [name, render] of Object.entries(analystPages)) registerPage(name, render);

/** The nav's "N new critical" next to Triage, for the range in view (after each page load). */
export async function refreshTriageBadge() {
  const link = document.querySelector('#nav a[data-page="triage"]');
  if (!link) return;
  try {
    const counts = await api('/api/triage/counts');
    const n = counts.filter((c) => c.status === 'new' && c.band === 'critical').reduce((s, c) => s + c.n, 0);
    let badge = link.querySelector('.badge');
    if (!badge) link.append(' ', (badge = el('span', { class: 'badge' })));
    badge.textContent = `${n} new critical`;
  } catch {
    // the badge is a hint; the page itself reports errors
  }
}
