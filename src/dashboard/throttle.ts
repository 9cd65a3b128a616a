/**
 * Sign-in throttling: failed sign-ins are counted per client address and per user name (any address);
 * past a limit that key is locked out for a while, doubling with each further failure up to a cap, and a
 * locked-out attempt is answered 429 without checking the password at all. Password checks also go through a
 * small gate, so a flood of sign-ins can occupy at most `concurrent` of libuv's threads (DuckDB and file
 * I/O use the same pool) and never queues without bound.
 */

export interface LoginLimits {
  /** failed sign-ins from one client address before that address is locked out */
  perAddress: number;
  /** failed sign-ins for one user name, from any address, before that name is locked out */
  perUser: number;
  /** first lockout; each further failure doubles it */
  lockoutMs: number;
  /** longest lockout */
  maxLockoutMs: number;
  /** a key's failures are forgotten this long after its last one */
  forgetMs: number;
  /** password checks running at once */
  concurrent: number;
  /** password checks waiting for the gate before new ones are turned away (429, retry in 1 s) */
  queue: number;
  /** keys remembered at most (oldest forgotten first) */
  maxKeys: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perAddress: 5,
  perUser: 10,
  lockoutMs: 60_000,
  maxLockoutMs: 15 * 60_000,
  forgetMs: 30 * 60_000,
  concurrent: 2,
  queue: 32,
  maxKeys: 10_000,
};

interface Entry {
  failures: number;
  last: number;
  lockedUntil: number;
}

export class LoginThrottle {
  #limits: LoginLimits;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limits: Partial<LoginLimits> = {}, now: () => number = Date.now) {
    this.#limits = { ...DEFAULT_LOGIN_LIMITS, ...limits };
    this.#now = now;
  }

  /** New limits (a reload): failures counted so far stay, and count against the new limits from the next one. */
  setLimits(limits: Partial<LoginLimits>): void {
    this.#limits = { ...DEFAULT_LOGIN_LIMITS, ...limits };
  }

  static addressKey(address: string): string {
    return `a:${address}`;
  }

  static userKey(user: string): string {
    return `u:${user.slice(0, 256)}`;
  }

  /** Milliseconds until these keys may try again (0: now). */
  retryAfterMs(keys: string[]): number {
    const now = this.#now();
    let wait = 0;
    for (const k of keys) {
      const e = this.#entries.get(k);
      if (e && e.lockedUntil > now) wait = Math.max(wait, e.lockedUntil - now);
    }
    return wait;
  }

  /** Counts a failed sign-in against each key, locking the keys past their limit; returns the keys locked now. */
  fail(keys: string[]): { key: string; ms: number }[] {
    const now = this.#now();
    const locked: { key: string; ms: number }[] = [];
    for (const k of keys) {
      const old = this.#entries.get(k);
      const e: Entry = old && now - old.last <= this.#limits.forgetMs ? old : { failures: 0, last: now, lockedUntil: 0 };
      e.failures++;
      e.last = now;
      const limit = k.startsWith('u:') ? this.#limits.perUser : this.#limits.perAddress;
      if (e.failures >= limit) {
        const doublings = Math.min(e.failures - limit, 30);
        const ms = Math.min(this.#limits.lockoutMs * 2 ** doublings, this.#limits.maxLockoutMs);
        e.lockedUntil = now + ms;
        locked.push({ key: k, ms });
      }
      this.#entries.delete(k); // re-inserted last: the map stays in order of last failure
      this.#entries.set(k, e);
    }
    this.#prune(now);
    return locked;
  }

  /** A successful sign-in clears its address (not the user name: others may still be guessing it). */
  succeed(addressKey: string): void {
    this.#entries.delete(addressKey);
  }

  /** Runs a password check through the gate; undefined when too many are already waiting. */
  async gate<T>(work: () => Promise<T>): Promise<T | undefined> {
    if (this.#running >= this.#limits.concurrent) {
      if (this.#waiting.length >= this.#limits.queue) return undefined;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next(); // the slot passes on to the next waiter
      else this.#running--;
    }
  }

  #prune(now: number): void {
    if (this.#entries.size <= this.#limits.maxKeys) return;
    for (const [k, e] of this.#entries) {
      if (this.#entries.size <= this.#limits.maxKeys) return;
      if (e.lockedUntil <= now || now - e.last > this.#limits.forgetMs) this.#entries.delete(k);
    }
    for (const k of this.#entries.keys()) {
      if (this.#entries.size <= this.#limits.maxKeys) return;
      this.#entries.delete(k);
    }
  }
}
