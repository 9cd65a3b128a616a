/** What a field condition reads from an event, shared by the event path (engine.ts) and the columnar path (flow-rules.ts). */
import type { AwsEvent } from '../shared/events.js';
import { field } from './fields.js';
import type { FieldCondition } from './rule-types.js';

/** Where analysisd says an event from the aws-s3 wodle comes from (the wodle sends `1:Wazuh-AWS:<json>`). */
export const LOCATION = 'Wazuh-AWS';

/** The value a field condition tests on an event (undefined: absent); `hostname` is the manager's name. */
export function conditionValue(f: FieldCondition, event: AwsEvent, hostname: string): string | undefined {
  if (f.fixed !== undefined) return f.fixed === 'location' ? LOCATION : f.fixed === 'hostname' ? hostname : undefined;
  const v = field(event, f.path);
  return v === undefined && f.alt ? field(event, f.alt) : v;
}
