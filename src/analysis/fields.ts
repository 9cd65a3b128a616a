/**
 * Field access with Wazuh's JSON-decoder semantics, without flattening the whole event: a dotted path is
 * walked on demand, and the leaf is rendered as Wazuh renders it (numbers `%i`/`%f`, booleans
 * "true"/"false", arrays and objects as JSON text). An empty string is no field at all: the JSON decoder
 * stores no value for it, so a rule on it does not match, negated or not (issue 14, item 7).
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
      return value === '' ? undefined : value;
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

/** Python's `json.dumps` escapes (ensure_ascii): every character beyond ASCII as \\uXXXX, as the aws-s3 wodle sends it. */
function pyString(s: string): string {
  return JSON.stringify(s).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The event as the aws-s3 wodle sends it to analysisd, which is the log `<match>` and `<regex>` read and
 * `full_log` holds: Python's `json.dumps` with its default separators `", "` and `": "` and non-ASCII escaped
 * (wazuh/wazuh wodles/aws/wazuh_integration.py `send_msg`; reference wazuh-aws.md §5.1). A number prints as
 * JavaScript prints it (Python would print a float read as `1.0` as `1.0`; the decoded event no longer knows).
 */
export function wazuhLog(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return pyString(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'NaN';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : wazuhLog(v))).join(', ')}]`;
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value)) if (v !== undefined) parts.push(`${pyString(k)}: ${wazuhLog(v)}`);
      return `{${parts.join(', ')}}`;
    }
    default:
      return 'null';
  }
}

/**
 * The event as analysisd writes it under `data` in alerts.json: every scalar as the string the JSON decoder
 * stored (`%i`/`%f` numbers, "true"/"false", "null"), empty strings and objects left without fields dropped,
 * arrays as arrays (the decoder keeps an array as its JSON text and the alert output parses text that starts
 * with `[` and ends with `]` back: wazuh/wazuh src/shared/string_op.c `W_JSON_AddField`). One type per field
 * whatever the record said, so `wazuh-alerts-*` indices get no mapping conflicts.
 */
export function alertData(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return fieldText(value);
  if (Array.isArray(value)) return value;
  // hot for every alert: one pass, no intermediate arrays; an object left without fields is dropped
  const src = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k in src) {
    const v = src[k];
    let d: unknown;
    if (typeof v === 'string') {
      if (v === '') continue;
      d = v;
    } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) d = alertData(v);
    else d = Array.isArray(v) ? v : fieldText(v);
    if (d !== undefined) (out ??= {})[k] = d;
  }
  return out;
}
