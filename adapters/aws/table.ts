/**
 * The single DynamoDB table of x-channel: its key schema, indexes and item layout. CDK (lib/), the
 * local runtime and tests all create the table from this one definition.
 *
 * | item                | pk                     | sk                   | notes |
 * |---------------------|------------------------|----------------------|-------|
 * | channel             | `CH#<channelId>`       | `CHANNEL`            | gsi1 (due for poll) while active; gsi2 (list) always |
 * | account claim       | `ACCOUNT#<xUserId>`    | `CLAIM`              | one channel per X account |
 * | OAuth state         | `STATE#<state>`        | `STATE`              | TTL 10 min, consumed by conditional delete |
 * | refresh lease       | `CH#<channelId>`       | `LEASE#refresh`      | owner + expiry |
 * | idempotency record  | `CH#<channelId>`       | `IDEM#<key>`         | outbound at-most-once, TTL |
 * | follow record       | `CH#<channelId>`       | `FOLLOW#<xUserId>`   | auto-follow memory |
 * | app budget counter  | `BUDGET#<name>`        | `<window start>`     | app-wide X write budgets, TTL |
 * | delivered item      | `DLV#<channelId>#<id>` | `DELIVERED`          | inbound once per channel and item, TTL (days) |
 * | pending delivery    | `DLVP`                 | `<at>#<channelId>#<id>` | held while published; the sweep settles old ones |
 *
 * The webhook routes an X Activity API event (`filter.user_id`) to its channel through the account
 * claim item (`ACCOUNT#<xUserId>` → `channelId`, a GetItem): no index is needed for that lookup.
 * Delivered items have a partition each (not the channel's): a busy channel's ledger never makes one
 * hot partition, and deleting a channel does not have to page through days of them (they expire).
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

export const TTL_ATTRIBUTE = 'expiresAt';
export const DUE_INDEX = 'gsi1';
export const LIST_INDEX = 'gsi2';

export const keys = {
  channel: (id: string) => ({ pk: `CH#${id}`, sk: 'CHANNEL' }),
  accountClaim: (xUserId: string) => ({ pk: `ACCOUNT#${xUserId}`, sk: 'CLAIM' }),
  oauthState: (state: string) => ({ pk: `STATE#${state}`, sk: 'STATE' }),
  lease: (channelId: string, name: string) => ({ pk: `CH#${channelId}`, sk: `LEASE#${name}` }),
  idempotency: (channelId: string, key: string) => ({ pk: `CH#${channelId}`, sk: `IDEM#${key}` }),
  follow: (channelId: string, xUserId: string) => ({ pk: `CH#${channelId}`, sk: `FOLLOW#${xUserId}` }),
  budget: (name: string, window: string) => ({ pk: `BUDGET#${name}`, sk: window }),
  delivered: (channelId: string, itemId: string) => ({ pk: `DLV#${channelId}#${itemId}`, sk: 'DELIVERED' }),
  deliveredPending: (atIso: string, channelId: string, itemId: string) => ({
    pk: 'DLVP',
    sk: `${atIso}#${channelId}#${itemId}`,
  }),
};

/** gsi1: channels due for a poll. Present only while a channel should be polled. */
export const DUE_PARTITION = 'DUE';

/**
 * The due index is written sharded: `gsi1pk = DUE#<0..DUE_SHARDS-1>` by a hash of the channel id, so
 * the dispatcher reads the shards in parallel (one sequential pagination of 10,000 channels is the
 * slowest part of a tick) and no single index partition takes every poll's writes. Items written
 * before the shards (`gsi1pk = DUE`) are still read, and move to their shard on their next sync.
 */
export const DUE_SHARDS = 8;

/** The due-index partition of a channel. */
export function dueShardOf(channelId: string): string {
  // FNV-1a: stable across processes and versions (the shard is stored)
  let h = 0x811c9dc5;
  for (let i = 0; i < channelId.length; i++) {
    h ^= channelId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${DUE_PARTITION}#${h % DUE_SHARDS}`;
}

/** Every due-index partition the dispatcher reads: the shards and the unsharded legacy one. */
export const DUE_PARTITIONS: readonly string[] = [
  ...Array.from({ length: DUE_SHARDS }, (_, i) => `${DUE_PARTITION}#${i}`),
  DUE_PARTITION,
];
/** gsi2: every channel, newest first, for the admin list. */
export const LIST_PARTITION = 'CHANNEL';

export const tableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [
    { name: DUE_INDEX, partitionKey: 'gsi1pk', sortKey: 'gsi1sk', projection: 'KEYS_ONLY' as const },
    { name: LIST_INDEX, partitionKey: 'gsi2pk', sortKey: 'gsi2sk', projection: 'ALL' as const },
  ],
  ttlAttribute: TTL_ATTRIBUTE,
};

/** Creates the table (and TTL) if missing; used by the local runtime and tests. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (e) {
    if ((e as Error).name !== 'ResourceNotFoundException') throw e;
  }
  const attrs = new Set<string>(['pk', 'sk']);
  for (const i of tableDefinition.indexes) attrs.add(i.partitionKey).add(i.sortKey);
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attrs].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: tableDefinition.indexes.map((i) => ({
          IndexName: i.name,
          KeySchema: [
            { AttributeName: i.partitionKey, KeyType: 'HASH' },
            { AttributeName: i.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: i.projection },
        })),
      }),
    );
  } catch (e) {
    if ((e as Error).name !== 'ResourceInUseException') throw e;
  }
  await client
    .send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    )
    .catch((e: Error) => {
      if (!/already enabled/i.test(e.message)) throw e;
    });
}

/**
 * The item a refused conditional write returned (`ReturnValuesOnConditionCheckFailure: ALL_OLD`). The
 * document client does not unmarshall the error's item, so raw AttributeValues are unmarshalled here.
 */
export function refusedItem(e: unknown): Record<string, unknown> | undefined {
  const item = (e as { Item?: Record<string, unknown> }).Item;
  if (!item) return undefined;
  const raw = Object.values(item).some(
    (v) =>
      v !== null &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      Object.keys(v).length === 1 &&
      /^(S|N|M|L|BOOL|NULL|SS|NS|B)$/.test(Object.keys(v)[0]),
  );
  return raw ? unmarshall(item as never) : item;
}
