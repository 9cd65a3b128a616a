/**
 * The columnar decoder against the event decoder (decode.ts), which stays the reference: for every VPC sample
 * file, the benchmark corpus and randomized inputs (random chunk boundaries, bad lines, headers in the middle,
 * CRLF, BOM, invalid UTF-8, discard_regex, with and without a record-error handler), the materialized rows must
 * be the same events (same keys in the same order, undefined keys included, same values) with the same record
 * errors, discards and failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import type { AwsEvent } from '../../shared/events.js';
import type { DecodeContext } from '../decoder.js';
import { SAMPLES_DIR } from '../../../testdata/samples.js';
import { vpcText } from '../../../bench/corpus.js';
import { MAX_LINE_CHARS, VpcFlowDecoder } from './decode.js';
import { VpcColumnDecoder } from './column-decoder.js';
import { eventsOf, materialize } from './flow-events.js';
import { entryText, ipv4At, transferables, type FlowBatch } from './flow-batch.js';
import { FieldKind } from './fields.js';
import { seededRandom } from '../../../tests/helpers/seeded-random.js';
import { SHARED } from '../../../testdata/shared.js';

/** the shared sample collection (peers' fixtures too), read in place when this machine has it */
const SHARED_SAMPLES = `${SHARED}/aws-log-samples`;
const logInfo = { aws_account_alias: '', log_file: 'k', s3bucket: 'b' };

interface Outcome {
  events: AwsEvent[];
  errors: string[];
  discarded: number;
  thrown: string | undefined;
  batches: FlowBatch[];
}

type Ctx = Partial<DecodeContext> & { handler?: boolean };

function feed(push: (b: Buffer) => unknown[], end: () => unknown[], bytes: Buffer, cuts: number[]): { items: unknown[]; thrown: string | undefined } {
  const items: unknown[] = [];
  try {
    let at = 0;
    for (const cut of [...cuts, bytes.length]) {
      if (cut < at) continue;
      items.push(...push(bytes.subarray(at, cut)));
      at = cut;
    }
    items.push(...end());
    return { items, thrown: undefined };
  } catch (e) {
    return { items, thrown: `${(e as Error).name}: ${(e as { code?: string }).code ?? ''} ${(e as Error).message}` };
  }
}

function context(extra: Ctx, errors: string[], count: () => void): DecodeContext {
  const { handler = true, ...rest } = extra;
  return { bucketType: 'vpcflow', logInfo, accountId: '111122223333', onDiscard: count, ...(handler ? { onRecordError: (l: number, m: string) => errors.push(`${l}: ${m}`) } : {}), ...rest };
}

function viaEvents(bytes: Buffer, cuts: number[], extra: Ctx = {}): Outcome {
  const errors: string[] = [];
  let discarded = 0;
  const d = new VpcFlowDecoder(context(extra, errors, () => discarded++));
  const { items, thrown } = feed((b) => d.push(b), () => d.end(), bytes, cuts);
  return { events: items as AwsEvent[], errors, discarded, thrown, batches: [] };
}

function viaColumns(bytes: Buffer, cuts: number[], extra: Ctx = {}, batchRows?: number): Outcome {
  const errors: string[] = [];
  let discarded = 0;
  const d = new VpcColumnDecoder(context(extra, errors, () => discarded++), batchRows === undefined ? {} : { batchRows });
  const { items, thrown } = feed((b) => d.push(b), () => d.end(), bytes, cuts);
  const batches = items as FlowBatch[];
  return { events: batches.flatMap(eventsOf), errors, discarded, thrown, batches };
}

/** JSON that keeps key order and undefined-valued keys */
const exact = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (x === undefined ? '\u0000undefined' : x));

function assertSame(bytes: Buffer, cuts: number[], extra: Ctx = {}, batchRows?: number, what = ''): Outcome {
  const want = viaEvents(bytes, cuts, extra);
  const got = viaColumns(bytes, cuts, extra, batchRows);
  assert.equal(got.thrown, want.thrown, `${what}: failure`);
  assert.deepEqual(got.errors, want.errors, `${what}: record errors`);
  assert.equal(got.discarded, want.discarded, `${what}: discarded`);
  assert.equal(got.events.length, want.events.length, `${what}: event count`);
  for (let i = 0; i < want.events.length; i++) {
    if (exact(got.events[i]) !== exact(want.events[i])) assert.equal(exact(got.events[i]), exact(want.events[i]), `${what}: event ${i}`);
  }
  assert.deepEqual(got.events, want.events, what);
  // batches number the records of the object without gaps
  let next = 0;
  for (const b of got.batches) {
    assert.equal(b.firstIndex, next, `${what}: firstIndex`);
    next += b.length;
  }
  return got;
}

