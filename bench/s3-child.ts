/** A loopback S3 server in its own process for the end-to-end benchmark (prints its endpoint, stops when stdin closes). */
import { startLocalS3 } from '../src/demo/local-s3.js';

const s3 = await startLocalS3({ directory: process.argv[2] as string });
process.stdout.write(`${s3.endpoint}\n`);
process.stdin.resume();
process.stdin.on('end', () => void s3.close().then(() => process.exit(0)));
