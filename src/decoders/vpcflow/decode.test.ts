import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AwsEvent } from '../../shared/events.js';
import type { DecodeContext } from '../decoder.js';
import { ObjectDecodeError } from '../errors.js';
import { MAX_LINE_CHARS, VpcFlowDecoder } from './decode.js';

const logInfo = { aws_account_alias: '', log_file: 'k', s3bucket: 'b' };
const HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const LINE = '2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';

function run(text: string, extra: Partial<DecodeContext> = {}, piece = 0): { events: AwsEvent[]; errors: string[]; discarded: number } {
  const errors: string[] = [];
  let discarded = 0;
  const d = new VpcFlowDecoder({ bucketType: 'vpcflow', logInfo, onRecordError: (l, m) => errors.push(`${l}: ${m}`), onDiscard: () => discarded++, ...extra });
  const bytes = Buffer.from(text);
  const events: AwsEvent[] = [];
  const size = piece || bytes.length || 1;
  for (let at = 0; at < bytes.length; at += size) events.push(...d.push(bytes.subarray(at, at + size)));
  events.push(...d.end());
  return { events, errors, discarded };
}
/** An event's fields as they are written out (JSON): absent (`-`) fields do not appear. */
const f = (e: AwsEvent | undefined) => JSON.parse(JSON.stringify(e?.aws ?? {})) as Record<string, unknown>;

test('chunks may split lines and multi-byte characters anywhere: byte-at-a-time gives the same events', () => {
  const text = `${HEADER}\n${LINE}\n${LINE.replace('eni-1', 'eni-é')}\r\n${LINE}`;
  const whole = run(text);
  assert.equal(whole.events.length, 3);
  assert.deepEqual(run(text, {}, 1).events, whole.events);
  assert.deepEqual(run(text, {}, 13).events, whole.events);
  assert.equal(f(whole.events[1]).interface_id, 'eni-é');
  assert.equal(f(whole.events[1]).log_status, 'OK', 'CRLF stripped');
  assert.equal(f(whole.events[2]).log_status, 'OK', 'last line without newline');
});

test('a later header line re-sets the columns; blank lines are ignored', () => {
  const text = `${HEADER}\n${LINE}\n\nversion srcaddr tcp-flags log-status\n3 10.0.0.9 18 OK\n`;
  const { events, errors } = run(text);
  assert.deepEqual(errors, []);
  assert.equal(events.length, 2);
  const { log_info: _l, ...second } = f(events[1]);
  assert.deepEqual(second, { version: 3, srcaddr: '10.0.0.9', tcp_flags: 18, log_status: 'OK', source: 'vpc' });
  const lettered = run('interface-id srcaddr\neni-1 10.0.0.1\ninterface-id dstaddr\neni-2 10.0.0.2\n').events;
  assert.deepEqual(lettered.map((e) => [f(e).interface_id, f(e).srcaddr, f(e).dstaddr]), [['eni-1', '10.0.0.1', undefined], ['eni-2', undefined, '10.0.0.2']]);
});

test('header-only and NODATA-only files; an empty object is an error', () => {
  assert.deepEqual(run(`${HEADER}\n`).events, []);
  const nodata = run(`${HEADER}\n2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA\n2 123456789010 eni-2 - - - - - - - 1431280876 1431280934 - SKIPDATA\n`);
  assert.deepEqual(nodata.events.map((e) => [f(e).interface_id, f(e).log_status, f(e).start, f(e).action]), [
    ['eni-1', 'NODATA', '2015-05-10T18:01:16Z', undefined],
    ['eni-2', 'SKIPDATA', '2015-05-10T18:01:16Z', undefined],
  ]);
  assert.throws(() => run(''), (e: unknown) => e instanceof ObjectDecodeError && e.code === 'TLD_ERR_DECODE_EMPTY_OBJECT');
  assert.throws(() => run('\n\r\n'), (e: unknown) => e instanceof ObjectDecodeError && e.code === 'TLD_ERR_DECODE_EMPTY_OBJECT');
});

