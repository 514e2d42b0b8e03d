/**
 * The poller's and dispatcher's writes on the channel item (layout in ./table.ts):
 * - checkpoints: conditional on the values read at the start of the poll, so a stale poller can never
 *   move a checkpoint backwards or sideways; `version` is never touched, so admin changes (which are
 *   conditional on `version`) and checkpoint moves never overwrite each other;
 * - health fields: set path by path (`health.lastPollAt`, ...), never the whole map, because the
 *   channel store writes `health.disabled.*` on the same item;
 * - the due index: `gsi1sk` is the next poll time while `gsi1pk = DUE` exists (the channel store adds
 *   and removes `gsi1pk` on status/switch changes); the dispatcher's claim moves `gsi1sk` conditionally;
 * - the poll lease: `CH#<id>` / `LEASE#poll`, owner + expiry, so that duplicate jobs never poll one
 *   channel at the same time.
 */
import {
  QueryCommand,
  UpdateCommand,
  DeleteCommand,
  PutCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { ChannelCheckpoints } from '../../core/channel';
import { retryable } from '../../core/errors';
import type { Clock } from '../../core/ports';
import { systemClock } from '../../core/ports';
import type { DueChannel, DueIndex, HealthPatch, PollStateStore } from '../../core/inbound/types';
import type { SendHealthStore } from '../../core/outbound/ports';
import { decodeCursor, encodeCursor } from './dynamo-channel-store';
import { DUE_INDEX, DUE_PARTITION, LIST_INDEX, LIST_PARTITION, TTL_ATTRIBUTE, keys } from './table';

export interface DynamoPollStateOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
}

const isConditionFailure = (e: unknown) => (e as Error)?.name === 'ConditionalCheckFailedException';

const CHECKPOINT_FIELDS: Array<keyof ChannelCheckpoints> = [
  'mentionsSinceId',
  'dmEventId',
  'dmCreatedAt',
  'mentionsBacklog',
  'dmBacklog',
];

/** Builds `SET health.x = :x` parts for a health patch. */
function healthUpdate(patch: HealthPatch, names: Record<string, string>, values: Record<string, unknown>) {
  const sets: string[] = [];
  let i = 0;
  const set = (path: string[], value: unknown) => {
    const p = path.map((seg) => {
      const n = `#hp${i++}`;
      names[n] = seg;
      return n;
    });
    const v = `:hv${i++}`;
    values[v] = value;
    sets.push(`#h.${p.join('.')} = ${v}`);
  };
  for (const key of [
    'lastPollAt',
    'lastSuccessAt',
    'nextPollAt',
    'lastError',
    'rateLimits',
    'notBefore',
  ] as const) {
    if (patch[key] !== undefined) set([key], patch[key]);
  }
  if (patch.counters) {
    for (const [counter, n] of Object.entries(patch.counters)) {
      if (!n) continue;
      // declared only when used: DynamoDB refuses unused names and values
      names['#hc'] = 'counters';
      values[':zero'] = 0;
      const cn = `#hc${i++}`;
      const v = `:hv${i++}`;
      names[cn] = counter;
      values[v] = n;
      sets.push(`#h.#hc.${cn} = if_not_exists(#h.#hc.${cn}, :zero) + ${v}`);
    }
  }
  // declared only when used: DynamoDB refuses unused names and values
  if (sets.length) names['#h'] = 'health';
  return sets;
}

