/**
 * Options Wazuh accepts in the blocks it shares with ThreatLockDown (`<global>`, `<alerts>`, `<ruleset>`) but
 * that ThreatLockDown does not use: a whole ossec.conf carries them, so they are ignored without a word.
 * (Wazuh 4.x documentation, ossec.conf reference: global, alerts, ruleset.) A tag that is neither ours nor
 * listed here is reported (see load.ts).
 */
import type { SectionName } from './schema.js';

export const WAZUH_ONLY_OPTIONS: Partial<Record<SectionName, readonly string[]>> = {
  global: [
    'agents_disconnection_alert_time', 'agents_disconnection_time', 'alerts_log', 'cluster_name', 'custom_alert_output',
    'email_from', 'email_idsname', 'email_log_source', 'email_maxperhour', 'email_notification', 'email_reply_to',
    'email_to', 'geoip_db_path', 'geoipdb', 'host_information', 'hostname', 'jsonout_output', 'limits', 'logall',
    'max_output_size', 'memory_size', 'picviz_output', 'picviz_socket', 'prelude_log_level', 'prelude_output',
    'prelude_profile', 'queue_size', 'rotate_interval', 'rules_log', 'smtp_server', 'stats', 'update_check',
    'white_list', 'zeromq_client_cert', 'zeromq_output', 'zeromq_server_cert', 'zeromq_uri',
  ],
  alerts: ['email_alert_level', 'use_geoip'],
  ruleset: ['decoder_exclude', 'decoder_include', 'decoder', 'include', 'rule'],
};

/** Top-level blocks of a Wazuh ossec.conf that ThreatLockDown ignores (used to avoid "did you mean" on them). */
export const WAZUH_BLOCKS: readonly string[] = [
  'active-response', 'agent-upgrade', 'agentless', 'auth', 'client', 'client_buffer', 'cluster', 'command',
  'database_output', 'email_alerts', 'fluent-forward', 'github', 'gcp-bucket', 'gcp-pubsub', 'indexer', 'integration',
  'labels', 'localfile', 'logging', 'ms-graph', 'office365', 'remote', 'reports', 'rootcheck', 'rule_test', 'sca',
  'socket', 'syscheck', 'syscollector', 'syslog_output', 'task-manager', 'vulnerability-detection',
  'vulnerability-detector', 'wodle', 'anti_tampering', 'osquery', 'open-scap', 'cis-cat', 'docker-listener',
];

/** Edit distance (insertions, deletions, substitutions, swaps of neighbours) between two tags. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The candidate `tag` most likely stands for (a typo, a missing or extra letter), if any is close enough. */
export function didYouMean(tag: string, candidates: readonly string[]): string | undefined {
  const t = tag.toLowerCase();
  const limit = t.length <= 4 ? 1 : t.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const distance = editDistance(t, c.toLowerCase());
    if (distance < bestDistance && distance <= limit) {
      best = c;
      bestDistance = distance;
    }
  }
  return best;
}
