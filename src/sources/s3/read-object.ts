/**
 * Reading one object's bytes: GetObject (streamed), a check that the body is as long as the object, and
 * decompression (sniffed from the bytes). What comes out is the object's plain content in chunks, ready for its
 * decoder. The same code runs on the collector's thread (`readContent`) and on the fetch threads
 * (fetch-thread.ts), which hand the chunks over (fetch-pool.ts).
 */
import { decompressStream } from '../../decoders/index.js';
import type { ObjectBody, ObjectSource } from './client.js';

/**
 * The body stream broke (connection reset mid-object…) or ended before the size the listing gave: the object is
 * read again at once, and if that keeps failing, left unmarked for the next cycle.
 */
export class TransientReadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientReadError';
  }
}

/** What to read: the key and what the listing said of it. */
export interface ContentRequest {
  key: string;
  /** size in the listing (a body ending before it was cut short) */
  listedSize: number;
  /** LastModified in the listing, epoch ms: an object replaced since then is checked against its own size */
  listedModified?: number;
}

/** An object's decompressed content being read. */
export interface ObjectContent {
  /** the plain bytes, in order; throws TransientReadError, S3AccessError or ObjectDecodeError */
  chunks: AsyncIterable<Buffer>;
  /** Stops reading early (frees the connection); harmless once the content was read to its end. */
  discard(): void;
}

/**
 * Streams the object's body through the length check and decompression. `onBytes` is told of each piece of the
 * (compressed) body as it arrives. A GetObject already started (prefetch) may be passed as `started`.
 */
export function readContent(source: ObjectSource, req: ContentRequest, onBytes: (n: number) => void, started?: Promise<ObjectBody>): ObjectContent {
  let body: ObjectBody | undefined;
  let discarded = false;
  const opened = started ?? source.get(req.key);
  opened.catch(() => undefined);
  async function* counted(): AsyncGenerator<Uint8Array> {
    body = await opened;
    if (discarded) {
      body.discard();
      return;
    }
    // the size the listing gave, unless the object was replaced since (then the GET's own Content-Length)
    const replaced = body.lastModified !== undefined && req.listedModified !== undefined && body.lastModified.getTime() > req.listedModified;
    const expected = replaced ? body.size : req.listedSize;
    let read = 0;
    try {
      for await (const chunk of body.body) {
        read += chunk.byteLength;
        onBytes(chunk.byteLength);
        yield chunk;
      }
    } catch (e) {
      throw new TransientReadError(`the object's body could not be read to the end (${(e as Error).message})`, { cause: e });
    }
    // a body cut short with a Content-Length that matches it ends "normally": only the listed size tells
    if (read < expected) throw new TransientReadError(`the object's body ended after ${read} of its ${expected} bytes`);
  }
  return {
    chunks: decompressStream(counted()),
    discard() {
      discarded = true;
      body?.discard();
      if (!body) void opened.then((b) => b.discard(), () => undefined);
    },
  };
}
