/**
 * jest globalTeardown: removes the temporary secrets key directory and stops the DynamoDB Local
 * started by global-setup.ts (if it started one).
 */
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DynamoDbLocal } from '../stand-ins/dynamodb-local';
import { GLOBAL_DYNAMODB_KEY } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const keysDir = process.env.XC_LOCAL_SECRETS_KEYS_DIR;
  if (
    keysDir &&
    path.basename(keysDir).startsWith('xc-test-secrets-keys-') &&
    keysDir.startsWith(os.tmpdir())
  ) {
    rmSync(keysDir, { recursive: true, force: true });
    delete process.env.XC_LOCAL_SECRETS_KEYS_DIR;
  }
  const g = globalThis as Record<string, unknown>;
  const ddb = g[GLOBAL_DYNAMODB_KEY] as DynamoDbLocal | undefined;
  if (!ddb) return;
  delete g[GLOBAL_DYNAMODB_KEY];
  delete process.env.XC_TEST_DYNAMODB_ENDPOINT;
  await ddb.stop();
}
