// Export of what a table shows, as CSV or NDJSON. Pure functions (no DOM): the browser tests and the unit
// tests run the same code. Log fields are attacker-controlled: a CSV cell a spreadsheet would read as a
// formula (starting with =, +, -, @, a tab or a carriage return) gets a leading apostrophe, so it stays text.

const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: formula-neutralised (text only; a number stays a number), quoted when needed (RFC 4180). */
export function csvCell(value) {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV with a header row; `rows` are arrays of cell values in the order of `header`. Lines end in CRLF. */
export function toCsv(header, rows) {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** One JSON object per line (values as data: JSON escapes whatever they hold). */
export function toNdjson(objects) {
  return objects.map((o) => JSON.stringify(o)).join('\n') + (objects.length ? '\n' : '');
}
