/**
 * `AlertStore` on the single table (./table.ts): one item per alert that is open or whose "cleared"
 * announcement is still pending, all in one partition (`pk = ALERT`, `sk = <alert id>`), so the
 * evaluator and `GET /alerts` read every alert with one Query. Alerts change rarely: the partition sees
 * a write only when a condition appears or ends. Every change is conditional (core/alerts/evaluate.ts).
 */
import {
  DeleteCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { AlertRecord, AlertStore } from '../../core/alerts/evaluate';

export const ALERT_PARTITION = 'ALERT';

const isRefused = (e: unknown) => (e as Error)?.name === 'ConditionalCheckFailedException';

function toRecord(item: Record<string, unknown>): AlertRecord {
  const { pk: _pk, sk: _sk, ...rest } = item;
  const r = rest as unknown as AlertRecord;
  return {
    ...r,
    channelId: r.channelId ?? null,
    clearedAt: r.clearedAt ?? null,
    consoleUrl: r.consoleUrl ?? null,
    pending: r.pending ?? null,
    leaseUntil: r.leaseUntil ?? null,
    facts: r.facts ?? {},
  };
}

export function createDynamoAlertStore(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): AlertStore & { listOpen(): Promise<AlertRecord[]> } {
  const { client, tableName: TableName } = options;
  const key = (id: string) => ({ pk: ALERT_PARTITION, sk: id });
  const store = {
    async list() {
      const out: AlertRecord[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': ALERT_PARTITION },
            ConsistentRead: true,
            ExclusiveStartKey,
          }),
        );
        for (const item of page.Items ?? []) out.push(toRecord(item));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return out;
    },
    async listOpen() {
      return (await store.list()).filter((r) => r.state === 'open');
    },
    async open(record: AlertRecord) {
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: { ...key(record.id), ...record },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return true;
      } catch (e) {
        if (isRefused(e)) return false;
        throw e;
      }
    },
    async startClear(record: AlertRecord, clearedAt: string, leaseUntil: string) {
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: key(record.id),
            UpdateExpression: 'SET #s = :cleared, clearedAt = :at, pending = :clear, leaseUntil = :lease',
            ConditionExpression: '#s = :open AND openedAt = :opened AND attribute_type(pending, :null)',
            ExpressionAttributeNames: { '#s': 'state' },
            ExpressionAttributeValues: {
              ':cleared': 'cleared',
              ':open': 'open',
              ':at': clearedAt,
              ':clear': 'clear',
              ':lease': leaseUntil,
              ':opened': record.openedAt,
              ':null': 'NULL',
            },
          }),
        );
        return true;
      } catch (e) {
        if (isRefused(e)) return false;
        throw e;
      }
    },
    async claim(record: AlertRecord, leaseUntil: string) {
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: key(record.id),
            UpdateExpression: 'SET leaseUntil = :lease',
            ConditionExpression: 'pending = :pending AND leaseUntil = :seen AND openedAt = :opened',
            ExpressionAttributeValues: {
              ':lease': leaseUntil,
              ':pending': record.pending,
              ':seen': record.leaseUntil,
              ':opened': record.openedAt,
            },
          }),
        );
        return true;
      } catch (e) {
        if (isRefused(e)) return false;
        throw e;
      }
    },
    async delivered(record: AlertRecord) {
      try {
        if (record.pending === 'clear') {
          await client.send(
            new DeleteCommand({
              TableName,
              Key: key(record.id),
              ConditionExpression: 'pending = :clear AND openedAt = :opened',
              ExpressionAttributeValues: { ':clear': 'clear', ':opened': record.openedAt },
            }),
          );
        } else {
          await client.send(
            new UpdateCommand({
              TableName,
              Key: key(record.id),
              UpdateExpression: 'SET pending = :null, leaseUntil = :null',
              ConditionExpression: 'pending = :open AND openedAt = :opened',
              ExpressionAttributeValues: { ':null': null, ':open': 'open', ':opened': record.openedAt },
            }),
          );
        }
      } catch (e) {
        // someone else finished it already
        if (!isRefused(e)) throw e;
      }
    },
  };
  return store;
}
