/**
 * Errors of the indexer store. Each names the cluster (hosts without credentials), what failed and what to do;
 * `retryable` says whether the same request may succeed later (429, 5xx, connection) — the bulk writer retries
 * those with backoff, and when it gives up the pipeline reads the objects again at the next cycle.
 */

/** A URL without user:password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}

/** A request the cluster refused as a whole, or that never got an answer. */
export class IndexerRequestError extends Error {
  readonly code = 'TLD_ERR_INDEXER_REQUEST';
  /** HTTP status, or 0 when no answer came (connection refused, reset, timeout) */
  readonly status: number;
  readonly retryable: boolean;

  constructor(what: string, hosts: string, status: number, reason: string, options?: { cause?: unknown }) {
    // a TLS failure does not heal by itself: not retried, and the message points at <ssl>
    const tls = status === 0 && /certificate|self[- ]signed|ssl|tls|handshake/i.test(reason);
    const retryable = !tls && (status === 0 || status === 429 || status >= 500);
    const next = tls
      ? 'check <ssl> in <indexer>: <certificate_authorities><ca> must hold the CA that signed the nodes\' certificates (and <certificate>/<key> a client certificate the cluster accepts, when it asks for one)'
      : status === 401 || status === 403
        ? 'check the credentials (credentials_file or TLD_INDEXER_USERNAME/TLD_INDEXER_PASSWORD) and the user\'s permissions on wazuh-alerts-4.x-* and tld-*'
        : status === 413
          ? 'lower <bulk_max_bytes> in <indexer> below the cluster\'s http.max_content_length'
          : retryable
            ? 'the cluster is unreachable or overloaded; the objects not yet written are read again at the next cycle'
            : 'see the reason; the objects not yet written are read again at the next cycle';
    super(`indexer ${hosts}: ${what} failed${status ? ` with HTTP ${status}` : ''}: ${reason}; ${next}`, options);
    this.status = status;
    this.retryable = retryable;
  }
}

/** Documents the cluster refused one by one (a mapping conflict, a closed index…), after retrying what could be. */
export class IndexerDocumentError extends Error {
  readonly code = 'TLD_ERR_INDEXER_DOCUMENT';
  readonly failures: { index: string; id: string; status: number; type: string; reason: string; object: string }[];

  constructor(hosts: string, failures: IndexerDocumentError['failures'], retryable: boolean) {
    const first = failures.slice(0, 3).map((f) => `${f.index}/${f.id} (from ${f.object}): HTTP ${f.status} ${f.type}: ${f.reason}`);
    const more = failures.length > 3 ? ` and ${failures.length - 3} more` : '';
    const next = retryable
      ? 'the cluster kept refusing them for now (overloaded?); the objects are read again at the next cycle'
      : 'their objects are not marked processed and are read again at the next cycle; fix the cause (e.g. the index template or a field type) first';
    super(`indexer ${hosts}: ${failures.length} document(s) refused: ${first.join('; ')}${more}; ${next}`);
    this.failures = failures;
  }
}

/** A file of the `<indexer>` block (CA, certificate, key, credentials) that cannot be used. */
export class IndexerConfigError extends Error {
  readonly code = 'TLD_ERR_INDEXER_CONFIG';
  constructor(file: string, what: string, options?: { cause?: unknown }) {
    super(`indexer: ${file}: ${what}`, options);
  }
}
