import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync, deflateRawSync } from 'node:zlib';
import { zipSync } from 'fflate';
import snappy from 'snappyjs';
import { ObjectDecodeError, type DecodeErrorCode } from '../errors.js';
import { detectCompression } from './detect.js';
import { createDecompressor, decompress, decompressStream, decompressSync, doneWith } from './decompress.js';
import { crc32c, maskedCrc32c } from './snappy.js';
/** the shared AWS log samples, copied into the repository (testdata/aws-log-samples/README.md) */
const SAMPLES_DIR = new URL('../../../testdata/aws-log-samples/', import.meta.url).pathname;

const SAMPLE = SAMPLES_DIR + 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1820Z_1ab9f65a.log';
const TEXT = readFileSync(SAMPLE);

const sync = (bytes: Buffer, maxBytes?: number) => Buffer.concat(decompressSync(bytes, maxBytes === undefined ? {} : { maxBytes }));

/** Feeds `bytes` in pieces of `size` bytes through decompressStream. */
async function streamed(bytes: Buffer, size: number, maxBytes?: number): Promise<Buffer> {
  async function* pieces() {
    for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
  }
  const out: Buffer[] = [];
  for await (const c of decompressStream(pieces(), maxBytes === undefined ? {} : { maxBytes })) out.push(c);
  return Buffer.concat(out);
}

async function all(bytes: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of decompress(bytes, detectCompression(bytes.subarray(0, 64), bytes.length))) out.push(c);
  return Buffer.concat(out);
}

function codeOf(f: () => unknown): DecodeErrorCode {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ObjectDecodeError, String(e));
    return e.code;
  }
  assert.fail('expected an ObjectDecodeError');
}

async function asyncError(p: Promise<unknown>): Promise<ObjectDecodeError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ObjectDecodeError, String(e));
    return e;
  }
  assert.fail('expected an ObjectDecodeError');
}

function frame(type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUIntLE(payload.length, 1, 3);
  return Buffer.concat([h, payload]);
}
const u32le = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u32be = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const STREAM_ID = Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]);

/** Snappy framing format as Firehose writes it: 64 KiB pieces, compressed chunks; one uncompressed chunk and padding for coverage. */
function snappyFramed(data: Buffer): Buffer {
  const parts: Buffer[] = [STREAM_ID];
  for (let at = 0, n = 0; at < data.length; at += 4096, n++) {
    const piece = data.subarray(at, at + 4096);
    if (n === 1) parts.push(frame(0x01, Buffer.concat([u32le(maskedCrc32c(piece)), piece])));
    else parts.push(frame(0x00, Buffer.concat([u32le(maskedCrc32c(piece)), Buffer.from(snappy.compress(piece))])));
    if (n === 0) parts.push(frame(0xfe, Buffer.alloc(3)));
  }
  return Buffer.concat(parts);
}

/** Hadoop-Snappy: blocks of 8 KiB raw data, each split into compressed pieces of 3000 bytes. */
function hadoopSnappy(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += 8192) {
    const block = data.subarray(at, at + 8192);
    parts.push(u32be(block.length));
    for (let p = 0; p < block.length; p += 3000) {
      const c = Buffer.from(snappy.compress(block.subarray(p, p + 3000)));
      parts.push(u32be(c.length), c);
    }
  }
  return Buffer.concat(parts);
}

test('CRC-32C matches the standard check value', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
});

test('gzip, single and multi-member, streamed in any piece size', async () => {
  const half = TEXT.indexOf('\n', 5000) + 1;
  const multi = Buffer.concat([gzipSync(TEXT.subarray(0, half)), gzipSync(TEXT.subarray(half))]);
  assert.equal(detectCompression(multi), 'gzip');
  assert.deepEqual(sync(multi), TEXT);
  assert.deepEqual(await streamed(multi, 7), TEXT);
  assert.deepEqual(await all(multi), TEXT);
  assert.deepEqual(sync(readFileSync(`${SAMPLE}.gz`)), TEXT);
  assert.deepEqual(await streamed(Buffer.concat([gzipSync(TEXT), Buffer.alloc(16)]), 4096), TEXT, 'zero padding after the last member is tolerated');
});

