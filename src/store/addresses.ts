/**
 * How the store keeps addresses and object ids as numbers (see schema.ts): plain dotted-quad IPv4 text ↔ uint32,
 * and an object id ↔ UBIGINT. Only text that comes back exactly as it was is turned into a number (no leading
 * zeros, each part 0–255), so `ip_text` always gives back what the log said.
 */
import { createHash } from 'node:crypto';

export { ipv4Number, ipv4Text } from '../shared/ipv4.js';

const HEX16 = /^[0-9a-f]{16}$/;

/**
 * The flows table's `object_id` of an ObjectRef.objectId: its 16 hex digits as a number. An id of another shape
 * (tests, tools) is stored as the first 16 hex digits of its SHA-1, the same way each time.
 */
export function objectKey(objectId: string): bigint {
  return BigInt(`0x${HEX16.test(objectId) ? objectId : createHash('sha1').update(objectId).digest('hex').slice(0, 16)}`);
}