function vpcFiles(root: string, out: string[] = []): string[] {
  if (!existsSync(root)) return out;
  for (const name of readdirSync(root)) {
    const p = join(root, name);
    if (statSync(p).isDirectory()) vpcFiles(p, out);
    else if (/vpc/i.test(p.slice(root.length)) || /vpc/i.test(p)) out.push(p);
  }
  return out;
}

test('every VPC sample file (ours, AWS docs, Elastic, Beats, Panther, Wazuh fixtures) decodes to the same events, errors and failures', () => {
  const files = [...vpcFiles(join(SAMPLES_DIR, 'vpcflow')), ...vpcFiles(SHARED_SAMPLES).filter((p) => !p.includes('/cloudtrail/'))];
  assert.ok(files.length >= 8, `sample files found: ${files.length}`);
  for (const file of files) {
    const raw = readFileSync(file);
    const bytes = file.endsWith('.gz') ? gunzipSync(raw) : raw;
    for (const cuts of [[], Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => i * 7)]) {
      assertSame(bytes, cuts, {}, undefined, file);
      assertSame(bytes, cuts, { handler: false }, 3, file);
    }
  }
});

test('the benchmark corpus (default and custom v5 format) decodes to the same events, in batches of the size asked', () => {
  for (const format of ['default', 'custom'] as const) {
    const bytes = Buffer.from(vpcText(5000, format, 11));
    const cuts = Array.from({ length: 40 }, (_, i) => i * 4099 + 1);
    const got = assertSame(bytes, cuts, {}, 1000, format);
    assert.deepEqual(got.batches.map((b) => b.length), [1000, 1000, 1000, 1000, 1000]);
  }
});


const HEADERS = [
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
  'version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status',
  'interface-id srcaddr dstaddr start end action',
  'version constructor srcaddr srcaddr some-future-field start',
  'resource-type tgw-id tgw-attachment-id srcaddr dstaddr packets-lost-no-route end',
];
const INT_LIKE = /^(version|srcport|dstport|protocol|packets|bytes|tcp-flags|traffic-path|packets-lost-.*)$/;

/** A random object: headers (also mid-file), good and bad records, blank lines, CRLF, BOM, odd bytes. */
function randomObject(r: () => number): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const parts: Buffer[] = [];
  const crlf = r() < 0.3;
  const nl = () => Buffer.from(crlf && r() < 0.9 ? '\r\n' : '\n');
  if (r() < 0.15) parts.push(Buffer.from([0xef, 0xbb, 0xbf]));
  let header = (r() < 0.15 ? HEADERS[0] : pick(HEADERS)) as string;
  const headerless = header === HEADERS[0] && r() < 0.3;
  if (!headerless) parts.push(Buffer.from(header), nl());
  const texts = ['ACCEPT', 'REJECT', 'OK', 'NODATA', 'eni-1', 'eni-é', '10.0.0.1', '10.0.0.01', '2001:db8::1', '255.255.255.255', '', 'x y', 'constructor', 'IPv4'];
  const lines = Math.floor(r() * 60);
  for (let i = 0; i < lines; i++) {
    const roll = r();
    if (roll < 0.04) {
      header = pick(HEADERS);
      parts.push(Buffer.from(header), nl());
      continue;
    }
    if (roll < 0.07) {
      parts.push(nl());
      continue;
    }
    const names = header.split(' ');
    const fields = names.map((n) => {
      const x = r();
      if (x < 0.1) return '-';
      if (n === 'start' || n === 'end') return x < 0.13 ? pick(['-5', '8640000000001', '', '1e3']) : String(1750962159 + Math.floor(r() * 1000));
      if (INT_LIKE.test(n)) return x < 0.13 ? pick(['12x', '', '9007199254740993', '00000000000000007', '٣']) : String(Math.floor(r() * (r() < 0.5 ? 70000 : 1e12)));
      if (n.endsWith('addr')) return x < 0.5 ? `${Math.floor(r() * 256)}.${Math.floor(r() * 3)}.0.${Math.floor(r() * 4)}` : pick(texts);
      return pick(texts);
    });
    if (r() < 0.05) fields.push('extra');
    if (r() < 0.05) fields.pop();
    let line = Buffer.from(fields.join(' '));
    if (r() < 0.03) line = Buffer.concat([line, Buffer.from([0xc3])]); // a cut UTF-8 sequence
    if (r() < 0.02) line = Buffer.concat([Buffer.from([0xff, 0x41]), line]);
    parts.push(line);
    if (i < lines - 1 || r() < 0.7) parts.push(nl());
  }
  return Buffer.concat(parts);
}

