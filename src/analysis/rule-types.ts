/** A compiled rule: everything needed to evaluate it, built once at load time. */

export type ValueTest = (value: string) => boolean;

/**
 * A condition on one value of the event. `path` is a dotted field of the decoded JSON (`<field>`), or a top-level
 * key for the static fields the JSON decoder fills from top-level keys only (`<srcip>`, `<user>`, `<url>`…);
 * `fixed` reads what analysisd knows of every event from this source instead (`<location>`, `<hostname>`).
 * An absent value never matches, negated or not (rules.c OS_CheckIfRuleMatch returns before the negation).
 */
export interface FieldCondition {
  name: string;
  path: string[];
  /** `<user>`: the destination user, else the source user (rules.c tries dstuser first) */
  alt?: string[];
  fixed?: 'location' | 'hostname' | 'absent';
  test: ValueTest;
  negate: boolean;
  /** type, field and pattern: conditions with the same key give the same answer on one event */
  key: string;
}

export type Lookup = 'match_key' | 'not_match_key' | 'match_key_value' | 'address_match_key' | 'not_address_match_key' | 'address_match_key_value' | 'not_match_key_value';

export interface ListCondition {
  field: string;
  path: string[];
  lookup: Lookup;
  list: import('./lists.js').CdbList;
  /** `check_value`: an OS_Match pattern the key's value must match (match_key_value, address_match_key_value) */
  check?: RegExp;
}

/** Compliance tags analysisd moves out of `rule.groups` into arrays of their own (to_json.c). */
export interface Compliance {
  pci_dss: string[];
  gdpr: string[];
  hipaa: string[];
  nist_800_53: string[];
  tsc: string[];
  gpg13: string[];
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
  /** `<if_level>`: a child of every rule of at least this level */
  ifLevel?: number;
  frequency?: number;
  timeframe?: number;
  ignore?: number;
  /**
   * ThreatLockDown extension `once_per_window="yes"`: after a hit the rule stays quiet for its timeframe (one
   * alert per window). Without it a frequency rule fires as analysisd's does: the hit consumes the
   * occurrences it counted and the next `frequency` occurrences fire again.
   */
  oncePerWindow: boolean;
  decodedAs?: string;
  fields: FieldCondition[];
  match?: { re: RegExp; negate: boolean };
  regex?: { re: RegExp; negate: boolean };
  lists: ListCondition[];
  /** `<time>` / `<weekday>`: tested on the time the event is analysed, as analysisd does */
  when: ((now: Date) => boolean)[];
  /** why the rule can never match an event of ours (a `<category>` other than the JSON decoder's) */
  never?: string;
  sameField: string[][];
  differentField: string[][];
  /** ThreatLockDown extension `timefield="aws.start"`: correlation windows use the record's own time */
  timeField?: string[];
  description: string;
  /** every group, compliance tags included (what if_group and if_matched_group match) */
  groups: string[];
  /** the groups an alert lists: compliance tags moved to `compliance` */
  alertGroups: string[];
  compliance: Compliance;
  mitre: string[];
  noLog: boolean;
  noFullLog: boolean;
  /** `noalert="1"`: the rule leads to its children but never alerts itself (no match when none of them does) */
  noAlert: boolean;
  /** options alert_by_email / no_email_alert: `rule.mail` */
  mail: boolean;
  /** option no_counter: no `rule.firedtimes` */
  noCounter: boolean;
  children: Rule[];
}
