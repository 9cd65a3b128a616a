/**
 * Which alerts each CloudTrail panel of the dashboard shows (`GET /api/cloudtrail` and the `ct-*` listings).
 * The shipped detections alert under the id Wazuh gives the same event (a VPC created is Wazuh's 80202, a denied
 * one 80203 or 80250: docs/decisions/wazuh-rule-ids.md), so a panel of detections selects them by the group each
 * declares in the ruleset, never by id; the panels of Wazuh's own rules (errors, console logins) select by
 * Wazuh's ids, which is what those panels are about.
 */

/** Alerts of a panel: any of these groups (a whole group name of `rule.groups`), or any of these rule ids. */
export type AlertSelection = { groups: readonly string[] } | { rules: readonly string[] };

export const CLOUDTRAIL_PANELS = {
  /** VPCs created and creations refused (80610, 80611/80612) */
  vpcChanges: { groups: ['aws_vpc_created', 'aws_vpc_creation_denied'] },
  /** Wazuh's errors on listed calls: 80203, and 80250 for AccessDenied (denied VPC creations among them) */
  errors: { rules: ['80203', '80250'] },
  /** Wazuh's console logins and the brute-force correlation */
  logins: { rules: ['80253', '80254', '80255'] },
  /** logging or detection turned off (80620/80622), a security group opened to the world on SSH/RDP (80621) */
  evasion: { groups: ['aws_defense_evasion', 'aws_security_group_opened'] },
} as const satisfies Record<string, AlertSelection>;

/**
 * The selection as a condition on the alerts table, its values pushed onto `params` (bound, never spliced into
 * the SQL). The `groups` column holds `rule.groups` joined by commas (src/store/extract.ts); a group matches as
 * a whole name between commas, so `aws_vpc_created` is not found in `aws_vpc_created_by_me`. `contains` rather
 * than LIKE: `_` in a group name is a LIKE wildcard.
 */
export function alertSelectionSql(selection: AlertSelection, params: (string | number)[]): string {
  const one = (value: string, sql: (p: string) => string) => {
    params.push(value);
    return sql(`$${params.length}`);
  };
  const terms = 'groups' in selection
    ? selection.groups.map((g) => one(g, (p) => `contains(',' || groups || ',', ',' || ${p} || ',')`))
    : selection.rules.map((r) => one(r, (p) => `rule_id = ${p}`));
  return terms.length ? `(${terms.join(' OR ')})` : 'FALSE';
}
