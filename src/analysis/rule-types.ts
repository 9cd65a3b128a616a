/** A compiled rule: everything needed to evaluate it, built once at load time. */

export type ValueTest = (value: string) => boolean;

export interface FieldCondition {
  name: string;
  path: string[];
  test: ValueTest;
  negate: boolean;
  /** type, field and pattern: conditions with the same key give the same answer on one event */
  key: string;
}

export interface ListCondition {
  field: string;
  path: string[];
  lookup: 'match_key' | 'not_match_key' | 'match_key_value' | 'address_match_key' | 'not_address_match_key' | 'not_match_key_value';
  list: import('./lists.js').CdbList;
  check?: RegExp;
}

export interface Rule {
  id: string;
  /**
   * ThreatLockDown extension `alert_id`: the id its alerts carry (`rule.id`), the Wazuh rule this one refines,
   * so a search on Wazuh's ids keeps finding them. `id` stays the rule's own (tree, overwrite, logtest).
   */
  alertId?: string;
  level: number;
  file: string;
  line: number;
  overwrite: boolean;
  ifSid: string[];
  ifGroup: string[];
  ifMatchedSid: string[];
  ifMatchedGroup: string[];
  frequency?: number;
  timeframe?: number;
  ignore?: number;
  decodedAs?: string;
  fields: FieldCondition[];
  match?: { re: RegExp; negate: boolean };
  regex?: { re: RegExp; negate: boolean };
  lists: ListCondition[];
  sameField: string[][];
  differentField: string[][];
  /** ThreatLockDown extension `timefield="aws.start"`: correlation windows use the record's own time */
  timeField?: string[];
  description: string;
  groups: string[];
  mitre: string[];
  noLog: boolean;
  noFullLog: boolean;
  children: Rule[];
}
