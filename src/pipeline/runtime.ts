/**
 * The composition root: builds the whole pipeline (state, rules, outputs, store) from a configuration and
 * runs collection cycles over every bucket. `tld run-once`, `tld start`, `tld demo` and `tld replay` use it.
 */
import { join } from 'node:path';
import { hostname } from 'node:os';
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import type { TldConfig } from '../config/types.js';
import { loadConfig } from '../config/load.js';
import { formatIssue } from '../config/errors.js';
import { openStateStore } from '../sources/s3/state/file-state-store.js';
import type { StateStore } from '../sources/s3/state/types.js';
import { collectAll, type BucketSummary, type CollectProgress } from '../sources/s3/collect-bucket.js';
import type { ObjectSource } from '../sources/s3/client.js';
import type { BucketConfig } from '../config/types.js';
import { alertsFilePath, openAlertsFile, openArchivesFile, type JsonLinesFile } from '../outputs/json-lines-file.js';
import { PipelineSink, recoverOutputs } from './pipeline-sink.js';
import type { Store } from '../store/index.js';
import { CollectorMetrics } from './metrics.js';
import { FetchPool, fetchThreadCount } from '../sources/s3/fetch-pool.js';
import { buildAnalyzer, openEmbeddedStore, openIndexerStore, type PipelineAnalyzer } from './stages.js';
import { WindowCorrelator } from '../indexer/window-correlator.js';

export interface RuntimeOptions {
  configFiles: string[];
  dataDir: string;
  logger: Logger;
  /** open the embedded store (default true) */
  store?: boolean;
  now?: () => Date;
  /** replay: alerts already in alerts.json are not written again */
  replay?: boolean;
  /**
   * start the fetch threads while the store opens, so they are up when collection starts (~0.2-0.3 s of a thread's
   * start-up that would otherwise delay the first objects); default: at first use
   */
  startFetchThreads?: boolean;
}

/** Ids of the alerts in an alerts.json file. */
export async function alertIdsIn(path: string): Promise<Set<string>> {
  const ids = new Set<string>();
  if (!existsSync(path)) return ids;
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    try {
      const id = (JSON.parse(line) as { id?: unknown }).id;
      if (typeof id === 'string') ids.add(id);
    } catch {
      // a torn line is cut back by crash recovery; nothing to dedupe against
    }
  }
  return ids;
}

export interface Runtime {
  readonly config: TldConfig;
  readonly dataDir: string;
  readonly state: StateStore;
  readonly sink: PipelineSink;
  readonly store: Store | undefined;
  readonly metrics: CollectorMetrics;
  /**
   * With the indexer as the store: fires the frequency windows of every worker writing to it (the analyzer
   * defers them; see src/indexer/window-correlator.ts). `tld start` runs a pass every
   * `<correlation_interval_seconds>`, `tld run-once` one at its end.
   */
  readonly correlator: WindowCorrelator | undefined;
  /** the fetch threads (started by the first cycle; `<workers>` is read then) */
  readonly fetchPool: FetchPool | undefined;
  /**
   * What the running service took at start and a reload cannot change: the `<workers>` value the fetch threads
   * were started with (once started), and the lookback the state keeps exact (see `lookback`).
   */
  readonly fixed: { workers: number | undefined; lookbackDays: number };
  /** Re-reads configuration and rules; throws (and changes nothing) when either has errors. Returns warnings. */
  reload(): Promise<string[]>;
  close(): Promise<void>;
}

export interface CycleOptions {
  signal: AbortSignal;
  /** only these bucket names */
  bucketNames?: string[];
  onProgress?: (p: CollectProgress) => void;
  /** replay: read exactly these days, whatever the state says */
  window?: { from: string; to: string };
  sourceFor?: (b: BucketConfig) => Promise<ObjectSource>;
}

/**
 * Days the state keeps exact. Queue workers remember an object under the day its message was first sent: the window
 * covers SQS's longest retention (14 days), so a redelivery of any message still on the queue is recognised.
 */
const QUEUE_RETENTION_DAYS = 14;
function lookback(config: TldConfig): number {
  return Math.max(0, ...(config.awsS3?.buckets.map((b) => b.lookbackDays) ?? [1]), config.awsS3?.subscribers.length ? QUEUE_RETENTION_DAYS : 0);
}