/** `PollStateStore` + `DueIndex` on the single table. */
export function createDynamoPollState({
  client,
  tableName,
  clock = systemClock,
}: DynamoPollStateOptions): PollStateStore & DueIndex {
  const TableName = tableName;
  return {
    async saveCheckpoints(channelId, expected, next, health) {
      const names: Record<string, string> = { '#cp': 'checkpoints' };
      const values: Record<string, unknown> = { ':next': next, ':null': null };
      const conditions = ['attribute_exists(pk)'];
      CHECKPOINT_FIELDS.forEach((field, i) => {
        names[`#c${i}`] = field;
        const old = expected[field];
        if (old === null || old === undefined) {
          conditions.push(`(attribute_not_exists(#cp.#c${i}) OR #cp.#c${i} = :null)`);
        } else {
          values[`:c${i}`] = old;
          conditions.push(`#cp.#c${i} = :c${i}`);
        }
      });
      const sets = ['#cp = :next', ...(health ? healthUpdate(health, names, values) : [])];
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: keys.channel(channelId),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: conditions.join(' AND '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
      } catch (e) {
        if (isConditionFailure(e)) {
          throw retryable('conflict', `checkpoints of channel ${channelId} moved meanwhile (another poll?)`);
        }
        throw e;
      }
    },

    async saveHealth(channelId, health) {
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const sets = healthUpdate(health, names, values);
      if (!sets.length) return;
      await client
        .send(
          new UpdateCommand({
            TableName,
            Key: keys.channel(channelId),
            UpdateExpression: `SET ${sets.join(', ')}`,
            // a channel deleted during its poll stays deleted
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        )
        .catch((e) => {
          if (!isConditionFailure(e)) throw e;
        });
    },

    async scheduleNextPoll(channelId, nextPollAt) {
      await client
        .send(
          new UpdateCommand({
            TableName,
            Key: keys.channel(channelId),
            UpdateExpression: 'SET gsi1sk = :next',
            // only while the channel is in the due index: paused/unauthorised channels stay out
            ConditionExpression: 'attribute_exists(gsi1pk)',
            ExpressionAttributeValues: { ':next': nextPollAt },
          }),
        )
        .catch((e) => {
          if (!isConditionFailure(e)) throw e;
        });
    },

    async acquirePollLease(channelId, owner, ttlMs) {
      const now = clock.now().getTime();
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: {
              ...keys.lease(channelId, 'poll'),
              type: 'lease',
              owner,
              leaseUntil: now + ttlMs,
              // TTL only cleans up; correctness never relies on deletion (LOCAL-STACK.md §1b)
              [TTL_ATTRIBUTE]: Math.ceil((now + ttlMs) / 1000) + 3600,
            },
            ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil < :now OR #owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':now': now, ':owner': owner },
          }),
        );
        return true;
      } catch (e) {
        if (isConditionFailure(e)) return false;
        throw e;
      }
    },

    async releasePollLease(channelId, owner) {
      await client
        .send(
          new DeleteCommand({
            TableName,
            Key: keys.lease(channelId, 'poll'),
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':owner': owner },
          }),
        )
        .catch((e) => {
          if (!isConditionFailure(e)) throw e;
        });
    },

    async listDue(now, cursor) {
      const res = await client.send(
        new QueryCommand({
          TableName,
          IndexName: DUE_INDEX,
          KeyConditionExpression: 'gsi1pk = :due AND gsi1sk <= :now',
          ExpressionAttributeValues: { ':due': DUE_PARTITION, ':now': now },
          ExclusiveStartKey: decodeCursor(cursor),
        }),
      );
      const items: DueChannel[] = (res.Items ?? []).map((it) => ({
        channelId: String(it.pk).slice('CH#'.length),
        dueAt: String(it.gsi1sk),
      }));
      return { items, nextCursor: encodeCursor(res.LastEvaluatedKey) };
    },

    async claim(channelId, dueAt, claimedUntil) {
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: keys.channel(channelId),
            UpdateExpression: 'SET gsi1sk = :until',
            ConditionExpression: 'gsi1pk = :due AND gsi1sk = :seen',
            ExpressionAttributeValues: { ':until': claimedUntil, ':seen': dueAt, ':due': DUE_PARTITION },
          }),
        );
        return true;
      } catch (e) {
        if (isConditionFailure(e)) return false;
        throw e;
      }
    },

    async release(channelId, claimedUntil, dueAt) {
      await client
        .send(
          new UpdateCommand({
            TableName,
            Key: keys.channel(channelId),
            UpdateExpression: 'SET gsi1sk = :due',
            ConditionExpression: 'gsi1sk = :until',
            ExpressionAttributeValues: { ':until': claimedUntil, ':due': dueAt },
          }),
        )
        .catch((e) => {
          if (!isConditionFailure(e)) throw e;
        });
    },
  };
}

/**
 * Channels per status, read from the list index (gsi2) projecting only `status`: about 1 MB per
 * 10,000 channels, so the dispatcher can publish its gauges every tick.
 */