test('randomized objects, chunk boundaries and batch sizes: the same events, record errors, discards and failures', () => {
  const r = seededRandom(20251127);
  const discards = [undefined, { field: 'action', regex: 'REJ|-' }, { field: 'dstport', regex: '22' }, { field: 'start', regex: '2025-06-26T18:2' }, { field: 'srcaddr', regex: '10\\.0' }];
  for (let t = 0; t < 1500; t++) {
    const bytes = randomObject(r);
    const cuts = Array.from({ length: Math.floor(r() * 8) }, () => Math.floor(r() * (bytes.length + 1))).sort((a, b) => a - b);
    const discard = discards[Math.floor(r() * discards.length)];
    const extra: Ctx = { handler: r() < 0.8, ...(discard ? { discard } : {}) };
    assertSame(bytes, cuts, extra, 1 + Math.floor(r() * 20), `case ${t}: ${JSON.stringify(bytes.toString('latin1').slice(0, 300))} cuts ${cuts}`);
  }
});

test('over-long lines: reported once with their number (in characters, multi-byte ones too) and skipped whole', () => {
  const header = 'version interface-id srcaddr end';
  const long = (fill: string) => `2 eni-1 ${fill} 1418530070`;
  const ascii = long('9'.repeat(MAX_LINE_CHARS + 10));
  // more bytes than the limit but fewer characters: a line like any other (a text field too long to bother)
  const wide = long('é'.repeat(MAX_LINE_CHARS / 2 + 1000));
  for (const cuts of [[], [64 * 1024, 300_000, 900_000, 1_500_000, 2_100_000], Array.from({ length: 40 }, (_, i) => i * 65_537)]) {
    assertSame(Buffer.from(`${header}\n2 eni-0 10.0.0.1 1\n${ascii}\n2 eni-2 10.0.0.2 2\n${wide}\r\n2 eni-3 - -\n`), cuts, {}, undefined, 'long');
    assertSame(Buffer.from(`${header}\n${ascii}`), cuts, {}, undefined, 'long last line');
    assertSame(Buffer.from(`${header}\n${ascii}\n2 eni-9 - 3\n`), cuts, { handler: false }, undefined, 'long, no handler');
    assertSame(Buffer.from(`${ascii}\n${header}\n`), cuts, {}, undefined, 'long before the header');
  }
});

test('columns: numbers as numbers (NaN absent), text as dictionary codes (0 absent), IPv4 addresses as numbers; transferables list every buffer', () => {
  const text = 'version srcaddr dstaddr start action\n2 10.0.0.1 2001:db8::1 1418530010 ACCEPT\n2 - 10.0.0.1 - ACCEPT\n3 192.168.1.255 010.0.0.1 1418530070 -\n';
  const { batches } = viaColumns(Buffer.from(text), []);
  assert.equal(batches.length, 1);
  const b = batches[0] as FlowBatch;
  assert.equal(b.length, 3);
  const [version, src, dst, start, action] = b.columns;
  assert.ok(version?.kind === FieldKind.Int && start?.kind === FieldKind.Time && src?.kind === FieldKind.Text && dst?.kind === FieldKind.Text && action?.kind === FieldKind.Text);
  assert.deepEqual([...version.values], [2, 2, 3]);
  assert.deepEqual([...start.values], [1418530010, NaN, 1418530070]);
  assert.deepEqual([...action.codes].map((c) => (c === 0 ? null : action.dict[c])), ['ACCEPT', 'ACCEPT', null]);
  assert.equal(action.codes[0], action.codes[1], 'one dictionary entry per distinct text');
  assert.deepEqual([0, 1, 2].map((row) => ipv4At(b, 1, row)), [0x0a000001, -1, 0xc0a801ff]);
  assert.deepEqual([0, 1, 2].map((row) => ipv4At(b, 2, row)), [-1, 0x0a000001, -1], 'IPv6 and a dotted quad with a leading zero are text only');
  assert.equal(ipv4At(b, 4, 0), -1, 'not an address column');
  assert.equal(transferables(b).length, 1 + 2, 'one buffer for every column, plus the IPv4 numbers of the two address columns');
  assert.ok(b.columns.every((c) => (c.kind === FieldKind.Text ? c.codes : c.values).buffer === transferables(b)[0]), 'the columns share that buffer');
  assert.equal(materialize(b, 1).aws.dstaddr, '10.0.0.1');
  assert.equal(materialize(b, 0).aws.start, '2014-12-14T04:06:50Z');
});