/** Opens everything a collection cycle needs, recovering outputs left behind by a crash. */
export async function openRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const { logger, dataDir } = opts;
  const now = opts.now ?? (() => new Date());
  mkdirSync(dataDir, { recursive: true });
  const loaded = await loadConfig(opts.configFiles);
  let config = loaded.config;
  for (const w of loaded.warnings) logger.warn(formatIssue(w));
  // the frequency rules' state is saved next to the collector state and restored below; a replay reads objects
  // already processed without marking them, so it keeps its windows in memory only (it neither restores nor saves)
  const stateDir = join(dataDir, 'state');
  // with the indexer as the store, other workers may read the other records of a window: frequency rules do not
  // fire here, the correlator fires them from every worker's partials (docs/architecture.md "Workers on a queue")
  const deferWindows = opts.store !== false && config.store.backend === 'indexer';
  let analyzer: PipelineAnalyzer = await buildAnalyzer(config, now, opts.replay ? undefined : stateDir, (note) => logger.warn(note), deferWindows);

  const lookbackDays = lookback(config);
  const state = openStateStore(stateDir, { lookbackDays });
  const alertsFile: JsonLinesFile = openAlertsFile(dataDir);
  const archivesFile: JsonLinesFile | undefined = config.global.logallJson ? openArchivesFile(dataDir) : undefined;
  const removed = recoverOutputs(state.lastCheckpoint(), { alerts: alertsFile, archives: archivesFile });
  if (Object.keys(removed).length > 0) {
    logger.warn({ removedBytes: removed }, 'Removed output written for an object whose commit was interrupted; it will be read again.');
  }
  // A file the last checkpoint does not cover (first run, or logall_json just turned on) gets its present
  // size as the base, so a crash before the first commit is undone like any other.
  const base = state.lastCheckpoint() ?? {};
  if (base.alerts === undefined || (archivesFile && base.archives === undefined)) {
    state.recordCheckpoint({ ...base, alerts: alertsFile.size(), ...(archivesFile ? { archives: archivesFile.size() } : {}) });
  }
  // windows as of the last object marked processed: what later objects added was cut with their alerts above
  try {
    await analyzer.restoreCorrelation?.(state.lastCheckpoint()?.seq ?? 0);
  } catch (e) {
    state.close();
    alertsFile.close();
    archivesFile?.close();
    throw e;
  }
  let fetchPool: FetchPool | undefined;
  let fetchWorkers: number | undefined;
  const pool = () => {
    if (fetchPool === undefined && config.awsS3 && !config.awsS3.disabled) {
      fetchWorkers = config.awsS3.workers;
      fetchPool = new FetchPool(fetchThreadCount(fetchWorkers));
      logger.info({ threads: fetchPool.size }, 'Objects are fetched and decompressed on %d threads.', fetchPool.size);
    }
    return fetchPool;
  };
  // the threads start up while the store opens (an idle one does not keep the process alive)
  if (opts.startFetchThreads) pool();
  // the embedded store by default; with <store><backend>indexer</backend> the indexer instead (src/indexer/)
  let indexer: Awaited<ReturnType<typeof openIndexerStore>> | undefined;
  let store: Awaited<ReturnType<typeof openEmbeddedStore>> | undefined;
  try {
    indexer = opts.store !== false && config.store.backend === 'indexer' ? await openIndexerStore(config, logger) : undefined;
    store = opts.store === false || indexer ? undefined : await openEmbeddedStore(dataDir, config);
  } catch (e) {
    await fetchPool?.close();
    throw e;
  }
  const metrics = new CollectorMetrics();
  if (indexer) metrics.watchIndexer(() => indexer.counters);
  const correlator = indexer
    ? new WindowCorrelator(indexer.port, {
        rules: () => analyzer.ruleset,
        logAlertLevel: () => config.alerts.logAlertLevel,
        managerName: hostname(),
        graceMs: (config.indexer?.correlationGraceSeconds ?? 900) * 1000,
        now,
        logger,
        ...(config.indexer ? { maxBytes: config.indexer.bulkMaxBytes } : {}),
        onPass: (report) => metrics.correlatorPass(report),
      })
    : undefined;
  const sink = new PipelineSink({
    // the analyzer is replaced on a reload: every call goes to the current one
    analyzer: {
      analyze: (batch, emit) => analyzer.analyze(batch, emit),
      analyzeFlows: (object, batch, emit) => analyzer.analyzeFlows(object, batch, emit),
      objectDone: (objectId, seq) => analyzer.objectDone?.(objectId, seq),
      discardObject: (objectId) => analyzer.discardObject?.(objectId),
      takePartials: (objectId) => analyzer.takePartials?.(objectId) ?? [],
      persistCorrelation: (upToSeq) => analyzer.persistCorrelation(upToSeq, state.lastCheckpoint()?.seq ?? 0),
      restoreCorrelation: (committedSeq) => analyzer.restoreCorrelation?.(committedSeq) ?? Promise.resolve(),
    },
    alertsFile,
    ...(archivesFile ? { archivesFile } : {}),
    ...(store ? { store } : indexer ? { store: indexer } : {}),
    ...(opts.replay ? { knownAlertIds: await alertIdsIn(alertsFilePath(dataDir)) } : {}),
    lastSeq: state.lastCheckpoint()?.seq ?? 0,
    now,
  });

  return {
    get config() {
      return config;
    },
    get fetchPool() {
      return pool();
    },
    get fixed() {
      return { workers: fetchWorkers, lookbackDays };
    },
    dataDir,
    state,
    sink,
    store,
    metrics,
    correlator,
    async reload() {
      const next = await loadConfig(opts.configFiles);
      // the new analyzer takes over the state (with the file it is saved to): it opens nothing itself
      const nextAnalyzer = await buildAnalyzer(next.config, now, undefined, (note) => logger.warn(note), deferWindows);
      nextAnalyzer.adoptState?.(analyzer);
      config = next.config;
      analyzer = nextAnalyzer;
      return next.warnings.map(formatIssue);
    },
    async close() {
      await sink.commitPending();
      await analyzer.closeCorrelation();
      alertsFile.close();
      archivesFile?.close();
      await store?.close();
      await indexer?.close();
      await fetchPool?.close();
      state.close();
    },
  };
}

