/**
 * What an SQS message body says about S3 objects. Shapes accepted (bodies are attacker-influenced text: parsed as
 * JSON only, never evaluated, and anything unexpected is an `invalid` verdict naming why):
 * - S3 → SQS: `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name"},"object":{"key","size"}}}]}`,
 *   several records per message;
 * - S3 → SNS → SQS, raw message delivery (the same body) or wrapped (`{"Type":"Notification","Message":"<that JSON as text>"}`,
 *   unwrapped once);
 * - S3 → EventBridge → SQS: `{"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name"},"object":{"key","size"}}}`;
 * - `s3:TestEvent` (sent when a notification is configured): recognised and ignored.
 * Keys of S3 notifications are URL-encoded as a form (`+` is a space, `%2B` a plus, UTF-8 percent-escaped) and are
 * decoded here; EventBridge gives keys as they are. Only object-created events name work; others (removals…) are
 * counted as ignored.
 */

/** One object a notification announces. */
export interface ObjectNotice {
  bucket: string;
  /** the key as S3 knows it (decoded) */
  key: string;
  /** bytes, when the notification says (it does for object-created events) */
  size?: number;
  /** when the object was written (`eventTime` / EventBridge `time`), ISO */
  eventTime?: string;
  /** `ObjectCreated:Put`, `Object Created`… */
  eventName: string;
}

export type Notification =
  | { kind: 'objects'; objects: ObjectNotice[]; /** records that announce no new object (removals…) */ ignored: number }
  | { kind: 'test' }
  | { kind: 'invalid'; reason: string };

/** Decodes a key of an S3 event notification (form encoding: `+` is a space). */
export function decodeNotificationKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/** Encodes a key as S3 writes it into event notifications (the inverse of decodeNotificationKey). */
export function encodeNotificationKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const size = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);

function s3Records(records: unknown[]): Notification {
  const objects: ObjectNotice[] = [];
  let ignored = 0;
  for (const [i, r] of records.entries()) {
    if (!isObject(r)) return { kind: 'invalid', reason: `record ${i} is not an object` };
    const eventName = text(r.eventName) ?? '';
    if (text(r.eventSource) !== 'aws:s3') return { kind: 'invalid', reason: `record ${i} is not an S3 event (eventSource ${JSON.stringify(r.eventSource ?? null).slice(0, 40)})` };
    if (!eventName.startsWith('ObjectCreated:')) {
      ignored++;
      continue;
    }
    const s3 = isObject(r.s3) ? r.s3 : {};
    const bucket = isObject(s3.bucket) ? text(s3.bucket.name) : undefined;
    const object = isObject(s3.object) ? s3.object : {};
    const rawKey = text(object.key);
    if (!bucket || !rawKey) return { kind: 'invalid', reason: `record ${i} names no bucket or key` };
    let key: string;
    try {
      key = decodeNotificationKey(rawKey);
    } catch {
      return { kind: 'invalid', reason: `record ${i}: the key is not valid URL encoding` };
    }
    const n = size(object.size);
    const at = text(r.eventTime);
    objects.push({ bucket, key, eventName, ...(n === undefined ? {} : { size: n }), ...(at ? { eventTime: at } : {}) });
  }
  return { kind: 'objects', objects, ignored };
}

function eventBridge(e: Record<string, unknown>): Notification {
  const type = text(e['detail-type']) ?? '';
  if (type !== 'Object Created') return { kind: 'objects', objects: [], ignored: 1 };
  const d = isObject(e.detail) ? e.detail : {};
  const bucket = isObject(d.bucket) ? text(d.bucket.name) : undefined;
  const object = isObject(d.object) ? d.object : {};
  const key = text(object.key);
  if (!bucket || !key) return { kind: 'invalid', reason: 'the EventBridge event names no bucket or key' };
  const n = size(object.size);
  const at = text(e.time);
  return { kind: 'objects', objects: [{ bucket, key, eventName: type, ...(n === undefined ? {} : { size: n }), ...(at ? { eventTime: at } : {}) }], ignored: 0 };
}

function classify(body: unknown, unwrapped: boolean): Notification {
  if (!isObject(body)) return { kind: 'invalid', reason: 'the body is not a JSON object' };
  if (text(body.Event) === 's3:TestEvent') return { kind: 'test' };
  if (Array.isArray(body.Records)) return s3Records(body.Records);
  if (text(body.source) === 'aws.s3' && 'detail' in body) return eventBridge(body);
  if (text(body.Type) === 'Notification' && typeof body.Message === 'string') {
    if (unwrapped) return { kind: 'invalid', reason: 'an SNS notification inside an SNS notification' };
    let inner: unknown;
    try {
      inner = JSON.parse(body.Message);
    } catch {
      return { kind: 'invalid', reason: 'the SNS notification\'s Message is not JSON' };
    }
    return classify(inner, true);
  }
  return { kind: 'invalid', reason: 'neither an S3 event notification (Records), an SNS notification, an EventBridge S3 event nor s3:TestEvent' };
}

/** Reads one message body. */
export function parseNotification(body: string): Notification {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { kind: 'invalid', reason: 'the body is not JSON' };
  }
  return classify(json, false);
}
