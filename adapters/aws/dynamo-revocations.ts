/**
 * `RevocationStore` on the x-channel table: one item per pending revocation in one partition
 * (`pk = REVOCATION`, `sk = <id>`: a deleted channel's id, or `<channel id>.replaced.<ms>` for a grant a
 * re-authorization replaced; core/revocations.ts), so the console's list and the scheduled retry are a
 * single Query. There are few: a pending revocation exists only while X was unreachable. No item holds a
 * token: the grant itself stays in the token vault (Secrets Manager).
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
const keyOf = (id: string) => ({ pk: PARTITION, sk: id });

function fromItem(item: Record<string, unknown>): PendingRevocation {
  const lastAttemptAt = String(item.lastAttemptAt);
  return {
    // items written before the replaced kind existed are a deleted channel's, keyed by its id
    id: String(item.id ?? item.sk),
    kind: item.kind === 'replaced' ? 'replaced' : 'deleted',
    channelId: String(item.channelId),
    name: (item.name as string | null) ?? null,
    account: (item.account as PendingRevocation['account']) ?? null,
    deletedAt: String(item.deletedAt),
    attempts: Number(item.attempts),
    lastAttemptAt,
    lastError: String(item.lastError),
    // … and are due at once
    nextAttemptAt: typeof item.nextAttemptAt === 'string' ? item.nextAttemptAt : lastAttemptAt,
  };
}

const toItem = (r: PendingRevocation) => ({ ...keyOf(r.id), type: 'revocation', ...r });

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
      await client.send(new PutCommand({ TableName, Item: toItem(r) }));
    },
    async recordAttempt(r) {
      try {
        await client.send(
          new PutCommand({ TableName, Item: toItem(r), ConditionExpression: 'attribute_exists(pk)' }),
        );
        return true;
      } catch (e) {
        if ((e as Error)?.name === 'ConditionalCheckFailedException') return false;
        throw e;
      }
    },
    async get(id) {
      const res = await client.send(new GetCommand({ TableName, Key: keyOf(id), ConsistentRead: true }));
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
    async delete(id) {
      await client.send(new DeleteCommand({ TableName, Key: keyOf(id) }));
    },
  };
}
