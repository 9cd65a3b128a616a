import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectDecodeError } from '../errors.js';
import { RecordsArrayScanner, type RecordItem } from './records-array.js';

interface Scan {
  items: RecordItem[];
  error: ObjectDecodeError | undefined;
  scanner: RecordsArrayScanner;
}

/** Feeds `text` in pieces of `piece` bytes (0: whole), or at the given split points. */
function scan(text: string | Buffer, piece = 0, maxRecordBytes?: number): Scan {
  const scanner = new RecordsArrayScanner({ key: 'Records', ...(maxRecordBytes === undefined ? {} : { maxRecordBytes }) });
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const items: RecordItem[] = [];
  const size = piece || bytes.length || 1;
  for (let at = 0; at < bytes.length; at += size) items.push(...scanner.push(bytes.subarray(at, at + size)));
  return { items, error: scanner.fatal ?? scanner.finish(), scanner };
}
const values = (s: Scan) => s.items.map((i) => (i.error === undefined ? i.value : `ERR ${i.error}`));

/** A deterministic pseudo-random generator (tests must not flake). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const NASTY = ['"', '\\', '\\"', '\\\\', '{', '}', '[', ']', ',', ':', '}{', '"]}', 'é', '日本', '😀', '\n', '\u2028', 'Records', ' '];

function randomValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 3 ? 4 : 7));
  if (k === 0) return Math.floor(r() * 1e6) - 5e5;
  if (k === 1) return [true, false, null, 1.5e-3][Math.floor(r() * 4)];
  if (k === 2 || k === 3) return Array.from({ length: Math.floor(r() * 4) }, () => NASTY[Math.floor(r() * NASTY.length)]).join('x');
  if (k === 4) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 5); i > 0; i--) o[String(randomValue(r, 9)) + i] = randomValue(r, depth + 1);
  return o;
}

test('every element comes out exactly as JSON.parse reads it, for random documents cut at random places (strings with quotes, braces, escapes, multi-byte UTF-8)', () => {
  const r = rng(20241127);
  for (let round = 0; round < 300; round++) {
    const records = Array.from({ length: Math.floor(r() * 6) }, () => randomValue(r, 1));
    const doc: Record<string, unknown> = {};
    if (r() < 0.5) doc.before = randomValue(r, 1);
    doc.Records = records;
    if (r() < 0.5) doc.after = randomValue(r, 1);
    const text = r() < 0.5 ? JSON.stringify(doc) : JSON.stringify(doc, null, round % 3 === 0 ? '\t' : 2);
    const bytes = Buffer.from(text);
    for (const piece of [0, 1, 2, 3, 7, 1 + Math.floor(r() * 40)]) {
      const s = scan(bytes, piece);
      assert.equal(s.error, undefined, `${text} in pieces of ${piece}: ${s.error?.message}`);
      assert.deepEqual(values(s), records, `${text} in pieces of ${piece}`);
      assert.ok(s.scanner.foundArray);
    }
    const top = scan(JSON.stringify(records), 5);
    assert.deepEqual(values(top), records, 'a top-level array is streamed the same way');
  }
});

test('Records may come after other keys; only the top-level member is streamed; offsets, lines and indexes are given', () => {
  const text = '{"meta": {"Records": [9, 9]}, "n": [1, {"Records": 2}],\n "Records": [ {"a": 1} ,\n{"b": "}{\\"]"}], "z": 1}';
  const s = scan(text, 4);
  assert.deepEqual(values(s), [{ a: 1 }, { b: '}{"]' }]);
  assert.deepEqual(s.items.map((i) => [i.index, i.offset, i.line]), [[1, text.indexOf('{"a"'), 2], [2, text.indexOf('{"b"'), 3]]);
  assert.deepEqual(s.scanner.memberNames, new Set(['meta', 'n', 'Records', 'z']));
});

test('a document without the array keeps its other members (JSON.parse semantics: __proto__ is an own key)', () => {
  const text = '{"detail-type": "x", "__proto__": {"polluted": true}, "detail": {"eventName": "E"}}';
  const s = scan(text, 3);
  assert.equal(s.error, undefined);
  assert.equal(s.scanner.foundArray, false);
  const doc = s.scanner.otherMembers();
  assert.deepEqual(doc, JSON.parse(text));
  assert.ok(Object.hasOwn(doc ?? {}, '__proto__'));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const big = scan(`{"a": "${'x'.repeat(200)}", "b": 1}`, 16, 100);
  assert.equal(big.error, undefined);
  assert.equal(big.scanner.otherMembers(), undefined, 'members larger than the cap are not kept');
  assert.deepEqual(big.scanner.memberNames, new Set(['a', 'b']));
  const notArray = scan('{"Records": null}');
  assert.equal(notArray.scanner.foundArray, false);
  assert.deepEqual(notArray.scanner.otherMembers(), { Records: null });
});

test('a record JSON.parse refuses, a scalar, and a record over the cap are items of their own; the records around them are read', () => {
  const text = `{"Records":[{"a":1},{"b": tru},42,"s",{"big":"${'x'.repeat(300)}"},{"c":[3]}]}`;
  for (const piece of [0, 1, 10, 64]) {
    const s = scan(text, piece, 100);
    assert.equal(s.error, undefined);
    assert.equal(s.items.length, 6);
    assert.deepEqual(values(s).filter((v) => typeof v !== 'string' || !v.startsWith('ERR')), [{ a: 1 }, 42, 's', { c: [3] }]);
    const bad = s.items[1];
    assert.equal(bad?.error !== undefined && bad.error.startsWith(`record 2 (from byte ${text.indexOf('{"b"')}) is not valid JSON: `), true, bad?.error);
    assert.equal(s.items[4]?.error, `record 5 (from byte ${text.indexOf('{"big"')}) is larger than 100 bytes`);
  }
  const deep = scan(`[${'['.repeat(1001)}${']'.repeat(1001)}, {"ok": 1}]`, 7);
  assert.equal(deep.error, undefined);
  assert.match(deep.items[0]?.error ?? '', /record 1 \(from byte 1\) is nested deeper than 1000 levels/);
  assert.deepEqual(values(deep)[1], { ok: 1 });
});

test('a broken document structure stops the scan with an error naming the byte; the records before it are kept', () => {
  const cases: [string, RegExp, number][] = [
    ['{"Records":[{"a":1},{"b":[}]}', /invalid JSON: '}' does not close '\[' in record 2 \(from byte 20\) at byte 26 \(line 1\)/, 1],
    ['{"Records":[{"a":1} {"b":2}]}', /expected ',' or '\]' after record 1, found '\{' at byte 20/, 1],
    ['{"Records":[{"a":1},]}', /expected a value, found '\]'/, 1],
    ['{"Records":[{"a":1}]} {"Records":[]}', /unexpected '\{' after the end of the JSON document at byte 22/, 1],
    ['{"Records" [1]}', /expected ':' after a member name/, 0],
    ['{Records: []}', /expected a member name, found 'R'/, 0],
    ['{"Records":[{"a":1},{"b":', /truncated JSON: the file ends at byte 25 inside record 2, which starts at byte 20 \(1 records before it were read\)/, 1],
    ['{"Records":[{"a":1}', /truncated JSON: the file ends at byte 19 \(1 records before it were read\)/, 1],
  ];
  for (const [text, message, kept] of cases) {
    for (const piece of [0, 1, 5]) {
      const s = scan(text, piece);
      assert.ok(s.error instanceof ObjectDecodeError, text);
      assert.equal(s.error.code, 'TLD_ERR_DECODE_JSON', text);
      assert.match(s.error.message, message);
      assert.equal(s.items.length, kept, text);
    }
  }
  assert.equal(scan('"just a string"').error?.code, 'TLD_ERR_DECODE_FORMAT');
  assert.match(scan('  nope').error?.message ?? '', /not a JSON object or array \(it starts with 'n'\) at byte 2/);
  assert.equal(scan(' \n ').error?.code, 'TLD_ERR_DECODE_EMPTY_OBJECT');
  assert.deepEqual(values(scan('\ufeff{"Records":[1]}')), [1], 'a UTF-8 byte-order mark is skipped');
});

test('chunks are copied: a caller reusing its buffer does not change records still being assembled', () => {
  const scanner = new RecordsArrayScanner({ key: 'Records' });
  const text = Buffer.from('{"Records":[{"name":"abcdef"}]}');
  const buf = Buffer.alloc(8);
  const items: RecordItem[] = [];
  for (let at = 0; at < text.length; at += 8) {
    buf.fill(0x20);
    const n = text.copy(buf, 0, at, at + 8);
    items.push(...scanner.push(buf.subarray(0, n)));
  }
  assert.deepEqual(items.map((i) => (i.error === undefined ? i.value : i.error)), [{ name: 'abcdef' }]);
});
