/**
 * Incremental decompressors with one shape: feed compressed chunks to `push`, call `end` once; each call
 * returns the decompressed chunks produced so far. Errors are `ObjectDecodeError`s.
 */
import { Decompress as ZstdDecompress } from 'fzstd';
import { ObjectDecodeError } from '../errors.js';

export interface Codec {
  push(chunk: Uint8Array): Buffer[];
  end(): Buffer[];
}

/** Plain text: chunks pass through unchanged. */
export class PlainCodec implements Codec {
  push(chunk: Uint8Array): Buffer[] {
    return chunk.length === 0 ? [] : [Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)];
  }
  end(): Buffer[] {
    return [];
  }
}

/** Zstandard (one or several frames), streaming through fzstd. */
export class ZstdCodec implements Codec {
  readonly #out: Buffer[] = [];
  readonly #z = new ZstdDecompress((data) => {
    this.#out.push(Buffer.from(data.buffer, data.byteOffset, data.length));
  });
  #seen = 0;

  push(chunk: Uint8Array): Buffer[] {
    this.#seen += chunk.length;
    this.#run(() => this.#z.push(chunk));
    return this.#out.splice(0);
  }

  end(): Buffer[] {
    this.#run(() => this.#z.push(new Uint8Array(0), true));
    return this.#out.splice(0);
  }

  #run(step: () => void): void {
    try {
      step();
    } catch (e) {
      const err = e as Error & { code?: number };
      const what = err.code === 5 ? 'truncated zstd data (the object ends inside a frame)' : `corrupt zstd data (${err.message})`;
      throw new ObjectDecodeError('TLD_ERR_DECODE_ZSTD', `${what}, after ${this.#seen} compressed bytes`, { cause: e });
    }
  }
}

/** Wraps a codec so its total output never exceeds `max` bytes (decompression bombs). */
export class CappedCodec implements Codec {
  #total = 0;
  constructor(
    private readonly inner: Codec,
    private readonly max: number,
  ) {}
  push(chunk: Uint8Array): Buffer[] {
    return this.#count(this.inner.push(chunk));
  }
  end(): Buffer[] {
    return this.#count(this.inner.end());
  }
  #count(out: Buffer[]): Buffer[] {
    for (const b of out) this.#total += b.length;
    if (this.#total > this.max) throw tooLarge(this.max);
    return out;
  }
}

export function tooLarge(max: number): ObjectDecodeError {
  return new ObjectDecodeError('TLD_ERR_DECODE_TOO_LARGE', `decompressed content exceeds ${max} bytes (the limit against decompression bombs)`);
}
