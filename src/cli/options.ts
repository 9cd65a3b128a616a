/** Options shared by several commands. */
import { resolve } from 'node:path';

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export const CONFIG_HELP = 'ossec.conf-style file with the <wodle name="aws-s3"> block (repeat for several)';
export const DATA_DIR_HELP = 'folder for state, logs (alerts.json, archives.json) and the store';

export function dataDirOf(opt: string | undefined): string {
  return resolve(opt ?? process.env.TLD_DATA_DIR ?? 'tld-data');
}
