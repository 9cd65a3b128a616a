import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipv4Number, ipv4Text } from '../shared/ipv4.js';
import { ipv4PairKey, ipv4Part, keyFromText, keyPart, keyText, windowKey } from './window-key.js';
import { createAnalyzer, loadRuleset } from './index.js';
import { VpcFlowDecoder } from '../decoders/vpcflow/decode.js';

// values a log can hold where a same_field reads: addresses, text that looks like one but is not written as one
// would be, and text starting with the characters a key uses
const VALUES = ['10.0.1.5', '0.0.0.0', '0.1.2.3', '255.255.255.255', '0.0.1.0', '010.0.1.5', '10.0.1', '10.0.1.5.6', '256.1.1.1', '2001:db8::1', '', '22', 'eni-0abc', '\u0001', '\u0001\u0000\u0001', '\u0002x', 'é', '\u0001ab', ipv4Part(167772421)];

test('a key gives back the values it was made of, as analysisd joins them', () => {
  for (const a of VALUES) {
    assert.equal(keyText(windowKey([a])!), a, JSON.stringify(a));
    for (const b of VALUES) {
      for (const c of ['443', '10.0.2.2']) {
        const values = [a, b, c];
        const key = windowKey(values)!;
        assert.equal(keyText(key), values.join('\u0000'), JSON.stringify(values));
        // the text of values holding the separator is ambiguous: only the others come back from it
        if (!values.some((v) => v.includes('\u0000'))) assert.equal(keyFromText(keyText(key)), key, JSON.stringify(values));
      }
    }
  }
  assert.equal(windowKey(['10.0.1.5', undefined]), undefined);
  assert.equal(windowKey([]), '');
});

test('different values make different keys: text is never taken for an address, nor a U+0000 in a value for the separator', () => {
  const seen = new Map<string, string>();
  for (const a of [...VALUES, 'a\u0000b', 'a']) {
    for (const b of [...VALUES, 'b\u0000c', 'c']) {
      const key = windowKey([a, b])!;
      const values = JSON.stringify([a, b]);
      assert.equal(seen.get(key) ?? values, values, `${values} and ${seen.get(key)} share a key`);
      seen.set(key, values);
    }
  }
});

test('an address is three characters, from its number or from its text alike; other text is kept as it is', () => {
  for (const text of ['10.0.1.5', '0.0.0.0', '255.255.255.255', '192.168.0.1']) {
    const n = ipv4Number(text);
    assert.equal(keyPart(text), ipv4Part(n));
    assert.equal(ipv4Part(n).length, 3);
    assert.equal(ipv4Text(n), text);
  }
  assert.equal(ipv4PairKey(ipv4Number('203.0.113.50'), ipv4Number('10.0.1.208')), windowKey(['203.0.113.50', '10.0.1.208']));
  assert.equal(keyPart('010.0.1.5'), '010.0.1.5');
  assert.equal(keyPart('2001:db8::1'), '2001:db8::1');
  assert.equal(keyPart('\u0001ab'), '\u0002"\\u0001ab"');
  assert.equal(keyPart('a\u0000b'), '\u0002"a\\u0000b"');
});

test('the correlation file keeps keys as they are in memory, and they give back the addresses', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-window-key-'));
  const rs = await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] });
  const a = createAnalyzer(rs, { logAlertLevel: 3, now: () => new Date('2026-01-01T00:00:00Z'), correlationDir: dir });
  await a.restoreCorrelation(0);
  const t = Date.parse('2025-06-26T03:10:00Z') / 1000;
  const text = ['version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status']
    .concat(Array.from({ length: 5 }, (_, i) => `2 111111111111 eni-0a1 203.0.113.50 10.0.1.208 4000${i} ${100 + i} 6 1 40 ${t + i} ${t + i + 1} REJECT OK`))
    .concat([`2 111111111111 eni-0a1 2001:db8::7 10.0.1.208 40000 22 6 1 40 ${t} ${t + 1} REJECT OK`])
    .join('\n');
  const d = new VpcFlowDecoder({ bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' } });
  const events = [...d.push(Buffer.from(`${text}\n`)), ...d.end()];
  a.analyze({ object: { bucket: 'b', key: 'k', objectId: 'o1', bucketType: 'vpcflow', size: 0 }, firstIndex: 0, events }, () => {});
  a.objectDone('o1', 1);
  await a.persistCorrelation(1, 1);
  await a.closeCorrelation();
  const lines = readFileSync(join(dir, 'correlation.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown[]);
  const keys = lines.filter((rec) => rec[0] === 'A' && rec[1] === '80640').flatMap((rec) => rec[2] as string[]);
  assert.deepEqual(keys.map(keyText).sort(), ['2001:db8::7\u000010.0.1.208', '203.0.113.50\u000010.0.1.208']);
  assert.ok(keys.includes(windowKey(['203.0.113.50', '10.0.1.208'])!));
});