test('a line whose field count differs from the header is reported with its number and skipped', () => {
  const text = `${HEADER}\n${LINE}\n${LINE} EXTRA\n${LINE.split(' ').slice(0, 13).join(' ')}\n${LINE}\n`;
  const { events, errors } = run(text);
  assert.equal(events.length, 2);
  assert.deepEqual(errors, ['3: 15 fields where the header has 14; line skipped', '4: 13 fields where the header has 14; line skipped']);
});

test('header-less: 14 fields read as the default format; anything else is a clear error', () => {
  const { events } = run(`${LINE}\n${LINE}\n`);
  assert.equal(events.length, 2);
  assert.equal(f(events[0]).dstport, 22);
  assert.equal(f(events[0]).end, '2014-12-14T04:07:50Z');
  assert.throws(() => run('2 10.0.0.1 10.0.0.2 ACCEPT OK\n'), /line 1 comes before any header line and has 5 fields/);
  assert.throws(() => run('hello world, this is not a flow log\n'), (e: unknown) => e instanceof ObjectDecodeError && e.code === 'TLD_ERR_DECODE_FORMAT');
});

test('values: "-" omitted, numbers typed, unknown future fields kept, IPv6 kept', () => {
  const text = 'version srcaddr packets start reject-reason some-future-field\n8 2001:db8::1 - 99999999999 BPA x-y\n8 - 9007199254740991 - - -\n';
  const { events, errors } = run(text);
  assert.deepEqual(errors, []);
  const { log_info: _a, ...a } = f(events[0]);
  assert.deepEqual(a, { version: 8, srcaddr: '2001:db8::1', start: '5138-11-16T09:46:39Z', reject_reason: 'BPA', some_future_field: 'x-y', source: 'vpc' });
  const { log_info: _b, ...b } = f(events[1]);
  assert.deepEqual(b, { version: 8, packets: Number.MAX_SAFE_INTEGER, source: 'vpc' });
});

test('text where a column holds a number is reported with the line, field and value, and the line skipped', () => {
  const text = `${HEADER}\n${LINE}\n${LINE.replace(' 20 4249 ', ' 12x 4249 ')}\n${LINE.replace('1418530010', '-5')}\n${LINE.replace(' 6 ', ' 9007199254740993 ')}\n${LINE.replace(' 22 ', ' "\u0007<b>\u0007 ')}\n${LINE}\n`;
  const { events, errors } = run(text, {}, 7);
  assert.equal(events.length, 2);
  assert.deepEqual(errors, [
    '3: field 9 (packets) is "12x", not a whole number; line skipped',
    '4: field 11 (start) is "-5", not Unix seconds; line skipped',
    '5: field 8 (protocol) is "9007199254740993", not a whole number; line skipped',
    '6: field 7 (dstport) is "\\"\\u0007<b>\\u0007", not a whole number; line skipped',
  ]);
});

test('a start/end past the latest time a Date holds is reported like other non-time text (it used to throw a RangeError)', () => {
  const { events, errors } = run('version start end\n2 8640000000000 1\n2 8640000000001 1\n2 1 99999999999999\n');
  assert.deepEqual(events.map((e) => f(e).start), ['+275760-09-13T00:00Z'], 'the latest second a Date holds (ISO text cut as for any year)');
  assert.deepEqual(errors, ['3: field 2 (start) is "8640000000001", not Unix seconds; line skipped', '4: field 3 (end) is "99999999999999", not Unix seconds; line skipped']);
});

