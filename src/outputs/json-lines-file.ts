/**
 * An append-only JSON-lines file (alerts.json, archives.json): lines are buffered and written in large
 * writes; `flush` writes and fsyncs, then returns the file size, which the collector stores with the
 * object's commit so a crash can be undone with `truncate`. A failed write (disk full, file-size limit) throws
 * an OutputError naming the file; the buffered lines are kept and the bytes of the torn write are cut off, so
 * the file stays a sequence of whole lines and the caller decides what to take back.
 */
import { closeSync, fstatSync, fsync, fsyncSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';

const fsyncAsync = promisify(fsync);
import { dirname, join } from 'node:path';
import { OutputError } from './output-error.js';

const HIGH_WATER = 1 << 20;

export class JsonLinesFile {
  readonly path: string;
  #fd: number;
  #pending: string[] = [];
  #pendingBytes = 0;
  #size: number;

  constructor(path: string) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
    this.#fd = openSync(path, 'a+');
    this.#size = fstatSync(this.#fd).size;
  }

  append(item: unknown): void {
    const line = `${JSON.stringify(item)}\n`;
    this.#pending.push(line);
    this.#pendingBytes += Buffer.byteLength(line, 'utf8');
    if (this.#pendingBytes >= HIGH_WATER) this.#write();
  }

  #write(): void {
    if (this.#pending.length === 0) return;
    const buf = Buffer.from(this.#pending.join(''), 'utf8');
    let off = 0;
    try {
      while (off < buf.length) off += writeSync(this.#fd, buf, off);
    } catch (e) {
      // a torn write leaves part of a line: cut it off (best effort: the caller truncates again on rollback)
      try {
        if (off > 0) ftruncateSync(this.#fd, this.#size);
      } catch {
        // the caller's truncate reports it
      }
      throw new OutputError(this.path, e);
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#size += buf.length;
  }

  /** Writes what is buffered and syncs it; the sync runs off the event loop (the collector goes on meanwhile). */
  async flush(): Promise<number> {
    this.#write();
    const size = this.#size;
    try {
      await fsyncAsync(this.#fd);
    } catch (e) {
      throw new OutputError(this.path, e);
    }
    return size;
  }

  /** Bytes written so far (lines still buffered are not counted). */
  size(): number {
    return this.#size;
  }

  /** The size the file will have once the buffered lines are written. */
  logicalSize(): number {
    return this.#size + this.#pendingBytes;
  }

  /**
   * Cuts the file back to `size` bytes. Buffered lines beyond `size` are dropped without being written (so a
   * rollback works on a full disk); when `size` lies among them, the ones before it are written first.
   */
  truncate(size: number): void {
    if (size <= this.#size) {
      this.#pending = [];
      this.#pendingBytes = 0;
    } else this.#write();
    try {
      ftruncateSync(this.#fd, size);
      fsyncSync(this.#fd);
    } catch (e) {
      throw new OutputError(this.path, e);
    }
    this.#size = size;
  }

  /** Writes what is buffered, fsyncs and closes; the descriptor is closed even when the write fails. */
  close(): void {
    try {
      this.#write();
      fsyncSync(this.#fd);
    } finally {
      closeSync(this.#fd);
    }
  }
}

export function alertsFilePath(dataDir: string): string {
  return join(dataDir, 'logs', 'alerts', 'alerts.json');
}

export function archivesFilePath(dataDir: string): string {
  return join(dataDir, 'logs', 'archives', 'archives.json');
}

/** `DATA_DIR/logs/alerts/alerts.json`: one alert per line, Wazuh's alert shape. */
export function openAlertsFile(dataDir: string): JsonLinesFile {
  return new JsonLinesFile(alertsFilePath(dataDir));
}

/** `DATA_DIR/logs/archives/archives.json`: every event (with `logall_json`), one per line. */
export function openArchivesFile(dataDir: string): JsonLinesFile {
  return new JsonLinesFile(archivesFilePath(dataDir));
}