test('doneWith frees inflated memory once its last chunk is read, and nothing a reader may still view', async () => {
  // streamed: more than 1 MiB of gzip, so zlib's stream writes into 256 KiB buffers of its own
  const big = Buffer.concat(Array.from({ length: 400 }, () => TEXT));
  const gz = gzipSync(big, { level: 0 });
  assert.ok(gz.length > 1024 * 1024, 'the object is streamed, not inflated whole');
  const copies: Buffer[] = [];
  let freed = 0;
  for await (const c of decompressStream([gz])) {
    copies.push(Buffer.from(c));
    const under = c.buffer;
    doneWith(c);
    if (under.byteLength === 0) freed++;
  }
  assert.ok(Buffer.concat(copies).equals(big), 'every byte came through, read before its memory went');
  assert.ok(freed >= Math.floor(big.length / (256 * 1024)) - 1, `the full 256 KiB buffers were freed (${freed})`);
  // inflated whole (a small object): its memory goes with the last chunk, not before
  const small = Buffer.concat(Array.from({ length: 100 }, () => TEXT));
  const chunks: Buffer[] = [];
  for await (const c of decompressStream([gzipSync(small)])) chunks.push(c);
  assert.ok(chunks.length > 1, 'several chunks over one buffer');
  doneWith(chunks[0]!);
  assert.ok(chunks[1]!.length > 0, 'a chunk that is not the last frees nothing');
  const last = chunks[chunks.length - 1]!;
  const under = last.buffer;
  assert.ok(Buffer.concat(chunks).equals(small));
  doneWith(last);
  assert.equal(under.byteLength, 0, 'the last chunk freed the buffer');
  // memory this module did not make is never freed: a caller's Buffer, Buffer's shared pool
  const mine = Buffer.alloc(512 * 1024);
  doneWith(mine);
  const pooled = Buffer.from('a pooled buffer');
  doneWith(pooled);
  assert.equal(mine.length, 512 * 1024);
  assert.equal(pooled.toString(), 'a pooled buffer');
});

test('gzip: truncated and corrupt objects get distinct codes, streamed or not', async () => {
  const gz = gzipSync(TEXT);
  const truncated = gz.subarray(0, gz.length - 100);
  assert.equal(codeOf(() => sync(truncated)), 'TLD_ERR_DECODE_GZIP_TRUNCATED');
  const e = await asyncError(streamed(truncated, 500));
  assert.equal(e.code, 'TLD_ERR_DECODE_GZIP_TRUNCATED');
  assert.match(e.message, /truncated gzip data/);
  const corrupt = Buffer.from(gz);
  corrupt.writeUInt32LE(corrupt.readUInt32LE(corrupt.length - 8) ^ 1, corrupt.length - 8); // CRC-32 trailer
  assert.equal(codeOf(() => sync(corrupt)), 'TLD_ERR_DECODE_GZIP_CORRUPT');
  assert.equal((await asyncError(streamed(corrupt, 1000))).code, 'TLD_ERR_DECODE_GZIP_CORRUPT');
  const badBlock = Buffer.from(gz);
  badBlock[10] = 0xff; // first deflate block header: reserved block type
  assert.equal(codeOf(() => sync(badBlock)), 'TLD_ERR_DECODE_GZIP_CORRUPT');
});

test('zip: every member in directory order, stored and deflated; corrupt members refused', async () => {
  const a = TEXT.subarray(0, 3000);
  const b = TEXT.subarray(TEXT.indexOf('\n', 3000) + 1);
  const zip = Buffer.from(zipSync({ 'z-first.log': a, 'dir/': new Uint8Array(0), 'a-second.log': [b, { level: 0 }] }));
  assert.equal(detectCompression(zip), 'zip');
  const out = sync(zip);
  assert.deepEqual(out, Buffer.concat([a, Buffer.from('\n'), b]), 'first member gets a newline so lines of the next do not join it');
  assert.deepEqual(await streamed(zip, 100), out);
  const bad = Buffer.from(zip);
  const at = bad.indexOf(Buffer.from('z-first.log')) + 'z-first.log'.length; // first member's data (local header)
  bad[at + 5] = (bad[at + 5] as number) ^ 0xff;
  assert.equal(codeOf(() => sync(bad)), 'TLD_ERR_DECODE_ZIP');
  assert.equal(codeOf(() => sync(zip.subarray(0, zip.length - 30))), 'TLD_ERR_DECODE_ZIP');
  // a member declaring a small size but inflating to more
  const big = Buffer.from(zipSync({ 'x.log': TEXT }));
  const cd = big.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  big.writeUInt32LE(100, cd + 24);
  assert.throws(() => sync(big), /member "x.log" inflates to more than its declared 100 bytes/);
});

test('zstd: frames from the zstd tool, streamed; truncated and corrupt refused', async () => {
  const zst = readFileSync(new URL('../testdata/two-frames.log.zst', import.meta.url));
  assert.equal(detectCompression(zst), 'zstd');
  const two = Buffer.concat([TEXT, readFileSync(SAMPLE.replace('1820Z_1ab9f65a', '1920Z_21f4b1b7'))]);
  assert.deepEqual(sync(zst), two);
  assert.deepEqual(await streamed(zst, 333), two);
  assert.equal(codeOf(() => sync(zst.subarray(0, 500))), 'TLD_ERR_DECODE_ZSTD');
  const corrupt = Buffer.from(zst);
  corrupt.fill(0xff, 20, 60);
  assert.equal(codeOf(() => sync(corrupt)), 'TLD_ERR_DECODE_ZSTD');
});