/** One collection cycle over every configured bucket (or the named ones). */
export async function runCycle(rt: Runtime, logger: Logger, opts: CycleOptions): Promise<BucketSummary[]> {
  const aws = rt.config.awsS3;
  if (!aws || aws.disabled) return [];
  const buckets = opts.bucketNames ? aws.buckets.filter((b) => opts.bucketNames?.includes(b.name)) : aws.buckets;
  const started = Date.now();
  // an output that failed in the last cycle was rolled back; its objects were not marked and are read again now
  await rt.sink.resume();
  const before = { ...rt.sink.counters };
  const summaries = await collectAll(buckets, {
    state: rt.state,
    sink: rt.sink,
    logger,
    signal: opts.signal,
    skipOnError: aws.skipOnError,
    now: () => new Date(),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.window ? { window: opts.window } : {}),
    // a source given by the caller cannot cross to another thread: then objects are read on this one
    ...(opts.sourceFor ? { sourceFor: opts.sourceFor } : { fetchPool: rt.fetchPool }),
  });
  rt.metrics.cycleSeconds.observe((Date.now() - started) / 1000);
  rt.metrics.alerts.inc(rt.sink.counters.alerts - before.alerts);
  for (const s of summaries) {
    const labels = { bucket: s.bucket, type: s.type };
    const bad = s.errors.length - s.retryLater;
    rt.metrics.objects.inc({ ...labels, status: 'ok' }, s.objects - bad > 0 ? s.objects - bad : 0);
    rt.metrics.records.inc(labels, s.records);
    rt.metrics.bytes.inc(labels, s.bytes);
    rt.metrics.errors.inc(labels, s.errors.length + (s.failed ? 1 : 0));
    if (s.newest) rt.metrics.lag.set(labels, (Date.now() - s.newest.getTime()) / 1000);
    if (!s.failed) rt.metrics.lastSuccess.set(labels, Date.now() / 1000);
  }
  return summaries;
}
