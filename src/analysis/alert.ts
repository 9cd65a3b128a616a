/**
 * The alert a final rule writes for one event, in analysisd's shape (wazuh/wazuh src/analysisd/format/to_json.c),
 * shared by the event and columnar paths:
 * - `rule.groups` without compliance tags, which go to `rule.pci_dss`, `rule.gdpr`, `rule.hipaa`,
 *   `rule.nist_800_53`, `rule.tsc` (and `rule.gpg13`), prefix removed;
 * - `rule.mitre` with `id`, `tactic` and `technique` (mitre-attack.ts);
 * - `rule.firedtimes` unless the rule has no_counter; `rule.mail` true with alert_by_email;
 * - `data` as the JSON decoder stored it: scalars as strings, empty strings dropped, arrays kept (fields.ts
 *   `alertData`); the embedded store keeps the typed event, alerts.json gets one type per field;
 * - `previous_output` for a frequency rule: the earlier occurrences' logs, newest first;
 * - `full_log` (unless no_full_log): the event as the wodle sent it (fields.ts `wazuhLog`).
 */
import { createHash } from 'node:crypto';
import type { Alert, AwsEvent } from '../shared/events.js';
import { alertData, fieldText, rawField, wazuhLog } from './fields.js';
import type { Rule } from './rule-types.js';
import type { AnalysisCore, RecordCursor } from './correlate.js';
import { LOCATION } from './engine-values.js';
import { mitreOf } from './mitre-attack.js';

/** `$(field)` in a description; numbers print as written (8.9, not Wazuh's "8.900000"). */
function interpolate(template: string, event: AwsEvent, extra: Record<string, string>): string {
  return template.replace(/\$\(([^)]+)\)/g, (_, name: string) => {
    if (extra[name] !== undefined) return extra[name];
    const raw = rawField(event, name.split('.'));
    return typeof raw === 'number' ? String(raw) : (fieldText(raw) ?? '');
  });
}

/** What a rule's alerts share: compliance arrays (in to_json.c's order) and `rule.mitre`, built once per rule. */
const shared = new WeakMap<Rule, { compliance: Record<string, string[]>; mitre: ReturnType<typeof mitreOf> | undefined }>();

function sharedOf(rule: Rule): { compliance: Record<string, string[]>; mitre: ReturnType<typeof mitreOf> | undefined } {
  let s = shared.get(rule);
  if (!s) {
    const compliance: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(rule.compliance)) if (v.length) compliance[k] = v;
    shared.set(rule, (s = { compliance, mitre: rule.mitre.length ? mitreOf(rule.mitre) : undefined }));
  }
  return s;
}

/**
 * Counts the alert in `firedtimes` (per object too, so taking the object back takes it out) and builds it.
 * `fullLog` is the event's Wazuh log when a rule already made it.
 */
export function buildAlert(core: AnalysisCore, cur: RecordCursor, rule: Rule, event: AwsEvent, recordId: string, fullLog: string | undefined): Alert {
  const fired = (core.state.fired.get(rule.id) ?? 0) + 1;
  core.state.fired.set(rule.id, fired);
  const o = cur.object(core.state);
  o.fired ??= new Map();
  o.fired.set(rule.id, (o.fired.get(rule.id) ?? 0) + 1);
  const hit = rule.frequency !== undefined ? cur.hit : undefined;
  const extra: Record<string, string> = hit ? { count: String(hit.count), distinct: String(hit.distinct), window_start: new Date(hit.windowStart).toISOString() } : {};
  const id = hit ? `${rule.id}-${hit.windowStart}-${createHash('sha1').update(hit.key).digest('hex').slice(0, 12)}` : recordId;
  const { opts } = core;
  const { compliance, mitre } = sharedOf(rule);
  const alert: Alert = {
    timestamp: opts.now().toISOString(),
    rule: {
      level: rule.level,
      description: interpolate(rule.description, event, extra),
      // a detection that refines a Wazuh rule carries that rule's id (alert_id): Wazuh's searches keep finding it
      id: rule.alertId ?? rule.id,
      ...(mitre ? { mitre } : {}),
      ...(rule.noCounter ? {} : { firedtimes: fired }),
      mail: rule.mail,
      groups: rule.alertGroups,
      ...compliance,
      ...(rule.frequency !== undefined ? { frequency: rule.frequency } : {}),
    },
    agent: { id: '000', name: opts.managerName },
    manager: { name: opts.managerName },
    id,
    decoder: { name: 'json' },
    data: (alertData(event) ?? {}) as Record<string, unknown>,
    location: LOCATION,
    ...(hit && hit.previous.length ? { previous_output: hit.previous.join('\n') } : {}),
    ...(hit ? { correlation: { count: hit.count, distinct: hit.distinct, window_start: extra.window_start } } : {}),
  };
  if (!rule.noFullLog) alert.full_log = fullLog ?? wazuhLog(event);
  return alert;
}
