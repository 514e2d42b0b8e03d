/**
 * The DynamoDB requests a piece of work makes, counted on the real client as the bench counts them:
 * each request's command and the partition keys it touches (bench/dynamo-keys.ts), in order. Used by the
 * spend meter's request tests (test/integration/cost/*-requests.test.ts).
 *
 * @example
 * const { result, seen } = await countDynamoRequests(aws.clients.dynamodb, () => h.deliverOnce());
 * expect(seen.filter((r) => isMeterOnly(r.keys))).toEqual([]);
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { keysOf } from '../../bench/dynamo-keys';

export interface CountedRequest {
  /** E.g. `TransactWriteItemsCommand`. */
  command: string;
  keys: string[];
}

export async function countDynamoRequests<T>(
  client: DynamoDBClient,
  work: () => Promise<T>,
): Promise<{ result: T; seen: CountedRequest[] }> {
  const seen: CountedRequest[] = [];
  const name = `count-dynamodb-requests-${Math.random()}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'Unknown';
      seen.push({ command, keys: keysOf(command, (args.input ?? {}) as Record<string, any>) });
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    return { result: await work(), seen };
  } finally {
    client.middlewareStack.remove(name);
  }
}
