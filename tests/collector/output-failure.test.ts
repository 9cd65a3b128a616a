/**
 * An output that cannot be written (file-size limit, disk full) must not lose anything: the real CLI runs under
 * a real file-size limit (`ulimit -f`, so writes fail with EFBIG as on a full disk), then again without it, and
 * every record must then be in archives.json, alerts.json and the store exactly once.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { startLocalS3, type LocalS3 } from '../../src/demo/local-s3.js';
import { SAMPLES_DIR } from '../../testdata/samples.js';
import { openStore } from '../../src/store/index.js';

const root = new URL('../../', import.meta.url).pathname;
const VPC = readFileSync(join(SAMPLES_DIR, 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log'));
const RECORDS_PER_OBJECT = 53;
// enough records that archives.json outgrows the store's file by far (DuckDB gives each table holding rows at
// least one 256 KiB block: store format 2's flow_interfaces and store_meta add two)
const OBJECTS = 100;

let s3: LocalS3;
let dir: string;
let env: NodeJS.ProcessEnv;
let config: string;

/** Runs `tld run-once`, under a file-size limit (KiB) when given. */
function runOnce(dataDir: string, limitKib?: number): Promise<{ status: number | null; out: string; err: string }> {
  const cmd = [process.execPath, join(root, 'bin/tld.js'), 'run-once', '-c', config, '--data-dir', dataDir, '--no-progress'].map((a) => `'${a}'`).join(' ');
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', `${limitKib ? `ulimit -f ${limitKib}; ` : ''}exec ${cmd}`], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (status, signal) => resolve({ status, out, err: err + (signal ? ` [signal ${signal}]` : '') }));
  });
}

const lines = (file: string): Record<string, any>[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);

/** Largest file under `path` (recursively). */
function largestFile(path: string): number {
  let max = 0;
  for (const name of readdirSync(path)) {
    const p = join(path, name);
    const st = statSync(p);
    max = Math.max(max, st.isDirectory() ? largestFile(p) : st.size);
  }
  return max;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-output-failure-'));
  s3 = await startLocalS3({ directory: join(dir, 's3') });
  writeFileSync(join(dir, 'credentials'), '[tld-test]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n');
  env = { ...process.env, AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', TLD_LOG_LEVEL: 'error' };
  await s3.createBucket('flows');
  for (let i = 0; i < OBJECTS; i++) {
    const n = String(i).padStart(4, '0');
    await s3.put('flows', `AWSLogs/111111111111/vpcflowlogs/us-west-2/2025/06/26/111111111111_vpcflowlogs_us-west-2_fl-0aaaaaaaaaaaaaaaa_20250626T19${String(i % 60).padStart(2, '0')}Z_${n}abcd.log.gz`, gzipSync(VPC));
  }
  config = join(dir, 'ossec.conf');
  // the samples are from June 2025: no retention, or run-once would prune what the first run stored
  writeFileSync(config, `<ossec_config>
  <global><logall_json>yes</logall_json></global>
  <store><flow_retention_days>0</flow_retention_days><alert_retention_days>0</alert_retention_days></store>
  <wodle name="aws-s3">
    <skip_on_error>yes</skip_on_error>
    <bucket type="vpcflow"><name>flows</name><aws_profile>tld-test</aws_profile><service_endpoint>${s3.endpoint}</service_endpoint><only_logs_after>2025-JUN-01</only_logs_after></bucket>
  </wodle>
</ossec_config>
`);
});

after(async () => {
  await s3?.close();
});

test('archives.json hitting the file-size limit mid-run: nothing is lost or doubled once the limit is lifted, and the error names the file', async () => {
  const total = OBJECTS * RECORDS_PER_OBJECT;
  // a reference run tells how large each output grows, so the limit can sit between the store and archives.json
  const reference = join(dir, 'reference');
  assert.equal((await runOnce(reference)).status, 0);
  const archivesSize = statSync(join(reference, 'logs/archives/archives.json')).size;
  const others = Math.max(largestFile(join(reference, 'store')), largestFile(join(reference, 'state')), statSync(join(reference, 'logs/alerts/alerts.json')).size);
  const limitKib = Math.ceil(Math.max(others * 1.5, archivesSize * 0.4) / 1024);
  assert.ok(limitKib * 1024 < archivesSize * 0.8, `archives.json (${archivesSize} B) must outgrow the limit (${limitKib} KiB) well before the end`);

  const data = join(dir, 'data');
  const limited = await runOnce(data, limitKib);
  assert.notEqual(limited.status, 0, 'a failed output fails the run');
  assert.match(limited.out, /cannot write \S*logs\/archives\/archives\.json: file too large/, `exit ${limited.status}: ${limited.out}${limited.err}`);
  assert.doesNotMatch(limited.out + limited.err, /unexpected error while decoding/);
  const partial = lines(join(data, 'logs/archives/archives.json')).length;
  assert.ok(partial < total, 'the limit cut the first run short');

  const resumed = await runOnce(data);
  assert.equal(resumed.status, 0, resumed.out + resumed.err);
  const archived = lines(join(data, 'logs/archives/archives.json'));
  const ids = archived.map((a) => a.id as string);
  assert.equal(new Set(ids).size, ids.length, 'no record archived twice');
  assert.equal(ids.length, total, 'every record archived');
  const alerts = lines(join(data, 'logs/alerts/alerts.json')).map((a) => a.id as string);
  const referenceAlerts = lines(join(reference, 'logs/alerts/alerts.json')).map((a) => a.id as string);
  assert.deepEqual([...alerts].sort(), [...referenceAlerts].sort(), 'the same alerts as a run without the fault, each once');

  const store = await openStore(data, { flowRetentionDays: 0, alertRetentionDays: 0 }, { readOnly: true });
  try {
    const [flows] = await store.query('SELECT count(*) AS n, count(DISTINCT object_id || \'-\' || idx) AS distinct_records FROM flows');
    assert.equal(Number(flows?.n), total, 'every flow stored');
    assert.equal(Number(flows?.distinct_records), total, 'no flow stored twice');
    const [objects] = await store.query('SELECT count(*) AS n, sum(records) AS records FROM objects');
    assert.deepEqual([Number(objects?.n), Number(objects?.records)], [OBJECTS, total], 'each object counted once in the health table');
  } finally {
    await store.close();
  }
});
