/** The alert a final rule writes for one event (Wazuh's shape), shared by the event and columnar paths. */
import { createHash } from 'node:crypto';
import type { Alert, AwsEvent } from '../shared/events.js';
import { fieldText, rawField } from './fields.js';
import type { Rule } from './rule-types.js';
import type { AnalysisCore, RecordCursor } from './correlate.js';

/** `$(field)` in a description; numbers print as written (8.9, not Wazuh's "8.900000"). */
function interpolate(template: string, event: AwsEvent, extra: Record<string, string>): string {
  return template.replace(/\$\(([^)]+)\)/g, (_, name: string) => {
    if (extra[name] !== undefined) return extra[name];
    const raw = rawField(event, name.split('.'));
    return typeof raw === 'number' ? String(raw) : (fieldText(raw) ?? '');
  });
}

/**
 * Counts the alert in `firedtimes` (per object too, so taking the object back takes it out) and builds it.
 * `fullLog` is the event's JSON when a rule already made it.
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
  const alert: Alert = {
    timestamp: opts.now().toISOString(),
    rule: {
      level: rule.level,
      description: interpolate(rule.description, event, extra),
      // a detection that refines a Wazuh rule carries that rule's id (alert_id): Wazuh's searches keep finding it
      id: rule.alertId ?? rule.id,
      firedtimes: fired,
      mail: false,
      groups: rule.groups,
      ...(rule.mitre.length ? { mitre: { id: rule.mitre } } : {}),
      ...(rule.frequency !== undefined ? { frequency: rule.frequency } : {}),
    },
    agent: { id: '000', name: opts.managerName },
    manager: { name: opts.managerName },
    id,
    decoder: { name: 'json' },
    data: event,
    location: 'Wazuh-AWS',
    ...(hit ? { correlation: { count: hit.count, distinct: hit.distinct, window_start: extra.window_start } } : {}),
  };
  if (!rule.noFullLog) alert.full_log = fullLog ?? JSON.stringify(event);
  return alert;
}
