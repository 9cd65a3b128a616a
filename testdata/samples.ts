/**
 * The AWS log samples used by the tests: a copy of the project's shared `aws-log-samples` (real and
 * AWS-published logs; provenance and licences in testdata/aws-log-samples/README.md), kept in the
 * repository so a clean clone can run every test.
 */
import { fileURLToPath } from 'node:url';

export const SAMPLES_DIR = fileURLToPath(new URL('./aws-log-samples/', import.meta.url));
