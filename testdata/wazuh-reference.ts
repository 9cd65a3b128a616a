/**
 * Wazuh 4.14's own files (its AWS rule file, CDB lists, a manager's ossec.conf), read where the project keeps
 * them (`../shared/reference/wazuh-ruleset/`, beside the repository) and never copied in: they are Wazuh's,
 * under the GPL, and the tests that use them check ThreatLockDown behaves as Wazuh does.
 * `TLD_WAZUH_REFERENCE` points elsewhere.
 */
import { existsSync } from 'node:fs';
import { SHARED } from './shared.js';

export const WAZUH_REFERENCE_DIR = process.env.TLD_WAZUH_REFERENCE ?? `${SHARED}/reference/wazuh-ruleset/`;

/** The folder, or an error saying where it was looked for and how to point at it. */
export function wazuhReference(): string {
  if (!existsSync(`${WAZUH_REFERENCE_DIR}/0350-amazon_rules.xml`)) {
    throw new Error(`Wazuh's reference files are not in ${WAZUH_REFERENCE_DIR}: set TLD_WAZUH_REFERENCE to the folder holding 0350-amazon_rules.xml, lists/ and ossec-server.conf`);
  }
  return WAZUH_REFERENCE_DIR;
}
