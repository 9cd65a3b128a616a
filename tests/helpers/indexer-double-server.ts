/**
 * The indexer DOUBLE (indexer-double.ts) as a process of its own, for benchmarks and manual runs where the double
 * must not share the measured process: `node --import tsx tests/helpers/indexer-double-server.ts [--wazuh-template]`
 * prints its URL on the first line of stdout and serves until killed. With `--wazuh-template` it starts with
 * Wazuh's template for the alert indices (read from ../shared/reference/, as a Wazuh install has it).
 */
import { readFileSync } from 'node:fs';
import { startIndexerDouble } from './indexer-double.js';
import { SHARED } from '../../testdata/shared.js';

const double = await startIndexerDouble();
if (process.argv.includes('--wazuh-template')) {
  await fetch(`${double.url}/_template/wazuh`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: readFileSync(`${SHARED}/reference/wazuh-ruleset/wazuh-template.json`) });
}
process.stdout.write(`${double.url}\n`);
