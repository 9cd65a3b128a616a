// Saved views: a name and the URL fragment of a view (page, time range, search), kept in this browser's
// localStorage. The fragment is the shareable link; a saved view is a bookmark of one.
const KEY = 'tld.savedViews';
const MAX = 50;

export function savedViews() {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(list) ? list.filter((v) => typeof v?.name === 'string' && typeof v?.hash === 'string' && v.hash.startsWith('#/')) : [];
  } catch {
    return [];
  }
}

/** Saves (or replaces, by name) a view; the newest first. */
export function saveView(name, hash) {
  const list = [{ name: name.slice(0, 100), hash }, ...savedViews().filter((v) => v.name !== name)].slice(0, MAX);
  localStorage.setItem(KEY, JSON.stringify(list));
}
