/**
 * Dashboard authentication: scrypt password hashes (`scrypt$N$r$p$salt$hash`), bearer tokens, and
 * server-side sessions in Secure, HttpOnly, SameSite=Strict cookies. Sign-in only accepts JSON bodies, which
 * a cross-site form cannot send, so together with SameSite=Strict the API is CSRF-safe.
 *
 * Password checks run `crypto.scrypt` in libuv's thread pool, never on the event loop the collector shares,
 * and a wrong user name costs the same scrypt as a wrong password (it is checked against a dummy hash with the
 * configured hash's parameters), so the response time does not tell a right user name from a wrong one.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;

/** A new hash for `<password_hash>` (the CLI's `tld dashboard hash-password`; blocking is fine there). */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

interface Parsed {
  params: { N: number; r: number; p: number };
  salt: Buffer;
  hash: Buffer;
}

function parse(stored: string): Parsed | undefined {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return undefined;
  return { params: { N: Number(n), r: Number(r), p: Number(p) }, salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
}

function scryptAsync(password: string, salt: Buffer, length: number, o: { N: number; r: number; p: number }): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; Node's default cap (32 MiB) would refuse a stronger hash than ours
  const options: ScryptOptions = { ...o, maxmem: 256 * o.N * o.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password, salt, length, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Checks a password against a stored hash in the thread pool; a malformed hash or bad parameters never match. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const h = parse(stored);
  if (!h || h.hash.length === 0) return false;
  let got: Buffer;
  try {
    got = await scryptAsync(password, h.salt, h.hash.length, h.params);
  } catch {
    return false;
  }
  return got.length === h.hash.length && timingSafeEqual(got, h.hash);
}

/** A hash of a random password with the same parameters and length as `like` (or ours): checking it costs the same. */
export async function dummyHashLike(like: string | undefined): Promise<string> {
  const h = (like && parse(like)) || undefined;
  const params = h && Number.isInteger(h.params.N) && h.params.N > 1 ? h.params : { N, r: R, p: P };
  const length = h?.hash.length || 32;
  const salt = randomBytes(h?.salt.length || 16);
  let hash: Buffer;
  try {
    hash = await scryptAsync(randomBytes(16).toString('base64'), salt, length, params);
  } catch {
    hash = randomBytes(length);
  }
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
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
  /** Signs everybody out (the password or user name changed). */
  clear(): void {
    this.#sessions.clear();
  }
}
