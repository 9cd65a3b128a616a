/**
 * Plain dotted-quad IPv4 text ↔ uint32, the one rule every stage uses (the store's address columns, the decoder's
 * address dictionaries, correlation window keys): only text that comes back exactly as it was is a number (no
 * leading zeros, each part 0–255), so turning the number back into text always gives what the log said.
 */

/** The uint32 of plain IPv4 text (`10.0.1.1` → 167772417); -1 for anything else (IPv6, `010.0.0.1`, junk). */
export function ipv4Number(text: string): number {
  const n = text.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || part > 255 || ++parts > 4) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && part === 0) return -1; // a leading zero would not come back as written
      part = part * 10 + (c - 48);
      if (++digits > 3) return -1;
    } else return -1;
  }
  return parts === 4 ? value : -1;
}

/** Dotted-quad text of a uint32. */
export function ipv4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
