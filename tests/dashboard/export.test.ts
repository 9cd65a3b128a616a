/**
 * The web app's export module (src/dashboard/web/assets/export.js, the same file the browser runs): CSV
 * injection neutralised, RFC 4180 quoting, NDJSON one object per line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
// @ts-expect-error: a plain ES module of the web app, without type declarations
import { csvCell, toCsv, toNdjson } from '../../src/dashboard/web/assets/export.js';

test('cells a spreadsheet would run as formulas stay text', () => {
  for (const payload of ['=HYPERLINK("http://x","y")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1']) {
    const cell = csvCell(payload) as string;
    const unquoted = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
    assert.equal(unquoted, `'${payload}`, JSON.stringify(payload));
  }
  assert.equal(csvCell(-5), '-5', 'a number is a number');
  assert.equal(csvCell('10.0.1.1'), '10.0.1.1');
  assert.equal(csvCell('a=b'), 'a=b', 'only the start of a cell matters');
});

test('quoting: commas, quotes, line breaks and edge spaces are quoted; header first; CRLF', () => {
  assert.equal(toCsv(['a', 'b'], [['x,y', 'say "hi"'], ['line\nbreak', null], [' pad', 3]]), 'a,b\r\n"x,y","say ""hi"""\r\n"line\nbreak",\r\n" pad",3\r\n');
});

test('NDJSON: one JSON object per line, values escaped as data', () => {
  const text = toNdjson([{ d: '<img src=x onerror=alert(1)>\n"x"' }, { d: '=1' }]) as string;
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.deepEqual(lines.map((l) => JSON.parse(l)), [{ d: '<img src=x onerror=alert(1)>\n"x"' }, { d: '=1' }]);
  assert.equal(toNdjson([]), '');
});
