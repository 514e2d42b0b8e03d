/**
 * `BatchGetItem` of one table's keys through the document client, in chunks of 100 keys (DynamoDB's
 * limit), each chunk following `UnprocessedKeys` (what DynamoDB hands back under throttling) for at
 * most 5 requests. Keys still unprocessed after that are an error naming the read when `failAs` is
 * given; otherwise they are left out, and the caller treats their items as absent.
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Keys per BatchGetItem (DynamoDB's limit). */
const BATCH_KEYS = 100;
/** Requests per chunk before the unprocessed keys are given up. */
const ATTEMPTS = 5;

type Request = NonNullable<ConstructorParameters<typeof BatchGetCommand>[0]['RequestItems']>[string];

export async function batchGetAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: Record<string, unknown>[],
  options: Omit<Request, 'Keys'> & { failAs?: string } = {},
): Promise<Record<string, unknown>[]> {
  const { failAs, ...read } = options;
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += BATCH_KEYS) {
    let request: Record<string, Request> | undefined = {
      [tableName]: { ...read, Keys: keys.slice(i, i + BATCH_KEYS) },
    };
    for (let attempt = 0; request && Object.keys(request).length; attempt++) {
      if (attempt >= ATTEMPTS) {
        if (failAs) throw new Error(`${failAs}: keys left unprocessed after ${ATTEMPTS} requests`);
        break;
      }
      const page = await client.send(new BatchGetCommand({ RequestItems: request }));
      items.push(...((page.Responses?.[tableName] ?? []) as Record<string, unknown>[]));
      request = page.UnprocessedKeys as Record<string, Request> | undefined;
    }
  }
  return items;
}
