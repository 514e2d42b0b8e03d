/**
 * jest globalSetup: one in-memory DynamoDB Local for the whole run (about 1 s to start), shared by
 * every test file through `XC_TEST_DYNAMODB_ENDPOINT`. Each test file makes its own table
 * (test/helpers/local-aws.ts), so files never see each other's data.
 *
 * globalSetup runs in jest's parent process: the env vars set here are inherited by the workers, and
 * the handle kept on globalThis is what global-teardown.ts stops.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDynamoDbLocal } from '../stand-ins/dynamodb-local';

/** Where global-teardown.ts finds the running DynamoDB Local. */
export const GLOBAL_DYNAMODB_KEY = '__xcTestDynamoDbLocal';

export default async function globalSetup(): Promise<void> {
  // Secrets stand-in key files of the run's data directories go to a temporary directory, never
  // into the user's config directory (stand-ins/secrets-manager-file.ts); teardown removes it.
  process.env.XC_LOCAL_SECRETS_KEYS_DIR ??= mkdtempSync(path.join(os.tmpdir(), 'xc-test-secrets-keys-'));
  // Every DynamoDB Local the run starts (here, in test files, in `npm start` children) waits up to 2
  // minutes for its JVM: on a loaded machine a cold start takes longer than the 60 s default. A real
  // failure still fails (an early exit at once, a hang after 2 minutes, with the JVM's output).
  process.env.XC_DYNAMODB_START_TIMEOUT_MS ??= '120000';
  // An endpoint given from outside (e.g. a long-running DynamoDB Local while iterating) is reused as is.
  if (process.env.XC_TEST_DYNAMODB_ENDPOINT) return;
  const ddb = await startDynamoDbLocal({ port: 0 });
  (globalThis as Record<string, unknown>)[GLOBAL_DYNAMODB_KEY] = ddb;
  process.env.XC_TEST_DYNAMODB_ENDPOINT = ddb.endpoint;
}
