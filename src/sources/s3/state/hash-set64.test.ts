import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { HashSet64 } from './hash-set64.js';

function randomPairs(n: number): [number, number][] {
  const buf = randomBytes(n * 8);
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) out.push([buf.readUInt32BE(i * 8), buf.readUInt32BE(i * 8 + 4)]);
  return out;
}

test('agrees with a Set of strings on 50,000 random members and 50,000 non-members, through growth', () => {
  const members = randomPairs(50_000);
  const others = randomPairs(50_000);
  const set = new HashSet64();
  const ref = new Set<string>();
  for (const [hi, lo] of members) assert.equal(set.add(hi, lo), !ref.has(`${hi}:${lo}`) && (ref.add(`${hi}:${lo}`), true));
  assert.equal(set.size, ref.size);
  for (const [hi, lo] of members) assert.equal(set.has(hi, lo), true);
  for (const [hi, lo] of others) assert.equal(set.has(hi, lo), ref.has(`${hi}:${lo}`));
});

test('adding a member twice returns false and does not grow the set', () => {
  const set = new HashSet64();
  assert.equal(set.add(0xffffffff, 0x80000000), true);
  assert.equal(set.add(0xffffffff, 0x80000000), false);
  assert.equal(set.add(-1, -2147483648), false, 'signed forms of the same words are the same member');
  assert.equal(set.size, 1);
});

test('values sharing the low word (same start slot) are told apart by the high word', () => {
  const set = new HashSet64();
  for (let hi = 1; hi <= 40; hi++) set.add(hi, 7);
  for (let hi = 1; hi <= 40; hi++) assert.equal(set.has(hi, 7), true);
  assert.equal(set.has(41, 7), false);
  assert.equal(set.has(0, 7), false);
});

test('the zero value is stored (as 1) and does not make empty slots look occupied', () => {
  const set = new HashSet64();
  assert.equal(set.has(0, 0), false);
  set.add(0, 0);
  assert.equal(set.has(0, 0), true);
  assert.equal(set.has(0, 2), false);
});

test('toBytes/fromBytes round trip keeps exactly the members; bad lengths are refused', () => {
  const members = randomPairs(1000);
  const set = new HashSet64();
  for (const [hi, lo] of members) set.add(hi, lo);
  const back = HashSet64.fromBytes(set.toBytes());
  assert.equal(back.size, set.size);
  for (const [hi, lo] of members) assert.equal(back.has(hi, lo), true);
  for (const [hi, lo] of randomPairs(1000)) assert.equal(back.has(hi, lo), set.has(hi, lo));
  assert.throws(() => HashSet64.fromBytes(new Uint8Array(12)), /not a multiple of 8/);
});
