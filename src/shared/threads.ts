/**
 * Starts a module of ours on a worker thread. From the compiled package (`dist/`, as `tld` runs) that is the
 * module's .js file; from the TypeScript sources (tests, the benchmark, run through tsx) the thread loads the .ts
 * file through tsx's API, since Node does not hand the parent's `--import tsx` loader to worker threads.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `name` (without extension) next to the module at `nearUrl` (pass `import.meta.url`), on a new thread. */
export function startThread(nearUrl: string, name: string, options: WorkerOptions = {}): Worker {
  const ext = extname(fileURLToPath(nearUrl));
  const url = new URL(`./${name}${ext}`, nearUrl);
  if (ext !== '.ts') return new Worker(url, options);
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then(({ tsImport }) => tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(nearUrl)}))`;
  return new Worker(code, { ...options, eval: true });
}
