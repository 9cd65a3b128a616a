/**
 * CDB lists as Wazuh reads them: one `key:value` per line (`key:` or `key` alone allowed; `#` comments).
 * Lookups: match_key / not_match_key (exact key), match_key_value (key exists and its value matches a regex),
 * address_match_key / not_address_match_key (an IP against keys that are addresses, CIDR blocks or
 * dotted prefixes such as `10.0.`).
 */
import { readFileSync } from 'node:fs';
import type { ListCondition } from './rule-types.js';

export interface CdbList {
  path: string;
  map: Map<string, string>;
  /** for address lookups: [network as 32-bit int, mask bits] */
  networks: [number, number][];
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

/** Reads a list file; throws an Error naming file and line on malformed lines. */
export function loadCdbList(path: string): CdbList {
  const map = new Map<string, string>();
  const networks: [number, number][] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    let key: string;
    let value = '';
    if (line.startsWith('"')) {
      const end = line.indexOf('"', 1);
      if (end < 0) throw new Error(`${path}:${i + 1}: unterminated quoted key`);
      key = line.slice(1, end);
      value = line.slice(end + 1).replace(/^:/, '');
    } else {
      const colon = line.indexOf(':');
      key = colon < 0 ? line : line.slice(0, colon);
      value = colon < 0 ? '' : line.slice(colon + 1);
    }
    map.set(key, value);
    const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(key);
    if (cidr) {
      const ip = ipv4(cidr[1] ?? '');
      if (ip !== undefined) networks.push([ip, Number(cidr[2])]);
    } else {
      const prefix = key.replace(/\.$/, '').split('.');
      if (prefix.length >= 1 && prefix.length <= 4 && prefix.every((p) => /^\d{1,3}$/.test(p))) {
        const full = [...prefix, '0', '0', '0', '0'].slice(0, 4).join('.');
        const ip = ipv4(full);
        if (ip !== undefined) networks.push([ip, prefix.length * 8]);
      }
    }
  });
  return { path, map, networks };
}

/** The value of the key an address falls under (an exact key, a CIDR block or a dotted prefix), if any. */
export function addressValue(list: CdbList, address: string): string | undefined {
  const exact = list.map.get(address);
  if (exact !== undefined) return exact;
  const ip = ipv4(address);
  if (ip === undefined) return undefined;
  for (const [net, bits] of list.networks) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if (((ip & mask) >>> 0) === ((net & mask) >>> 0)) return list.map.get(keyOfNetwork(list, net, bits)) ?? '';
  }
  return undefined;
}

/** The key a network entry came from (for its value). */
function keyOfNetwork(list: CdbList, net: number, bits: number): string {
  const dotted = [net >>> 24, (net >>> 16) & 255, (net >>> 8) & 255, net & 255];
  const cidr = `${dotted.join('.')}/${bits}`;
  if (list.map.has(cidr)) return cidr;
  const prefix = dotted.slice(0, bits / 8).join('.');
  return list.map.has(prefix) ? prefix : `${prefix}.`;
}

export function addressInList(list: CdbList, address: string): boolean {
  return addressValue(list, address) !== undefined;
}

/**
 * Whether a `<list>` condition holds for a field's text (`undefined`: the field is absent). An absent field
 * matches no lookup, `not_match_key` included: analysisd returns before the lookup when FindField finds
 * nothing (rules.c OS_CheckIfRuleMatch, `RULE_DYNAMIC`). `check_value` is an OS_Match pattern on the value.
 */
export function listHolds(l: ListCondition, v: string | undefined): boolean {
  if (v === undefined) return false;
  switch (l.lookup) {
    case 'match_key':
      return l.list.map.has(v);
    case 'not_match_key':
      return !l.list.map.has(v);
    case 'match_key_value':
    case 'not_match_key_value': {
      const val = l.list.map.get(v);
      const hit = val !== undefined && (!l.check || l.check.test(val));
      return l.lookup === 'match_key_value' ? hit : !hit;
    }
    case 'address_match_key':
      return addressInList(l.list, v);
    case 'not_address_match_key':
      return !addressInList(l.list, v);
    case 'address_match_key_value': {
      const val = addressValue(l.list, v);
      return val !== undefined && (!l.check || l.check.test(val));
    }
  }
}