export async function countChannelsByStatus({
  client,
  tableName,
}: Pick<DynamoPollStateOptions, 'client' | 'tableName'>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let startKey: Record<string, unknown> | undefined;
  do {
    const res = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: LIST_INDEX,
        KeyConditionExpression: 'gsi2pk = :p',
        ExpressionAttributeValues: { ':p': LIST_PARTITION },
        ProjectionExpression: '#s',
        ExpressionAttributeNames: { '#s': 'status' },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const it of res.Items ?? []) counts[String(it.status)] = (counts[String(it.status)] ?? 0) + 1;
    startKey = res.LastEvaluatedKey;
  } while (startKey);
  return counts;
}

/**
 * The sender's writes on a channel's health (`SendHealthStore`, core/outbound/ports.ts), on the same
 * item as the poller's: path by path (`health.notBefore.<endpoint>`, `health.rateLimits.<endpoint>`,
 * counters by ADD), never `version`, never a whole map. Added for the outbound sender; the poller's own
 * functions above are unchanged.
 */
export function createDynamoSendHealth({
  client,
  tableName,
}: Pick<DynamoPollStateOptions, 'client' | 'tableName'>): SendHealthStore {
  const TableName = tableName;
  // A path into a map that does not exist is a ValidationException, not a condition failure.
  const isMissingMap = (e: unknown) => (e as Error)?.name === 'ValidationException';

  /** Items written before a health map existed: add the maps the paths need, never replacing one. */
  async function ensureMaps(channelId: string) {
    const empty = { ':empty': {} };
    for (const [expr, names] of [
      ['SET #h = if_not_exists(#h, :empty)', { '#h': 'health' }],
      [
        'SET #h.#rl = if_not_exists(#h.#rl, :empty), #h.#nb = if_not_exists(#h.#nb, :empty), #h.#c = if_not_exists(#h.#c, :empty)',
        { '#h': 'health', '#rl': 'rateLimits', '#nb': 'notBefore', '#c': 'counters' },
      ],
    ] as const) {
      await client
        .send(
          new UpdateCommand({
            TableName,
            Key: keys.channel(channelId),
            UpdateExpression: expr,
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: empty,
          }),
        )
        .catch((e) => {
          if (!isConditionFailure(e)) throw e;
        });
    }
  }

  /** Runs an update on the channel item; a deleted channel stays deleted, a missing map is added once. */
  async function update(
    channelId: string,
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName' | 'Key'>,
  ) {
    const send = () => client.send(new UpdateCommand({ TableName, Key: keys.channel(channelId), ...input }));
    try {
      await send();
    } catch (e) {
      if (isConditionFailure(e)) return;
      if (!isMissingMap(e)) throw e;
      await ensureMaps(channelId);
      await send().catch((e2) => {
        if (!isConditionFailure(e2)) throw e2;
      });
    }
  }

  return {
    async record(channelId, patch) {
      const names: Record<string, string> = { '#h': 'health' };
      const values: Record<string, unknown> = {};
      const sets: string[] = [];
      const adds: string[] = [];
      let i = 0;
      for (const [endpoint, window] of Object.entries(patch.rateLimits ?? {})) {
        names['#rl'] = 'rateLimits';
        names[`#e${i}`] = endpoint;
        values[`:w${i}`] = window;
        sets.push(`#h.#rl.#e${i} = :w${i}`);
        i++;
      }
      if (patch.lastError) {
        names['#le'] = 'lastError';
        values[':le'] = patch.lastError;
        sets.push('#h.#le = :le');
      }
      for (const [counter, n] of Object.entries(patch.counters ?? {})) {
        if (!n) continue;
        names['#c'] = 'counters';
        names[`#n${i}`] = counter;
        values[`:n${i}`] = n;
        adds.push(`#h.#c.#n${i} :n${i}`);
        i++;
      }
      if (!sets.length && !adds.length) return;
      await update(channelId, {
        UpdateExpression: [
          sets.length ? `SET ${sets.join(', ')}` : '',
          adds.length ? `ADD ${adds.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join(' '),
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
    },

    async block(channelId, endpoint, until) {
      // ISO-8601 UTC strings order like the times they name; a later block already stored wins.
      await update(channelId, {
        UpdateExpression: 'SET #h.#nb.#e = :t',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#h.#nb.#e) OR #h.#nb.#e < :t)',
        ExpressionAttributeNames: { '#h': 'health', '#nb': 'notBefore', '#e': endpoint },
        ExpressionAttributeValues: { ':t': until.toISOString() },
      });
    },
  };
}
