/**
 * `ChannelStore` on the single DynamoDB table (layout in ./table.ts). Admin/state changes are
 * conditional on `version`; the poller's checkpoint and health writes touch other attributes and are
 * conditional on their own previous values, so neither overwrites the other.
 */
import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { Channel } from '../../core/channel';
import { isPollable } from '../../core/channel';
import { ChannelError, permanent, retryable } from '../../core/errors';
import type { ChannelChange, ChannelStore, Clock, Page } from '../../core/ports';
import { systemClock } from '../../core/ports';
import { LIST_INDEX, LIST_PARTITION, dueShardOf, keys } from './table';

const KEY_ATTRS = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'type'];

export function channelFromItem(item: Record<string, unknown>): Channel {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!KEY_ATTRS.includes(k)) out[k] = v;
  return out as unknown as Channel;
}

const isConditionFailure = (e: unknown) =>
  (e as Error)?.name === 'ConditionalCheckFailedException' ||
  (e as Error)?.name === 'TransactionCanceledException';

export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

/**
 * The exclusive start key a `list` cursor carries, checked strictly. A cursor is the base64url JSON of
 * the list index's LastEvaluatedKey, so anyone can forge one; rather than sign it (a key to manage for no
 * secret: the key names only a channel id the caller may list anyway), it must be exactly the key of a
 * channel item on the list index: the four key attributes and nothing else, all strings, the list
 * partition, the channel sort key, and `pk` and `gsi2sk` naming the same channel. Anything else (junk,
 * another entity's key, extra or missing attributes) is `invalid_input` on `cursor` before DynamoDB sees
 * it, so no forged key reaches the Query (where it would be a ValidationException, a 500) or starts the
 * listing over. A stale cursor (its channel since deleted) is still well-formed and continues after it.
 */
export function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (isChannelListKey(parsed)) return parsed;
  throw new ChannelError('invalid_input', 'cursor: not a cursor returned by this API', {
    code: 'invalid_input',
    field: 'cursor',
  });
}

const LIST_KEY_ATTRS = ['gsi2pk', 'gsi2sk', 'pk', 'sk'];

function isChannelListKey(value: unknown): value is Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const key = value as Record<string, unknown>;
  const names = Object.keys(key).sort();
  if (names.length !== LIST_KEY_ATTRS.length || names.some((n, i) => n !== LIST_KEY_ATTRS[i])) return false;
  if (!Object.values(key).every((v) => typeof v === 'string')) return false;
  const { pk, sk, gsi2pk, gsi2sk } = key as Record<string, string>;
  const id = pk.startsWith('CH#') ? pk.slice(3) : '';
  return (
    id.length > 0 &&
    sk === keys.channel(id).sk &&
    gsi2pk === LIST_PARTITION &&
    gsi2sk.endsWith(`#${id}`) &&
    gsi2sk.length > id.length + 1
  );
}

export interface DynamoChannelStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
}

