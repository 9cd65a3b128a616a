/**
 * Every command flushes its output before the process ends: the real CLI runs as a child process with its
 * stdout on a pipe that this test reads slowly (it starts reading only once the child has exited, or after a
 * pause), the way `tld logtest … | jq` does on a busy machine. Every line must arrive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = new URL('../../bin/tld.js', import.meta.url).pathname;

interface Run {
  status: number | null;
  out: string;
  err: string;
}

/**
 * Runs `tld args…` with `input` on stdin. stdout is left unread until the child has exited (or 3 s have
 * passed, whichever comes first), then read with a pause after every chunk. What a child leaves behind when it
 * exits is whatever fits in the pipe's kernel buffer (a few hundred KB at most), so the outputs here are
 * larger than that.
 */
async function runWithSlowReader(args: string[], input: string): Promise<Run> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (err += d));
  const exited = once(child, 'exit');
  child.stdin.on('error', () => {}); // a child that stops reading early must not fail the test here
  child.stdin.end(input);
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    child.stdout.pause();
    setTimeout(() => child.stdout.resume(), 2);
  });
  child.stdout.pause();
  await Promise.race([exited, delay(3000)]);
  child.stdout.resume();
  if (!child.stdout.readableEnded) await once(child.stdout, 'end');
  const status = child.exitCode ?? ((await exited) as [number | null])[0];
  if (!child.stderr.readableEnded) await once(child.stderr, 'end');
  return { status, out: Buffer.concat(chunks).toString('utf8'), err };
}

function finding(i: number): string {
  return JSON.stringify({
    integration: 'aws',
    aws: {
      source: 'guardduty',
      severity: 7.5,
      title: `finding number ${i} with a long enough title to make the output of each event larger than a few bytes`,
      type: 'Recon:EC2/Portscan',
      service: { action: { actionType: 'NETWORK_CONNECTION' } },
    },
  });
}

test('tld logtest --json into a slow pipe: all 3,000 results arrive, then exit 0', async () => {
  const n = 3000;
  const input = Array.from({ length: n }, (_, i) => finding(i + 1)).join('\n') + '\n';
  const r = await runWithSlowReader(['logtest', '--json'], input);
  assert.equal(r.status, 0, r.err);
  const lines = r.out.split('\n').filter(Boolean);
  assert.equal(lines.length, n, `got ${lines.length} of ${n} lines`);
  const results = lines.map((l) => JSON.parse(l) as { event: number; line: number; rule: { id: string } | null });
  assert.deepEqual(results.map((x) => x.event), Array.from({ length: n }, (_, i) => i + 1));
  assert.ok(results.every((x) => x.rule?.id === '80303'));
});

test('tld logtest (text) into a slow pipe: every event block arrives', async () => {
  const n = 2000;
  const input = Array.from({ length: n }, (_, i) => finding(i + 1)).join('\n');
  const r = await runWithSlowReader(['logtest'], input);
  assert.equal(r.status, 0, r.err);
  assert.equal(r.out.match(/^\*\*Event \d+:$/gm)?.length, n);
  assert.match(r.out, new RegExp(`\\*\\*Event ${n}:\\n[\\s\\S]*finding number ${n} [\\s\\S]*\\*\\*Alert to be generated\\.\\n\\n$`));
});

test('tld logtest: a line that is not a JSON event is an error for that line only; the others are analysed', async () => {
  const lines = Array.from({ length: 2500 }, (_, i) => finding(i + 1));
  lines.splice(1000, 0, 'not json {');
  lines.splice(2000, 0, '42');
  const r = await runWithSlowReader(['logtest', '--json'], lines.join('\n') + '\n');
  assert.equal(r.status, 2, 'bad input lines make the exit code non-zero');
  const results = r.out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { line: number; rule: { id: string } | null });
  assert.equal(results.length, 2500);
  assert.ok(!results.some((x) => x.line === 1001 || x.line === 2001));
  assert.equal(results.at(-1)?.line, 2502);
  assert.match(r.err, /line 1001 of stdin is not JSON/);
  assert.match(r.err, /line 2001 of stdin is not a JSON object/);
  assert.match(r.err, /2 of 2502 lines of stdin were skipped/);
  assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
});

test('every command goes through the same exit: check-config --json into a slow pipe delivers the whole document', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-flush-'));
  const conf = join(dir, 'ossec.conf');
  const buckets = Array.from({ length: 2000 }, (_, i) => `<bucket type="vpcflow"><name>bucket-number-${i}</name><path>some/prefix/${i}</path><aws_account_id>111111111111,222222222222</aws_account_id><regions>us-east-1,eu-west-1</regions></bucket>`).join('\n');
  writeFileSync(conf, `<ossec_config><wodle name="aws-s3">${buckets}</wodle></ossec_config>\n`);
  const r = await runWithSlowReader(['check-config', '-c', conf, '--json'], '');
  assert.equal(r.status, 0, r.err);
  const config = JSON.parse(r.out) as { awsS3: { buckets: unknown[] } };
  assert.equal(config.awsS3.buckets.length, 2000);
});
