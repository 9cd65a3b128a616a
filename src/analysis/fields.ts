/**
 * Field access with Wazuh's JSON-decoder semantics, without flattening the whole event: a dotted path is
 * walked on demand, and the leaf is rendered as Wazuh renders it (numbers `%i`/`%f`, booleans
 * "true"/"false", arrays and objects as JSON text).
 */

export function splitPath(name: string): string[] {
  return name.split('.');
}

export function rawField(event: unknown, path: string[]): unknown {
  let v: unknown = event;
  for (const p of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

export function fieldText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isInteger(value) ? String(value) : value.toFixed(6);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return value === null ? 'null' : JSON.stringify(value);
    default:
      return undefined;
  }
}

export function field(event: unknown, path: string[]): string | undefined {
  return fieldText(rawField(event, path));
}

/** Every leaf of an event as `dotted.path → text` (for tld logtest). */
export function flatten(value: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    const t = fieldText(value);
    if (t !== undefined && prefix) out[prefix] = t;
  }
  return out;
}
