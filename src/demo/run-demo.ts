/**
 * `tld demo`: ThreatLockDown working within a minute, with no AWS account. Starts an S3-compatible server
 * on loopback inside this process, fills it once with generated logs (two accounts, two regions, attacks
 * included), writes an ossec.conf pointing at it, runs collector → analysis → store, serves the dashboard.
 * A second run reuses the data (and reads nothing twice).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { Logger } from 'pino';
import { startLocalS3 } from './local-s3.js';
import { openRuntime, runCycle } from '../pipeline/runtime.js';
import { printSummary } from '../cli/run-collection.js';
import { startDashboardFor } from '../cli/dashboard-hook.js';

export const DEMO_BUCKET = 'tld-demo-logs';

export interface DemoOptions {
  dataDir: string;
  seed: number;
  days: number;
  scale: number;
  port: number;
  /** serve the dashboard and wait for Ctrl-C (default true) */
  serve: boolean;
  progress: boolean;
  logger: Logger;
  out?: NodeJS.WritableStream;
}

interface CorpusMarker {
  seed: number;
  days: number;
  scale: number;
  end: string;
  objects: number;
}

interface GeneratorModule {
  generateCorpus(
    opts: { seed: number; days: number; scale: number; end?: Date; profile?: string },
    sink: { put(key: string, body: Buffer, lastModified: Date): Promise<void> },
  ): Promise<Record<string, unknown>>;
}

/** ossec.conf for the demo: the three bucket types of the product docs, on the loopback store. */
export function demoConfig(endpoint: string, onlyLogsAfter: string, port: number): string {
  const bucket = (type: string, extra = '') =>
    `    <bucket type="${type}">\n      <name>${DEMO_BUCKET}</name>\n${extra}      <aws_profile>tld-demo</aws_profile>\n      <only_logs_after>${onlyLogsAfter}</only_logs_after>\n      <service_endpoint>${endpoint}</service_endpoint>\n    </bucket>\n`;
  return `<!-- Written by tld demo: the logs live in an S3-compatible server on loopback (${endpoint}). -->
<ossec_config>
  <wodle name="aws-s3">
    <disabled>no</disabled>
    <interval>10m</interval>
    <run_on_start>yes</run_on_start>
    <skip_on_error>yes</skip_on_error>
${bucket('vpcflow')}${bucket('guardduty', '      <path>firehose/</path>\n')}${bucket('cloudtrail')}  </wodle>
  <dashboard>
    <host>127.0.0.1</host>
    <port>${port}</port>
  </dashboard>
</ossec_config>
`;
}

export async function runDemo(opts: DemoOptions): Promise<{ url?: string; stop: () => Promise<void> }> {
  const out = opts.out ?? process.stdout;
  mkdirSync(opts.dataDir, { recursive: true });
  // credentials for the loopback store, in files of our own: the user's ~/.aws is never touched
  const awsDir = join(opts.dataDir, 'aws');
  mkdirSync(awsDir, { recursive: true });
  writeFileSync(join(awsDir, 'credentials'), '[tld-demo]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n');
  writeFileSync(join(awsDir, 'config'), '[profile tld-demo]\nregion = us-east-1\n');
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(awsDir, 'credentials');
  process.env.AWS_CONFIG_FILE = join(awsDir, 'config');
  process.env.AWS_EC2_METADATA_DISABLED = 'true';

  const s3 = await startLocalS3({ directory: join(opts.dataDir, 's3') });
  await s3.createBucket(DEMO_BUCKET);
  const markerFile = join(opts.dataDir, 'demo-corpus.json');
  let marker: CorpusMarker | undefined = existsSync(markerFile) ? (JSON.parse(readFileSync(markerFile, 'utf8')) as CorpusMarker) : undefined;
  if (!marker || marker.seed !== opts.seed || marker.days !== opts.days || marker.scale !== opts.scale) {
    let gen: GeneratorModule;
    try {
      gen = (await import(new URL('../generator/index.js', import.meta.url).href)) as GeneratorModule;
    } catch (e) {
      await s3.close();
      throw new Error(`this build has no log generator (src/generator): ${(e as Error).message}`);
    }
    const end = new Date();
    end.setUTCMinutes(0, 0, 0);
    out.write(`Generating ${opts.days} day(s) of VPC Flow Logs, GuardDuty findings and CloudTrail (seed ${opts.seed}, scale ${opts.scale})…\n`);
    const bar = opts.progress && process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'Generating | {value} objects uploaded', stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
    bar?.start(0, 0);
    let objects = 0;
    await gen.generateCorpus({ seed: opts.seed, days: opts.days, scale: opts.scale, end, profile: 'demo' }, {
      async put(key, body) {
        await s3.put(DEMO_BUCKET, key, body);
        objects++;
        bar?.setTotal(objects);
        bar?.update(objects);
      },
    });
    bar?.stop();
    marker = { seed: opts.seed, days: opts.days, scale: opts.scale, end: end.toISOString(), objects };
    writeFileSync(markerFile, JSON.stringify(marker, null, 2));
    out.write(`Uploaded ${objects} objects to s3://${DEMO_BUCKET} on ${s3.endpoint}.\n`);
  } else {
    out.write(`Reusing the generated logs in ${join(opts.dataDir, 's3')} (${marker.objects} objects).\n`);
  }

  const start = new Date(Date.parse(marker.end) - (opts.days + 1) * 86_400_000).toISOString().slice(0, 10);
  const configFile = join(opts.dataDir, 'ossec.conf');
  writeFileSync(configFile, demoConfig(s3.endpoint, start, opts.port));
  const rt = await openRuntime({ configFiles: [configFile], dataDir: opts.dataDir, logger: opts.logger, startFetchThreads: true });
  const bar = opts.progress && process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'Collecting {bucket} | {objects} objects | {records} records', stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
  bar?.start(1, 0, { bucket: '', objects: 0, records: 0 });
  const controller = new AbortController();
  const summaries = await runCycle(rt, opts.logger, { signal: controller.signal, onProgress: (p) => bar?.update(0, { bucket: p.bucket, objects: p.objects, records: p.records }) });
  bar?.stop();
  printSummary(summaries, out);
  out.write(`\nAlerts: ${rt.sink.counters.alerts} written to ${join(opts.dataDir, 'logs/alerts/alerts.json')} (configuration: ${configFile}).\n`);

  const stops: (() => Promise<void>)[] = [];
  let url: string | undefined;
  if (opts.serve) {
    const server = await startDashboardFor(rt, opts.logger);
    if (server) {
      stops.push(() => server.close());
      url = server.url;
      out.write(`\nDashboard: ${url}   (Ctrl-C to stop)\n`);
    }
  }
  return {
    ...(url ? { url } : {}),
    async stop() {
      for (const s of stops) await s();
      await rt.close();
      await s3.close();
    },
  };
}
