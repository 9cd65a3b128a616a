import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AwsEvent } from '../../shared/events.js';
import type { DecodeContext } from '../decoder.js';
import { ObjectDecodeError } from '../errors.js';
import { FindingsDecoder, type FindingsMode } from './decode.js';

const logInfo = { aws_account_alias: '', log_file: 'k', s3bucket: 'b' };
const f = (e: AwsEvent | undefined) => (e?.aws ?? {}) as Record<string, any>;

function finding(title: string, extra: Record<string, unknown> = {}) {
  return { schemaVersion: '2.0', accountId: '123456789012', id: title, type: 'Recon:EC2/PortProbeUnprotectedPort', title, severity: 2, service: { serviceName: 'guardduty' }, ...extra };
}
const envelope = (detail: unknown, source = 'aws.guardduty') => JSON.stringify({ version: '0', id: 'x', 'detail-type': 'GuardDuty Finding', source, account: '1', detail });

interface Run {
  events: AwsEvent[];
  errors: string[];
  error?: ObjectDecodeError;
}
function run(text: string, extra: Partial<DecodeContext> = {}, piece = 0, mode: FindingsMode = 'guardduty'): Run {
  const errors: string[] = [];
  const d = new FindingsDecoder({ bucketType: 'guardduty', logInfo, onRecordError: (l, m) => errors.push(`${l}: ${m}`), ...extra }, mode);
  const bytes = Buffer.from(text);
  const events: AwsEvent[] = [];
  const size = piece || bytes.length || 1;
  try {
    for (let at = 0; at < bytes.length; at += size) events.push(...d.push(bytes.subarray(at, at + size)));
    events.push(...d.end());
  } catch (e) {
    assert.ok(e instanceof ObjectDecodeError, String(e));
    return { events, errors, error: e };
  }
  return { events, errors };
}

test('"}{" and escaped quotes inside strings do not split objects; any framing, any chunking', () => {
  const title = 'a}{b "q\\"}{" \\\\';
  const tricky = envelope(finding(title, { description: '{"not":"json"}' }));
  const plain = envelope(finding('c'));
  const pretty = JSON.stringify(JSON.parse(envelope(finding('d'))), null, 2);
  const text = `${tricky}${plain}\n\n ${pretty}\r\n`;
  const whole = run(text);
  assert.equal(whole.error, undefined);
  assert.deepEqual(whole.events.map((e) => f(e).title), [title, 'c', 'd']);
  assert.deepEqual(run(text, {}, 1).events, whole.events);
  assert.deepEqual(run(text, {}, 17).events, whole.events);
});

test('a truncated last object: the complete ones are emitted, then an error naming the byte offset', () => {
  const first = envelope(finding('a'));
  const r = run(first + envelope(finding('b')).slice(0, 50), {}, 64);
  assert.deepEqual(r.events.map((e) => f(e).title), ['a']);
  assert.equal(r.error?.code, 'TLD_ERR_DECODE_JSON');
  assert.equal(r.error?.offset, Buffer.byteLength(first));
  assert.match(r.error?.message ?? '', new RegExp(`inside the object that starts at byte ${Buffer.byteLength(first)} \\(1 complete objects before it were read\\)`));
});

test('an object JSON.parse refuses is reported with line and offset and skipped; without a handler the object fails after the good events', () => {
  const bad = '{"detail": {"a": tru}}';
  const text = `${envelope(finding('a'))}\n${bad}\n${envelope(finding('c'))}\n`;
  const r = run(text);
  assert.deepEqual(r.events.map((e) => f(e).title), ['a', 'c']);
  assert.equal(r.errors.length, 1);
  const at = Buffer.byteLength(envelope(finding('a'))) + 1;
  assert.match(r.errors[0] ?? '', new RegExp(`^2: object 2 \\(from byte ${at}\\) is not valid JSON: .*; object skipped$`));
  const errors: string[] = [];
  const d = new FindingsDecoder({ bucketType: 'guardduty', logInfo });
  const events = d.push(Buffer.from(text));
  assert.deepEqual(events.map((e) => f(e).title), ['a'], 'events before the bad object are returned; reading stops there');
  assert.throws(() => d.end(), (e: unknown) => e instanceof ObjectDecodeError && e.code === 'TLD_ERR_DECODE_JSON');
  assert.deepEqual(errors, []);
});

