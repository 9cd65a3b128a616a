/**
 * How the store keeps object ids as numbers (see schema.ts): an object id ↔ UBIGINT. Addresses are numbers by the
 * rule of src/shared/ipv4.ts (only text that comes back exactly as it was), so `ip_text` gives back what the log said.
 */
import { createHash } from 'node:crypto';

const HEX16 = /^[0-9a-f]{16}$/;

/**
 * The flows table's `object_id` of an ObjectRef.objectId: its 16 hex digits as a number. An id of another shape
 * (tests, tools) is stored as the first 16 hex digits of its SHA-1, the same way each time.
 */
export function objectKey(objectId: string): bigint {
  return BigInt(`0x${HEX16.test(objectId) ? objectId : createHash('sha1').update(objectId).digest('hex').slice(0, 16)}`);
}