test('rowsHint: the first batch starts with room for that many rows and grows past them; a batch leaves with a buffer of its rows\' size', () => {
  const text = vpcText(3000, 'default', 5);
  const rowBytes = 8 * 8 + 4 * 6; // the default format: eight number columns, six text columns (account, ENI, addresses, action, status)
  const decode = (opts: { rowsHint?: number; batchRows?: number }) => {
    const d = new VpcColumnDecoder(context({}, [], () => {}), opts);
    return [...d.push(Buffer.from(text)), ...d.end()];
  };
  const reference = decode({});
  for (const opts of [{ rowsHint: 1 }, { rowsHint: 2999 }, { rowsHint: 100_000 }, { rowsHint: 5000, batchRows: 1000 }]) {
    const batches = decode(opts);
    assert.deepEqual(batches.flatMap((b) => eventsOf(b)), reference.flatMap((b) => eventsOf(b)), JSON.stringify(opts));
    for (const b of batches) {
      const columns = transferables(b)[0] as ArrayBuffer;
      assert.ok(columns.byteLength >= b.length * rowBytes && columns.byteLength * 3 <= b.length * rowBytes * 4 + 3, `${JSON.stringify(opts)}: ${columns.byteLength} bytes for ${b.length} rows`);
    }
  }
  assert.equal(transferables(decode({ rowsHint: 100_000 })[0] as FlowBatch)[0]!.byteLength, 3000 * rowBytes, 'a hint far above the rows: copied to their size');
});

test('addresses: one dictionary entry per distinct text, read as a number while scanned or from the bytes (CRLF, leading zeros, IPv6)', () => {
  // the last column ends in CR on CRLF lines, so its address is read from the bytes; it must meet the entry made while scanning
  const text = 'version dstaddr srcaddr\r\n2 10.0.0.1 10.0.0.1\r\n2 010.0.0.1 10.0.0.1\n2 10.0.0.1 010.0.0.1\r\n2 2001:db8::1 2001:db8::1\r\n2 1.2.3.4.5 256.1.1.1\r\n';
  const { batches } = viaColumns(Buffer.from(text), []);
  const b = batches[0] as FlowBatch;
  const [, dst, src] = b.columns;
  assert.ok(dst?.kind === FieldKind.Text && src?.kind === FieldKind.Text);
  const texts = (c: typeof dst) => [...c.codes].map((code) => entryText(c, code));
  assert.deepEqual(texts(dst), ['10.0.0.1', '010.0.0.1', '10.0.0.1', '2001:db8::1', '1.2.3.4.5'], 'the exact text of every address');
  assert.deepEqual(texts(src), ['10.0.0.1', '10.0.0.1', '010.0.0.1', '2001:db8::1', '256.1.1.1']);
  assert.equal(dst.dict.length - 1, 4, 'one entry per distinct text');
  assert.equal(src.dict.length - 1, 4);
  assert.equal(src.codes[0], src.codes[1], 'CRLF and LF lines share the entry');
  assert.deepEqual([0, 1, 2, 3, 4].map((row) => ipv4At(b, 2, row)), [0x0a000001, 0x0a000001, -1, -1, -1]);
  assert.deepEqual([0, 1, 2, 3, 4].map((row) => ipv4At(b, 1, row)), [0x0a000001, -1, 0x0a000001, -1, -1]);
});

test('a batch can be posted to another thread: the buffers move and the copy materializes the same events', async () => {
  const { batches } = viaColumns(Buffer.from(vpcText(300, 'custom', 5)), [], {}, 128);
  const want = batches.map(eventsOf);
  const { port1, port2 } = new MessageChannel();
  const received: FlowBatch[] = [];
  const done = new Promise<void>((resolve) =>
    port2.on('message', (b: FlowBatch) => {
      received.push(b);
      if (received.length === batches.length) resolve();
    }),
  );
  for (const b of batches) port1.postMessage(b, transferables(b));
  await done;
  port1.close();
  assert.equal(batches[0]?.columns[0]?.kind === FieldKind.Int && batches[0].columns[0].values.length, 0, 'moved, not copied');
  assert.equal(exact(received.map(eventsOf)), exact(want));
});
