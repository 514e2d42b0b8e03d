/**
 * `RevocationStore` on the x-channel table: one item per pending revocation in one partition
 * (`pk = REVOCATION`, `sk = <channel id>`), so the console's list is a single Query. There are few: a
 * pending revocation exists only while X was unreachable at a channel's deletion.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { PendingRevocation, RevocationStore } from '../../core/revocations';

const PARTITION = 'REVOCATION';
const keyOf = (channelId: string) => ({ pk: PARTITION, sk: channelId });

function fromItem(item: Record<string, unknown>): PendingRevocation {
  return {
    channelId: String(item.channelId),
    name: (item.name as string | null) ?? null,
    account: (item.account as PendingRevocation['account']) ?? null,
    deletedAt: String(item.deletedAt),
    attempts: Number(item.attempts),
    lastAttemptAt: String(item.lastAttemptAt),
    lastError: String(item.lastError),
  };
}

export function createDynamoRevocationStore({
  client,
  tableName,
}: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): RevocationStore {
  const TableName = tableName;
  return {
    async put(r) {
      await client.send(
        new PutCommand({ TableName, Item: { ...keyOf(r.channelId), type: 'revocation', ...r } }),
      );
    },
    async get(channelId) {
      const res = await client.send(
        new GetCommand({ TableName, Key: keyOf(channelId), ConsistentRead: true }),
      );
      return res.Item ? fromItem(res.Item) : null;
    },
    async list() {
      const out: PendingRevocation[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const res = await client.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :p',
            ExpressionAttributeValues: { ':p': PARTITION },
            ConsistentRead: true,
            ExclusiveStartKey,
          }),
        );
        out.push(...(res.Items ?? []).map(fromItem));
        ExclusiveStartKey = res.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return out.sort((a, b) => a.deletedAt.localeCompare(b.deletedAt));
    },
    async delete(channelId) {
      await client.send(new DeleteCommand({ TableName, Key: keyOf(channelId) }));
    },
  };
}