test('Snappy framing format (Firehose "Snappy"): chunks, padding, checksums verified', async () => {
  const framed = snappyFramed(TEXT);
  assert.equal(detectCompression(framed), 'snappy-framed');
  assert.deepEqual(sync(framed), TEXT);
  assert.deepEqual(await streamed(framed, 1001), TEXT);
  const badCrc = Buffer.from(framed);
  badCrc[STREAM_ID.length + 4] = (badCrc[STREAM_ID.length + 4] as number) ^ 1;
  assert.equal(codeOf(() => sync(badCrc)), 'TLD_ERR_DECODE_SNAPPY');
  assert.equal(codeOf(() => sync(framed.subarray(0, framed.length - 10))), 'TLD_ERR_DECODE_SNAPPY');
  const reserved = Buffer.concat([STREAM_ID, frame(0x05, Buffer.alloc(8))]);
  assert.throws(() => sync(reserved), /reserved unskippable Snappy chunk type 0x5 at byte 10/);
});

test('Hadoop-Snappy (Firehose "HADOOP_SNAPPY"): blocks of several compressed pieces, streamed', async () => {
  const hadoop = hadoopSnappy(TEXT);
  assert.equal(detectCompression(hadoop), 'hadoop-snappy');
  assert.deepEqual(sync(hadoop), TEXT);
  assert.deepEqual(await streamed(hadoop, 777), TEXT);
  assert.equal(codeOf(() => sync(hadoop.subarray(0, hadoop.length - 5))), 'TLD_ERR_DECODE_SNAPPY');
});

test('plain text passes through; empty and unknown binary objects are refused with a plain cause', async () => {
  assert.equal(detectCompression(TEXT), 'plain');
  assert.deepEqual(sync(TEXT), TEXT);
  assert.deepEqual(await streamed(TEXT, 4096), TEXT);
  assert.equal(codeOf(() => sync(Buffer.alloc(0))), 'TLD_ERR_DECODE_EMPTY_OBJECT');
  assert.equal((await asyncError(streamed(Buffer.alloc(0), 10))).code, 'TLD_ERR_DECODE_EMPTY_OBJECT');
  const parquet = Buffer.from('504152310015040000000000000000000000000000000000', 'hex');
  assert.throws(() => sync(parquet), (err: unknown) => err instanceof ObjectDecodeError && err.code === 'TLD_ERR_DECODE_UNKNOWN_COMPRESSION' && /Parquet content/.test(err.message));
  const binary = Buffer.from('7f454c4602010100000000000000000003003e00', 'hex'); // an ELF header
  assert.throws(() => sync(binary), (err: unknown) => err instanceof ObjectDecodeError && err.code === 'TLD_ERR_DECODE_UNKNOWN_COMPRESSION' && /not gzip, zip, zstd, Snappy or text \(first bytes 7f454c4602010100\)/.test(err.message));
});

test('a decompressed-size cap stops bombs for every format', async () => {
  const zeros = Buffer.alloc(1 << 20, 0x61);
  const max = 100_000;
  const bombs: Record<string, Buffer> = {
    gzip: gzipSync(zeros),
    zip: Buffer.from(zipSync({ 'a.log': zeros })),
    snappy: snappyFramed(zeros),
    hadoop: hadoopSnappy(zeros),
    plain: zeros,
  };
  for (const [name, bomb] of Object.entries(bombs)) {
    assert.equal(codeOf(() => sync(bomb, max)), 'TLD_ERR_DECODE_TOO_LARGE', name);
    assert.equal((await asyncError(streamed(bomb, 65536, max))).code, 'TLD_ERR_DECODE_TOO_LARGE', name);
  }
});

test('createDecompressor: an incremental decompressor chosen from the first bytes', () => {
  const framed = snappyFramed(TEXT);
  const d = createDecompressor(framed.subarray(0, 64), { totalSize: framed.length });
  assert.equal(d.kind, 'snappy-framed');
  const out: Buffer[] = [];
  for (let at = 0; at < framed.length; at += 50) out.push(...d.push(framed.subarray(at, at + 50)));
  out.push(...d.end());
  assert.deepEqual(Buffer.concat(out), TEXT);
  assert.equal(codeOf(() => createDecompressor(deflateRawSync(TEXT).subarray(0, 64), { totalSize: 5000 })), 'TLD_ERR_DECODE_UNKNOWN_COMPRESSION', 'raw deflate is not a container we know');
});