export function createDynamoChannelStore({
  client,
  tableName,
  clock = systemClock,
}: DynamoChannelStoreOptions): ChannelStore {
  const TableName = tableName;

  /** Keeps the due index (gsi1) in step with the channel's status and switches. */
  async function syncDueIndex(channel: Channel): Promise<void> {
    const shouldPoll = isPollable(channel);
    await client
      .send(
        new UpdateCommand({
          TableName,
          Key: keys.channel(channel.id),
          UpdateExpression: shouldPoll
            ? 'SET gsi1pk = :due, gsi1sk = if_not_exists(gsi1sk, :now)'
            : 'REMOVE gsi1pk, gsi1sk',
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: shouldPoll
            ? { ':due': dueShardOf(channel.id), ':now': clock.now().toISOString(), ':v': channel.version }
            : { ':v': channel.version },
        }),
      )
      .catch((e) => {
        // a newer change won the race and synced the index itself
        if (!isConditionFailure(e)) throw e;
      });
  }

  return {
    async create(channel) {
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: {
              ...keys.channel(channel.id),
              type: 'channel',
              gsi2pk: LIST_PARTITION,
              gsi2sk: `${channel.createdAt}#${channel.id}`,
              ...channel,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (e) {
        if (isConditionFailure(e)) throw permanent('conflict', `channel ${channel.id} already exists`);
        throw e;
      }
      if (isPollable(channel)) await syncDueIndex(channel);
    },

    async get(id) {
      const res = await client.send(
        new GetCommand({ TableName, Key: keys.channel(id), ConsistentRead: true }),
      );
      return res.Item ? channelFromItem(res.Item) : null;
    },

    async list({ limit, cursor }): Promise<Page<Channel>> {
      const res = await client.send(
        new QueryCommand({
          TableName,
          IndexName: LIST_INDEX,
          KeyConditionExpression: 'gsi2pk = :p',
          ExpressionAttributeValues: { ':p': LIST_PARTITION },
          ScanIndexForward: false,
          Limit: limit,
          ExclusiveStartKey: decodeCursor(cursor),
        }),
      );
      return {
        items: (res.Items ?? []).map(channelFromItem),
        nextCursor: encodeCursor(res.LastEvaluatedKey),
      };
    },

    async update(id, expectedVersion, change: ChannelChange) {
      const names: Record<string, string> = { '#version': 'version', '#updatedAt': 'updatedAt' };
      const values: Record<string, unknown> = {
        ':expected': expectedVersion,
        ':one': 1,
        ':now': clock.now().toISOString(),
      };
      const sets = ['#version = #version + :one', '#updatedAt = :now'];
      let i = 0;
      for (const [field, value] of Object.entries(change)) {
        if (value === undefined || field === 'disabled') continue;
        names[`#f${i}`] = field;
        values[`:v${i}`] = value;
        sets.push(`#f${i} = :v${i}`);
        i++;
      }
      // a cleared reason (null) is removed, so the stored map holds strings only, as `ChannelHealth` says
      const removes: string[] = [];
      if (change.disabled) {
        names['#health'] = 'health';
        names['#disabled'] = 'disabled';
        for (const [feature, reason] of Object.entries(change.disabled)) {
          if (reason === undefined) continue;
          names[`#d${i}`] = feature;
          if (reason === null) removes.push(`#health.#disabled.#d${i}`);
          else {
            values[`:v${i}`] = reason;
            sets.push(`#health.#disabled.#d${i} = :v${i}`);
          }
          i++;
        }
      }
      try {
        const res = await client.send(
          new UpdateCommand({
            TableName,
            Key: keys.channel(id),
            UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
            ConditionExpression: 'attribute_exists(pk) AND #version = :expected',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        const updated = channelFromItem(res.Attributes!);
        if (
          change.status !== undefined ||
          change.listenMentions !== undefined ||
          change.listenDms !== undefined
        ) {
          await syncDueIndex(updated);
        }
        return updated;
      } catch (e) {
        if (isConditionFailure(e)) {
          const item = (e as { Item?: unknown }).Item;
          if (!item) throw permanent('channel_not_found', `channel ${id} does not exist`);
          throw retryable(
            'conflict',
            `channel ${id} changed meanwhile (version ${expectedVersion} is stale)`,
          );
        }
        throw e;
      }
    },

    async delete(id) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': keys.channel(id).pk },
            ProjectionExpression: 'pk, sk',
            ExclusiveStartKey: startKey,
          }),
        );
        // the channel record goes last so that a crash mid-delete leaves a visible channel to delete again
        const items = (page.Items ?? []).filter((it) => it.sk !== 'CHANNEL');
        for (let j = 0; j < items.length; j += 25) {
          let requests = items
            .slice(j, j + 25)
            .map((it) => ({ DeleteRequest: { Key: { pk: it.pk, sk: it.sk } } }));
          for (let attempt = 0; requests.length && attempt < 5; attempt++) {
            const res = await client.send(new BatchWriteCommand({ RequestItems: { [TableName]: requests } }));
            requests = (res.UnprocessedItems?.[TableName] ?? []) as typeof requests;
          }
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      await client.send(new DeleteCommand({ TableName, Key: keys.channel(id) }));
    },

    async claimAccount(xUserId, channelId) {
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: {
              ...keys.accountClaim(xUserId),
              type: 'account_claim',
              channelId,
              claimedAt: clock.now().toISOString(),
            },
            ConditionExpression: 'attribute_not_exists(pk) OR channelId = :c',
            ExpressionAttributeValues: { ':c': channelId },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
      } catch (e) {
        if (isConditionFailure(e)) {
          const holder =
            ((e as { Item?: Record<string, { S?: string }> }).Item?.channelId?.S as string) ??
            'another channel';
          throw permanent('account_in_use', `this X account is already connected to channel ${holder}`);
        }
        throw e;
      }
    },

    async releaseAccount(xUserId, channelId) {
      await client
        .send(
          new DeleteCommand({
            TableName,
            Key: keys.accountClaim(xUserId),
            ConditionExpression: 'channelId = :c',
            ExpressionAttributeValues: { ':c': channelId },
          }),
        )
        .catch((e) => {
          if (!isConditionFailure(e)) throw e;
        });
    },
  };
}
