/**
 * Dashboard authentication: scrypt password hashes (`scrypt$N$r$p$salt$hash`), bearer tokens, and
 * server-side sessions in Secure, HttpOnly, SameSite=Strict cookies. Sign-in only accepts JSON bodies, which
 * a cross-site form cannot send, so together with SameSite=Strict the API is CSRF-safe.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifyPassword(password: string, stored: string): boolean {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const got = scryptSync(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return got.length === expected.length && timingSafeEqual(got, expected);
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** In-memory sessions (a restart signs everybody out). */
export class Sessions {
  readonly #ttlMs: number;
  readonly #sessions = new Map<string, number>();
  constructor(ttlMs = 12 * 3_600_000) {
    this.#ttlMs = ttlMs;
  }
  create(): string {
    const id = randomBytes(32).toString('base64url');
    this.#sessions.set(id, Date.now() + this.#ttlMs);
    return id;
  }
  valid(id: string | undefined): boolean {
    if (!id) return false;
    const until = this.#sessions.get(id);
    if (until === undefined) return false;
    if (until < Date.now()) {
      this.#sessions.delete(id);
      return false;
    }
    return true;
  }
  drop(id: string | undefined): void {
    if (id) this.#sessions.delete(id);
  }
}
