/**
 * Prometheus metrics of the collector: objects, records, bytes, errors and lag per bucket, cycle timings,
 * the store's retention runs, and the SQS workers' messages. One registry per process (created by the composition root, never global).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BulkCounters } from '../indexer/bulk-writer.js';

export interface BucketLabels {
  bucket: string;
  type: string;
}

export class CollectorMetrics {
  readonly registry = new Registry();
  readonly objects = new Counter({ name: 'tld_objects_total', help: 'S3 objects processed', labelNames: ['bucket', 'type', 'status'], registers: [this.registry] });
  readonly records = new Counter({ name: 'tld_records_total', help: 'Records decoded from S3 objects', labelNames: ['bucket', 'type'], registers: [this.registry] });
  readonly bytes = new Counter({ name: 'tld_bytes_total', help: 'Bytes read from S3 (as stored, usually compressed)', labelNames: ['bucket', 'type'], registers: [this.registry] });
  readonly errors = new Counter({ name: 'tld_errors_total', help: 'Object and bucket errors', labelNames: ['bucket', 'type'], registers: [this.registry] });
  readonly alerts = new Counter({ name: 'tld_alerts_total', help: 'Alerts written to alerts.json', registers: [this.registry] });
  readonly lag = new Gauge({ name: 'tld_bucket_lag_seconds', help: 'Seconds between now and the LastModified of the newest object read, per bucket', labelNames: ['bucket', 'type'], registers: [this.registry] });
  readonly lastSuccess = new Gauge({ name: 'tld_bucket_last_success_timestamp_seconds', help: 'End of the last cycle in which the bucket was read without a bucket-level failure', labelNames: ['bucket', 'type'], registers: [this.registry] });
  readonly cycleSeconds = new Histogram({ name: 'tld_cycle_duration_seconds', help: 'Duration of collection cycles', buckets: [1, 5, 15, 60, 300, 900, 3600], registers: [this.registry] });
  readonly retentionLastRun = new Gauge({ name: 'tld_retention_last_run_timestamp_seconds', help: 'When retention last ran to completion (flow_retention_days, alert_retention_days)', registers: [this.registry] });
  readonly retentionRemoved = new Counter({ name: 'tld_retention_removed_rows_total', help: 'Store rows removed by retention, per table (flows, alerts, objects: the per-object ingestion health)', labelNames: ['table'], registers: [this.registry] });
  readonly retentionFailures = new Counter({ name: 'tld_retention_failures_total', help: 'Retention runs that failed (the rows stay until the next run)', registers: [this.registry] });

  // workers on an SQS queue (src/sources/sqs/worker.ts)
  readonly sqsReceived = new Counter({ name: 'tld_sqs_messages_received_total', help: 'SQS messages received (a redelivery counts again)', labelNames: ['queue'], registers: [this.registry] });
  readonly sqsDeleted = new Counter({ name: 'tld_sqs_messages_deleted_total', help: 'SQS messages deleted: every object they announced is durable in the outputs (or was already), or they announced nothing to read (s3:TestEvent, removals)', labelNames: ['queue'], registers: [this.registry] });
  readonly sqsFailed = new Counter({ name: 'tld_sqs_messages_failed_total', help: 'SQS messages left on the queue for redelivery (and, after maxReceiveCount, its dead-letter queue), by reason: object (unreadable, unknown layout), message (not a notification); a message whose objects an output or the state failed to make durable is kept in flight and read again instead', labelNames: ['queue', 'reason'], registers: [this.registry] });
  readonly sqsVisibilityExtensions = new Counter({ name: 'tld_sqs_visibility_extensions_total', help: 'ChangeMessageVisibility calls that kept a message hidden while its objects were being read and committed', labelNames: ['queue'], registers: [this.registry] });
  readonly sqsOldestMessageAge = new Gauge({ name: 'tld_sqs_oldest_message_age_seconds', help: 'Age (since it was first sent) of the oldest message in the last batch received', labelNames: ['queue'], registers: [this.registry] });
  readonly sqsUtilization = new Gauge({ name: 'tld_sqs_worker_utilization', help: 'Share of the last minute the worker spent handling messages rather than waiting for them (0–1)', labelNames: ['queue'], registers: [this.registry] });

  // the frequency-window correlator (src/indexer/window-correlator.ts), with the indexer as the store
  readonly correlatorPasses = new Counter({ name: 'tld_correlator_passes_total', help: 'Passes of the frequency-window correlator over the fleet\'s partials, by result (ok, failed: see the log; the next pass looks again)', labelNames: ['result'], registers: [this.registry] });
  readonly correlatorWindows = new Counter({ name: 'tld_correlator_windows_total', help: 'Windows that fired in a pass, by result: written (this worker created the alert), already_written (409: an earlier pass or another worker wrote it)', labelNames: ['result'], registers: [this.registry] });
  readonly correlatorUnsettled = new Gauge({ name: 'tld_correlator_unsettled_keys', help: 'Frequency-rule keys with occurrences not yet settled (newer than the newest record time minus correlation_grace_seconds)', registers: [this.registry] });
  readonly correlatorSettledUntil = new Gauge({ name: 'tld_correlator_settled_until_timestamp_seconds', help: 'Record time up to which frequency windows are decided (the fleet\'s newest record time minus correlation_grace_seconds)', registers: [this.registry] });

  /** Counts a correlator pass (`report` undefined: it failed). */
  correlatorPass(report: { alerts: number; written: number; unsettled: number; settledUntil: number | undefined } | undefined): void {
    if (!report) {
      this.correlatorPasses.inc({ result: 'failed' });
      return;
    }
    this.correlatorPasses.inc({ result: 'ok' });
    this.correlatorWindows.inc({ result: 'written' }, report.written);
    this.correlatorWindows.inc({ result: 'already_written' }, report.alerts - report.written);
    this.correlatorUnsettled.set(report.unsettled);
    if (report.settledUntil !== undefined) this.correlatorSettledUntil.set(report.settledUntil / 1000);
  }

  /**
   * The indexer store's bulk counters (`<store><backend>indexer</backend>`), read when /metrics is scraped: the
   * bulk writer keeps them (src/indexer/bulk-writer.ts) and a reload does not replace it, so they are only mirrored.
   */
  watchIndexer(source: () => Readonly<BulkCounters>): void {
    const mirror = (name: string, help: string, value: (c: Readonly<BulkCounters>) => Partial<Record<string, number>>, labelNames: string[] = []): void => {
      new Counter({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const [label, v] of Object.entries(value(source()))) {
            if (labelNames.length) this.inc({ [labelNames[0]!]: label }, v ?? 0);
            else this.inc(v ?? 0);
          }
        },
      });
    };
    mirror('tld_indexer_documents_total', 'Documents sent to the indexer, by result: written (created, or updated for findings), already_written (409: an earlier read wrote it), refused (a permanent per-item error: see the log)', (c) => ({ written: c.written, already_written: c.alreadyWritten, refused: c.refused }), ['result']);
    mirror('tld_indexer_bulk_requests_total', 'Bulk requests sent to the indexer (retries included)', (c) => ({ all: c.requests }));
    mirror('tld_indexer_retries_total', 'What was sent to the indexer again after a 429, a 5xx or no answer: whole bulk requests, or single documents', (c) => ({ request: c.retriedRequests, document: c.retriedItems }), ['kind']);
  }

  constructor() {
    for (const table of ['flows', 'alerts', 'objects']) this.retentionRemoved.inc({ table }, 0);
  }

  /** Prometheus text exposition format. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