test('top-level garbage, empty content and PascalCase findings are object errors with plain messages', () => {
  const garbage = run(`${envelope(finding('a'))} nonsense`);
  assert.deepEqual(garbage.events.map((e) => f(e).title), ['a']);
  assert.equal(garbage.error?.code, 'TLD_ERR_DECODE_JSON');
  assert.match(garbage.error?.message ?? '', /expected '\{' at byte \d+ \(line 1\), found 'n' \(after 1 complete objects\)/);
  assert.equal(run('  \n').error?.code, 'TLD_ERR_DECODE_EMPTY_OBJECT');
  const pascal = run(JSON.stringify({ SchemaVersion: '2.0', AccountId: '1', Service: { ServiceName: 'guardduty' } }));
  assert.equal(pascal.error?.code, 'TLD_ERR_DECODE_FORMAT');
  assert.match(pascal.error?.message ?? '', /PascalCase finding \(AWS SDK or Security Hub ASFF style/);
  assert.equal(run(JSON.stringify({ Findings: [] })).error?.code, 'TLD_ERR_DECODE_FORMAT');
});

test('envelopes: source without "aws.", envelope fields dropped, envelopes without detail skipped, native bare findings', () => {
  const text = [
    envelope(finding('a')),
    JSON.stringify({ version: '0', 'detail-type': 'Scheduled Event', source: 'aws.events' }),
    JSON.stringify(finding('bare', { service: { serviceName: 'guardduty', count: 3 } })),
  ].join('\n');
  const r = run(text);
  assert.deepEqual(r.events.map((e) => [f(e).title, f(e).source]), [['a', 'guardduty'], ['bare', 'guardduty']]);
  assert.deepEqual(Object.keys(f(r.events[0])), ['log_info', 'schemaVersion', 'accountId', 'id', 'type', 'title', 'severity', 'service', 'source']);
  const at = Buffer.byteLength(envelope(finding('a'))) + 1;
  assert.deepEqual(r.errors, [`2: object 2 (from byte ${at}) skipped: EventBridge event without "detail"`]);
  const custom = run(text, {}, 0, 'custom');
  assert.deepEqual(custom.events.map((e) => f(e).title), ['a'], 'custom buckets keep only envelopes with detail');
  const macie = run(envelope({ summary: 'x', tags: 'k=v', nothing: null }, 'aws.macie'), {}, 0, 'custom');
  const { log_info: _l, ...m } = f(macie.events[0]);
  assert.deepEqual(m, { summary: 'x', tags: { value: 'k=v' }, source: 'macie' });
});

test('port probe: one event per entry, each reshaped independently (deep copies), single entry unwrapped', () => {
  const nic = { networkInterfaces: [{ privateIpAddress: '10.0.0.1', securityGroups: [{ groupId: 'sg-1' }] }] };
  const probe = (n: number) =>
    finding('p', {
      resource: { instanceDetails: nic },
      service: {
        serviceName: 'guardduty',
        action: { actionType: 'PORT_PROBE', portProbeAction: { blocked: false, portProbeDetails: Array.from({ length: n }, (_, i) => ({ localPortDetails: { port: 20 + i }, remoteIpDetails: { ipAddressV4: `198.51.100.${i}` } })) } },
      },
    });
  const three = run(envelope(probe(3))).events;
  assert.equal(three.length, 3);
  assert.deepEqual(three.map((e) => f(e).service.action.portProbeAction.portProbeDetails.localPortDetails.port), [20, 21, 22]);
  assert.deepEqual(three.map((e) => f(e).service.action.portProbeAction.portProbeDetails.remoteIpDetails.ipAddressV4), ['198.51.100.0', '198.51.100.1', '198.51.100.2']);
  for (const e of three) {
    assert.deepEqual(f(e).resource.instanceDetails.networkInterfaces, { privateIpAddress: '10.0.0.1', securityGroups: [{ groupId: 'sg-1' }] }, 'same shape in every copy');
  }
  const one = run(envelope(probe(1))).events;
  assert.equal(one.length, 1);
  assert.equal(f(one[0]).service.action.portProbeAction.portProbeDetails.localPortDetails.port, 20);
  assert.deepEqual(f(one[0]).resource.instanceDetails, f(three[0]).resource.instanceDetails);
});

test('discard_regex sees the raw record with its source; a __proto__ key stays data', () => {
  const text = [envelope(finding('a', { partition: 'aws' })), envelope(finding('b', { partition: 'aws-cn' })), envelope(finding('c'), 'aws.macie')].join('');
  let discarded = 0;
  const byPartition = run(text, { discard: { field: 'partition', regex: 'aws-' }, onDiscard: () => discarded++ });
  assert.deepEqual(byPartition.events.map((e) => f(e).title), ['a', 'c']);
  assert.equal(discarded, 1);
  assert.deepEqual(run(text, { discard: { field: 'source', regex: 'mac' } }).events.map((e) => f(e).title), ['a', 'b']);
  const proto = run('{"detail":{"__proto__":{"polluted":1},"type":"t"},"source":"aws.guardduty"}').events;
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(proto[0]!.aws), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(proto[0]!.aws, '__proto__')?.value, { polluted: 1 });
});

test('Firehose object with one invalid record among good ones (no delimiter): reported with its number, offset and cause; the others kept', () => {
  const bad = '{"version":"0","detail":{"id": "x", }}';
  const text = envelope(finding('a')) + bad + envelope(finding('c')) + envelope(finding('d'));
  const at = Buffer.byteLength(envelope(finding('a')));
  for (const piece of [0, 1, 100]) {
    const infos: unknown[] = [];
    const r = run(text, { onRecordError: (l, m, info) => infos.push([l, m, info]) }, piece);
    assert.equal(r.error, undefined);
    assert.deepEqual(r.events.map((e) => f(e).title), ['a', 'c', 'd']);
    assert.equal(infos.length, 1);
    const [line, message, info] = infos[0] as [number, string, { record: number; offset: number; cause: string }];
    assert.equal(line, 1);
    assert.match(message, new RegExp(`^object 2 \\(from byte ${at}\\) is not valid JSON: .+; object skipped$`));
    assert.deepEqual({ record: info.record, offset: info.offset }, { record: 2, offset: at });
    assert.match(info.cause, /is not valid JSON/);
  }
});

test('a finding larger than 4 MiB is reported and skipped without being held; the findings after it are read', () => {
  const huge = envelope(finding('huge', { description: 'x'.repeat(5 * 1024 * 1024) }));
  const text = [envelope(finding('a')), huge, envelope(finding('c'))].join('\n');
  const r = run(text, {}, 256 * 1024);
  assert.equal(r.error, undefined);
  assert.deepEqual(r.events.map((e) => f(e).title), ['a', 'c']);
  const at = Buffer.byteLength(envelope(finding('a'))) + 1;
  assert.deepEqual(r.errors, [`2: object 2 (from byte ${at}) is larger than ${4 * 1024 * 1024} bytes; object skipped`]);
});
