/**
 * Prometheus metrics of the collector: objects, records, bytes, errors and lag per bucket, cycle timings,
 * and the store's retention runs. One registry per process (created by the composition root, never global).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

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
