/**
 * The project's shared reference folder (AWS log samples, peers' fixtures, Wazuh's own files), read in place by the
 * tests and never copied in: `TLD_SHARED_DIR` when set, else `../shared` beside the repository, else
 * `/work/shared` (where these machines keep it, for a clone elsewhere, e.g. in /tmp).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const beside = fileURLToPath(new URL('../../shared', import.meta.url));

export const SHARED = process.env.TLD_SHARED_DIR ?? [beside, '/work/shared'].find((d) => existsSync(`${d}/aws-log-samples`)) ?? beside;
