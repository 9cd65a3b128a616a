/**
 * Where the correlation state lives between runs: `<data dir>/state/correlation.jsonl`, one JSON array per line.
 * A snapshot (every line of the state) replaces the file atomically (temp file, fsync, rename, fsync of the
 * folder); between snapshots each save appends the lines of what changed and fsyncs. Reading replays the lines
 * in order (later lines win). A last line without its newline, or unreadable lines at the very end, are a save
 * torn by a crash: they are cut off (that save never completed, so no object it covered was marked processed).
 */
import { open, readFile, rename, truncate, type FileHandle } from 'node:fs/promises';
import { mkdirSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';

export const CORRELATION_FILE = 'correlation.jsonl';

export class CorrelationFileError extends Error {
  readonly code = 'TLD_ERR_CORRELATION_STATE';
}

export class CorrelationFile {
  readonly path: string;
  readonly #dir: string;
  #fd: FileHandle | undefined;
  /** bytes in the file, and in its last snapshot */
  #bytes = 0;
  #snapshotBytes = 0;

  private constructor(dir: string) {
    this.#dir = dir;
    this.path = join(dir, CORRELATION_FILE);
  }

  /** Opens (creating the folder) and reads the saved records, cutting off a torn end. */
  static async open(dir: string): Promise<{ file: CorrelationFile; records: unknown[][] }> {
    mkdirSync(dir, { recursive: true });
    const file = new CorrelationFile(dir);
    let text = '';
    try {
      text = await readFile(file.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CorrelationFileError(`Cannot read the correlation state ${file.path}: ${(e as Error).message}. Check the data folder's permissions.`, { cause: e });
    }
    const records: unknown[][] = [];
    let good = 0; // bytes of complete, readable lines
    let bad: { line: number; message: string } | undefined;
    let offset = 0;
    let line = 0;
    let consumed = 0;
    while (offset < text.length) {
      const nl = text.indexOf('\n', offset);
      if (nl < 0) break; // torn: no newline
      line++;
      const body = text.slice(offset, nl);
      offset = nl + 1;
      consumed += Buffer.byteLength(body) + 1;
      if (body.trim() === '') {
        if (!bad) good = consumed;
        continue;
      }
      try {
        const rec = JSON.parse(body) as unknown;
        if (!Array.isArray(rec)) throw new Error('not a correlation record');
        if (bad) throw new CorrelationFileError(`The correlation state ${file.path} is damaged at line ${bad.line} (${bad.message}) with readable lines after it. Move the file away to start with empty correlation windows (a port scan or brute force split across this restart may then go unreported).`);
        records.push(rec);
        good = consumed;
      } catch (e) {
        if (e instanceof CorrelationFileError) throw e;
        bad ??= { line, message: (e as Error).message };
      }
    }
    const size = Buffer.byteLength(text);
    if (good < size) await truncate(file.path, good).catch(() => undefined);
    file.#bytes = good;
    file.#snapshotBytes = good;
    return { file, records };
  }

  /** bytes appended since the last snapshot, against the snapshot's size: when to write a snapshot instead */
  get journalBytes(): number {
    return this.#bytes - this.#snapshotBytes;
  }

  get snapshotBytes(): number {
    return this.#snapshotBytes;
  }

  async append(text: string): Promise<void> {
    if (text === '') return;
    try {
      this.#fd ??= await open(this.path, 'a');
      const data = Buffer.from(text);
      await this.#fd.write(data);
      await this.#fd.datasync();
      this.#bytes += data.length;
    } catch (e) {
      throw new CorrelationFileError(`Cannot save the correlation state to ${this.path}: ${(e as Error).message}. Free space or fix permissions in the data folder; the objects of this commit are read again.`, { cause: e });
    }
  }

  /** Replaces the whole file with `text` (a snapshot). */
  async replace(text: string): Promise<void> {
    const tmp = `${this.path}.tmp`;
    try {
      const data = Buffer.from(text);
      const fd = await open(tmp, 'w');
      try {
        await fd.write(data);
        await fd.sync();
      } finally {
        await fd.close();
      }
      await this.#fd?.close();
      this.#fd = undefined;
      await rename(tmp, this.path);
      const dirFd = openSync(this.#dir, 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
      this.#bytes = data.length;
      this.#snapshotBytes = data.length;
    } catch (e) {
      throw new CorrelationFileError(`Cannot save the correlation state to ${this.path}: ${(e as Error).message}. Free space or fix permissions in the data folder; the objects of this commit are read again.`, { cause: e });
    }
  }

  async close(): Promise<void> {
    await this.#fd?.close();
    this.#fd = undefined;
  }
}
