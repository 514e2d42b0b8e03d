/** jest globalTeardown: stops the DynamoDB Local started by global-setup.ts (if it started one). */
import type { DynamoDbLocal } from '../stand-ins/dynamodb-local';
import { GLOBAL_DYNAMODB_KEY } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  const ddb = g[GLOBAL_DYNAMODB_KEY] as DynamoDbLocal | undefined;
  if (!ddb) return;
  delete g[GLOBAL_DYNAMODB_KEY];
  delete process.env.XC_TEST_DYNAMODB_ENDPOINT;
  await ddb.stop();
}
