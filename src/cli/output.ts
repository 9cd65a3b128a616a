/**
 * Writing to stdout/stderr so that nothing is lost. When stdout is a pipe, Node writes to it asynchronously:
 * what the reader has not taken yet waits in memory, and `process.exit()` would drop it. So commands write
 * through `out()` (which waits while the pipe is full, keeping memory flat) and main.ts calls `flushStdio()`
 * before it ends the process. A reader that goes away (`tld logtest | head`) is not an error of ours.
 */

let stdoutClosed = false;

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') stdoutClosed = true;
  else throw e;
});

/** True once the reader of stdout has gone away: stop producing output. */
export function stdoutIsClosed(): boolean {
  return stdoutClosed;
}

function settle(stream: NodeJS.WriteStream, done: () => void): void {
  const finish = () => {
    stream.off('drain', finish);
    stream.off('close', finish);
    stream.off('error', finish);
    done();
  };
  stream.once('drain', finish);
  stream.once('close', finish);
  stream.once('error', finish);
}

/** Writes `text` to stdout; resolves once the stream can take more (at once unless the pipe is full). */
export function out(text: string): Promise<void> {
  if (stdoutClosed) return Promise.resolve();
  if (process.stdout.write(text)) return Promise.resolve();
  return new Promise((resolve) => settle(process.stdout, resolve));
}

/** Resolves once everything written so far to `stream` has been handed to the operating system. */
function flush(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || stream.writableEnded || (stream === process.stdout && stdoutClosed)) return Promise.resolve();
  if (stream.writableLength === 0 && !stream.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    // writes complete in order: the callback of an empty write runs after every earlier chunk is written
    try {
      stream.write('', () => resolve());
    } catch {
      resolve();
    }
    stream.once('close', () => resolve());
  });
}

/** Waits until stdout and stderr have written out everything (call before ending the process). */
export async function flushStdio(): Promise<void> {
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
}
