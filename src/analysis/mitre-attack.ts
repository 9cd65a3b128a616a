/**
 * The MITRE ATT&CK techniques our rules and Wazuh's AWS rule file refer to, with what analysisd writes for
 * them in an alert (`rule.mitre.technique`, `rule.mitre.tactic`: wazuh/wazuh src/analysisd/format/to_json.c
 * looks each `<mitre><id>` up in its ATT&CK database and writes the technique's name and its tactics' names).
 *
 * Source: MITRE ATT&CK Enterprise v15.1 (https://attack.mitre.org/versions/v15/), technique pages, transcribed by
 * hand for these ids only; a sub-technique carries its own name, as in Wazuh's database. An id missing here is
 * written with its id only (a warning at load time names it). Add an entry when a rule uses a new id.
 */
export const ATTACK_VERSION = 'enterprise-attack v15.1';

export interface AttackTechnique {
  name: string;
  tactics: string[];
}

export const ATTACK_TECHNIQUES: Readonly<Record<string, AttackTechnique>> = {
  T1046: { name: 'Network Service Discovery', tactics: ['Discovery'] },
  T1071: { name: 'Application Layer Protocol', tactics: ['Command and Control'] },
  T1078: { name: 'Valid Accounts', tactics: ['Defense Evasion', 'Persistence', 'Privilege Escalation', 'Initial Access'] },
  'T1078.004': { name: 'Cloud Accounts', tactics: ['Defense Evasion', 'Persistence', 'Privilege Escalation', 'Initial Access'] },
  T1110: { name: 'Brute Force', tactics: ['Credential Access'] },
  T1485: { name: 'Data Destruction', tactics: ['Impact'] },
  T1496: { name: 'Resource Hijacking', tactics: ['Impact'] },
  'T1562.007': { name: 'Disable or Modify Cloud Firewall', tactics: ['Defense Evasion'] },
  'T1562.008': { name: 'Disable or Modify Cloud Logs', tactics: ['Defense Evasion'] },
  T1578: { name: 'Modify Cloud Compute Infrastructure', tactics: ['Defense Evasion'] },
};

/** `rule.mitre` as analysisd writes it: ids in rule order, their technique names, their tactics once each. */
export function mitreOf(ids: readonly string[]): { id: string[]; tactic: string[]; technique: string[] } {
  const tactic: string[] = [];
  const technique: string[] = [];
  for (const id of ids) {
    const t = ATTACK_TECHNIQUES[id];
    if (!t) continue;
    technique.push(t.name);
    for (const x of t.tactics) if (!tactic.includes(x)) tactic.push(x);
  }
  return { id: [...ids], tactic, technique };
}
