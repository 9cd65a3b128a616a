/** Parsers for option values. Each returns `{ value }` or `{ error }` (a message without the tag name). */

export type Parsed<T> = { value: T } | { error: string };

export const yesNo = (text: string): Parsed<boolean> =>
  text === 'yes' ? { value: true } : text === 'no' ? { value: false } : { error: `invalid value '${text}'` };

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, M: 2_592_000 };

/** Wazuh interval: positive integer with an optional unit s/m/h/d/w/M (no unit = seconds). */
export function interval(text: string): Parsed<number> {
  const m = /^(\d+)([smhdwM]?)$/.exec(text);
  if (!m) return { error: `invalid interval '${text}'` };
  const n = Number(m[1]) * (UNIT_SECONDS[m[2] || 's'] ?? 1);
  if (!Number.isSafeInteger(n) || n <= 0 || n >= 4_294_967_295) return { error: `interval '${text}' is out of range` };
  return { value: n };
}

export function integer(min: number, max: number) {
  return (text: string): Parsed<number> => {
    if (!/^\d+$/.test(text)) return { error: `'${text}' is not a whole number` };
    const n = Number(text);
    if (n < min || n > max) return { error: `${n} is outside ${min}–${max}` };
    return { value: n };
  };
}

export function text(text: string): Parsed<string> {
  return { value: text };
}

export function nonEmpty(text: string): Parsed<string> {
  return text === '' ? { error: 'empty value' } : { value: text };
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
export function weekday(text: string): Parsed<number> {
  const t = text.toLowerCase();
  const i = WEEKDAYS.findIndex((d) => d === t || d.slice(0, 3) === t);
  return i >= 0 ? { value: i } : { error: `invalid week day '${text}'` };
}

export function clockTime(text: string): Parsed<string> {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) return { error: `invalid time '${text}'` };
  return { value: `${m[1]?.padStart(2, '0')}:${m[2]}` };
}

/** S3 bucket naming rules (as Wazuh checks them, plus no IP-address shape). */
export function bucketName(text: string): Parsed<string> {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(text) || /^xn--/.test(text) || /-s3alias$|--ol-s3$/.test(text) || /\.\./.test(text)) {
    return { error: `'${text}' isn't a valid bucket name` };
  }
  return { value: text };
}

const FORBIDDEN_PATH = /[\\{}^%`[\]'"<>~#|]/;
/** `path`/`path_suffix`: Wazuh's forbidden characters; a trailing `/` is appended. */
export function keyPrefix(text: string): Parsed<string> {
  if (FORBIDDEN_PATH.test(text)) return { error: `'${text}' contains a character S3 key prefixes may not use here` };
  if (text === '') return { value: '' };
  return { value: text.endsWith('/') ? text : `${text}/` };
}

export function accountIds(text: string): Parsed<string[]> {
  const ids = text.split(',').map((s) => s.trim());
  const bad = ids.filter((id) => !/^\d{12}$/.test(id));
  if (bad.length) return { error: `not a valid AWS account ID (12 digits): ${bad.map((b) => `'${b}'`).join(', ')}` };
  return { value: [...new Set(ids)] };
}

export function regions(text: string): Parsed<string[]> {
  const list = text.split(',').map((s) => s.trim());
  const bad = list.filter((r) => !/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/.test(r));
  if (bad.length) return { error: `not a valid region: ${bad.map((b) => `'${b}'`).join(', ')}` };
  return { value: [...new Set(list)].sort() };
}

export function organizationId(text: string): Parsed<string> {
  return /^o-[a-z0-9]{10,32}$/.test(text) ? { value: text } : { error: `'${text}' is not an organization id (o- and 10–32 lowercase letters or digits)` };
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
/** Wazuh's `YYYY-MMM-DD` (e.g. 2018-AUG-21); `YYYY-MM-DD` accepted too. Returns `YYYY-MM-DD`. */
export function logDate(text: string): Parsed<string> {
  let m = /^(\d{4})-([A-Za-z]{3})-(\d{1,2})$/.exec(text);
  let month: number;
  if (m) month = MONTHS.indexOf((m[2] ?? '').toLowerCase()) + 1;
  else {
    m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    month = m ? Number(m[2]) : 0;
  }
  if (!m || month < 1 || month > 12) return { error: `'${text}' is not a date in format YYYY-MMM-DD` };
  const day = Number(m[3]);
  const d = new Date(Date.UTC(Number(m[1]), month - 1, day));
  if (d.getUTCDate() !== day) return { error: `'${text}' is not a valid date` };
  return { value: d.toISOString().slice(0, 10) };
}

export function roleArn(text: string): Parsed<string> {
  return /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(text) ? { value: text } : { error: `'${text}' is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)` };
}

export function url(text: string): Parsed<string> {
  try {
    const u = new URL(text);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return { error: `'${text}' is not an http(s) URL` };
    return { value: text };
  } catch {
    return { error: `'${text}' is not a URL` };
  }
}

/** Python `re` → JS RegExp source: named groups `(?P<n>` → `(?<n>`; must compile. */
export function pythonRegex(text: string): Parsed<string> {
  const source = text.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  try {
    new RegExp(source);
    return { value: source };
  } catch (e) {
    return { error: `invalid regular expression: ${(e as Error).message}` };
  }
}

export function scryptHash(text: string): Parsed<string> {
  return /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/.test(text)
    ? { value: text }
    : { error: 'not a password hash; create one with `tld dashboard hash-password`' };
}

export function token(text: string): Parsed<string> {
  return text.length >= 24 ? { value: text } : { error: 'tokens must be at least 24 characters' };
}

export function host(text: string): Parsed<string> {
  return /^[A-Za-z0-9.:\-[\]]+$/.test(text) ? { value: text } : { error: `'${text}' is not a host name or address` };
}

/** One of a fixed list of words. */
export function oneOf<T extends string>(values: readonly T[]) {
  return (text: string): Parsed<T> => ((values as readonly string[]).includes(text) ? { value: text as T } : { error: `'${text}' is not one of ${values.join(', ')}` });
}

/** An SQS queue name as Wazuh checks it (`^[a-zA-Z0-9-_]{1,80}$`; FIFO queues end in `.fifo`). */
export function queueName(text: string): Parsed<string> {
  return /^[a-zA-Z0-9_-]{1,80}(\.fifo)?$/.test(text) ? { value: text } : { error: `'${text}' is not an SQS queue name (1–80 letters, digits, - or _)` };
}
