/**
 * Which `Host` headers the dashboard answers (against DNS rebinding: a page on evil.example whose name is made
 * to resolve to 127.0.0.1 reaches the dashboard with `Host: evil.example`). Accepted: the address it is bound
 * to; every loopback name and address when it is bound to loopback (or to every address); the machine's own
 * addresses and host name when it is bound to every address; and the names in `<allowed_hosts>` (`*`: any).
 */
import { hostname, networkInterfaces } from 'node:os';
import type { DashboardConfig } from '../config/types.js';

const WILDCARD = new Set(['0.0.0.0', '::', '']);
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/** Lower case, no brackets around an IPv6 address, no trailing dot. */
export function normalizeHost(name: string): string {
  let h = name.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

function isLoopback(h: string): boolean {
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The host name of a `Host` header (without its port), normalized; undefined when it is not one. */
export function hostOfHeader(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const h = header.trim();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0 || (h.length > end + 1 && !/^:\d*$/.test(h.slice(end + 1)))) return undefined;
    return normalizeHost(h.slice(0, end + 1));
  }
  const m = /^([^:]+)(:\d*)?$/.exec(h);
  return m ? normalizeHost(m[1]!) : undefined;
}

export interface HostPolicy {
  allows(hostHeader: string | undefined): boolean;
}

/** The accepted host names of a dashboard configuration. */
export function hostPolicy(config: Pick<DashboardConfig, 'host' | 'allowedHosts'>): HostPolicy {
  const bound = normalizeHost(config.host);
  const names = new Set<string>([bound]);
  const extra = (config.allowedHosts ?? []).map(normalizeHost);
  if (extra.includes('*')) return { allows: () => true };
  for (const n of extra) names.add(n);
  const loopback = isLoopback(bound) || WILDCARD.has(bound);
  if (loopback) for (const n of LOOPBACK_NAMES) names.add(n);
  if (WILDCARD.has(bound)) {
    names.add(normalizeHost(hostname()));
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(normalizeHost(a.address));
  }
  return {
    allows(header) {
      const h = hostOfHeader(header);
      if (h === undefined) return false;
      return names.has(h) || (loopback && isLoopback(h));
    },
  };
}