test('an over-long line (no line break within the limit) is reported with its number and skipped whole; the lines after it are read', () => {
  const long = `2 123456789010 eni-1 ${'9'.repeat(MAX_LINE_CHARS + 10)} 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK`;
  const text = `${HEADER}\n${LINE}\n${long}\n${LINE.replace('eni-1', 'eni-after')}\n`;
  for (const piece of [64 * 1024, 256 * 1024]) {
    const { events, errors } = run(text, {}, piece);
    assert.deepEqual(events.map((e) => f(e).interface_id), ['eni-1', 'eni-after'], 'the long line is neither emitted nor split into records');
    assert.deepEqual(errors, [`3: longer than ${MAX_LINE_CHARS} characters; line skipped`]);
  }
  const last = run(`${HEADER}\n${LINE}\n${long}`, {}, 256 * 1024);
  assert.equal(last.events.length, 1);
  assert.equal(last.errors.length, 1, 'a long last line without a newline is reported once');
  assert.throws(() => run(`${long}\n${HEADER}\n`, {}, 256 * 1024), (e: unknown) => e instanceof ObjectDecodeError && /line 1 is longer than \d+ characters and comes before any header line/.test(e.message));
});

test('without an onRecordError handler a bad line fails the object after the events before it (never dropped unseen)', () => {
  const d = new VpcFlowDecoder({ bucketType: 'vpcflow', logInfo });
  const events = d.push(Buffer.from(`${HEADER}\n${LINE}\n2 x\n${LINE}\n`));
  assert.equal(events.length, 1);
  assert.throws(() => d.end(), (e: unknown) => e instanceof ObjectDecodeError && e.code === 'TLD_ERR_DECODE_FORMAT' && e.message === 'line 3: 2 fields where the header has 14');
});

test('aws_account_id comes from the key; header fields cannot overwrite the event’s own keys', () => {
  const { events } = run('version log-info source\n2 forged spoof\n', { accountId: '111122223333' });
  assert.deepEqual(Object.keys(f(events[0])), ['log_info', 'version', 'flow_log_info', 'flow_source', 'source', 'aws_account_id']);
  assert.equal(events[0]!.aws.log_info, logInfo, 'shared by reference, not copied');
  assert.equal(f(events[0]).aws_account_id, '111122223333');
});

test('discard_regex is tested on the raw text of the column (as Wazuh, whose VPC values are strings)', () => {
  const text = `${HEADER}\n${LINE}\n${LINE.replace(' 22 ', ' 2222 ')}\n${LINE.replace('ACCEPT', 'REJECT')}\n2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA\n`;
  // dstport per line: 22, 2222, 22, - (NODATA)
  assert.deepEqual(run(text, { discard: { field: 'dstport', regex: '22' } }).events.map((e) => f(e).dstport), [undefined], 'anchored at the start only: 22 and 2222 both match');
  assert.deepEqual(run(text, { discard: { field: 'dstport', regex: '22$' } }).events.map((e) => f(e).dstport), [2222, undefined]);
  assert.equal(run(text, { discard: { field: 'dstport', regex: '2$' } }).events.length, 4, 'not a search: must match from the first character');
  const byAction = run(text, { discard: { field: 'action', regex: 'REJ|-' } });
  assert.deepEqual(byAction.events.map((e) => f(e).action), ['ACCEPT', 'ACCEPT']);
  assert.equal(byAction.discarded, 2, 'the NODATA line has action "-" in the raw record');
  assert.equal(run(text, { discard: { field: 'start', regex: '2014-12' } }).events.length, 1, 'start is matched after conversion');
  assert.equal(run(text, { discard: { field: 'action.x', regex: '.*' } }).events.length, 4, 'a path into a string never matches');
  assert.equal(run(text, { discard: { field: 'nope', regex: '.*' } }).events.length, 4, 'a missing field never matches');
});

test('header names are data, never object internals: a constructor column is a plain field; __proto__ is no header', () => {
  const { events } = run('version constructor srcaddr\n2 y 10.0.0.1\n2 - 10.0.0.2\n');
  const aws = events[0]!.aws;
  assert.equal(Object.getPrototypeOf(aws), Object.prototype);
  assert.equal(aws.constructor, 'y');
  assert.deepEqual(Object.keys(f(events[1])), ['log_info', 'version', 'srcaddr', 'source']);
  assert.throws(() => run('version __proto__ srcaddr\n2 x 10.0.0.1\n'), /before any header line/);
});
