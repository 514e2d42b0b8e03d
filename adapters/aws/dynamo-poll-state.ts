/**
 * The poller's and dispatcher's state on the channel item (layout in ./table.ts):
 * - the due index: `gsi1sk` is the next poll time while `gsi1pk = DUE` exists (the channel store adds
 *   and removes `gsi1pk` on status/switch changes). The dispatcher only reads it (KEYS_ONLY Query);
 * - the poll claim (the poll lease): `claimPoll` moves `gsi1sk` from the value the dispatcher saw to
 *   the lease expiry and sets `pollOwner`, conditionally, so one job per due time gets the channel and
 *   a crashed holder's claim simply becomes due again when it expires;
 * - the end of a poll, `finishPoll`: ONE conditional UpdateItem with the checkpoints (conditional on
 *   the values claimed, so a stale poller can never move one backwards or sideways), the health fields
 *   that changed (path by path — `health.rateLimits.<endpoint>`, counters by increment — never a whole
 *   map, because the channel store and the sender write other paths of `health`), the next `gsi1sk`
 *   and the removal of `pollOwner`;
 * - a 429's block, `blockEndpoint`: `health.notBefore.<endpoint>` on its own, at once, only ever moved
 *   later, so that it survives a poll whose final write never happens.
 * `version` is never touched, so admin changes (conditional on `version`) and polls never overwrite
 * each other.
 *
 * The spend meter rides on the final write (`ride`): the poll's X charges (billed-today markers and
 * counters, adapters/aws/dynamo-spend.ts) go in the SAME request, a `TransactWriteItems` whose first part
 * is the update above — so metering costs a poll no request. Markers another container wrote today are
 * dropped and the transaction sent again; a refused update (its condition, a missing health map) falls
 * back to the plain update below and leaves the spend to the meter's own write at the invocation's end.
 *
 * The sender's health writes on the same item are in ./dynamo-send-health.ts (they share `writeBlock`).
 */
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ChannelCheckpoints } from '../../core/channel';
import { invalidInput, retryable } from '../../core/errors';
import type { Clock } from '../../core/ports';
import { systemClock } from '../../core/ports';
import type {
  ClaimRefusal,
  DueChannel,
  DueIndex,
  HealthPatch,
  PollStateStore,
} from '../../core/inbound/types';
import { channelFromItem } from './dynamo-channel-store';
import { TRANSACT_MAX, writeWithRide, type WriteRide } from './dynamo-write-ride';
import { DUE_INDEX, DUE_PARTITIONS, LIST_INDEX, LIST_PARTITION, keys, refusedItem } from './table';

export interface DynamoPollStateOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
  /** What rides on a poll's final write (the spend meter's current scope), given the room left. */
  ride?: (channelId: string, room: number) => WriteRide | null;
  /** Waits between transaction-conflict retries of a ride (tests pass a no-op). */
  sleep?: (ms: number) => Promise<void>;
}

export const isConditionFailure = (e: unknown) => (e as Error)?.name === 'ConditionalCheckFailedException';
/** A path into a map that does not exist (items older than the health maps) is a ValidationException. */
const isMissingMap = (e: unknown) => (e as Error)?.name === 'ValidationException';

/** Reads a due-index cursor (partition → LastEvaluatedKey); throws `invalid_input` naming `cursor`. */
function decodeDueCursor(cursor: string): Record<string, Record<string, unknown> | null> {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (
      parsed &&
      typeof parsed === 'object' &&
      Object.entries(parsed).every(
        ([p, k]) => DUE_PARTITIONS.includes(p) && k !== null && typeof k === 'object',
      )
    )
      return parsed as Record<string, Record<string, unknown>>;
  } catch {
    /* fall through */
  }
  throw invalidInput('cursor', 'not a due-index cursor returned by listDue');
}

/** The attribute that names a poll claim's holder (the lease expiry is `gsi1sk` itself). */
export const POLL_OWNER = 'pollOwner';

const CHECKPOINT_FIELDS: Array<keyof ChannelCheckpoints> = [
  'mentionsSinceId',
  'dmEventId',
  'dmCreatedAt',
  'mentionsBacklog',
  'dmBacklog',
  'dmCoveredTo',
  'dmHold',
];

const sameCheckpoints = (a: Partial<ChannelCheckpoints> | undefined, b: Partial<ChannelCheckpoints>) =>
  CHECKPOINT_FIELDS.every((f) => JSON.stringify((a ?? {})[f] ?? null) === JSON.stringify(b[f] ?? null));

/** Builds `SET health.x = :x` parts for a health patch (maps per key, counters by increment). */
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
    'lastDeliveredAt',
    'nextPollAt',
    'lastError',
    'budget',
  ] as const) {
    if (patch[key] !== undefined) set([key], patch[key]);
  }
  for (const key of ['rateLimits', 'notBefore'] as const) {
    for (const [endpoint, value] of Object.entries(patch[key] ?? {})) set([key, endpoint], value);
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

/**
 * Adds the health maps an item written before they existed lacks (never replacing one), so that
 * path-by-path writes (`health.notBefore.<endpoint>`…) work: a path into a missing map is refused.
 */
export async function ensureHealthMaps(client: DynamoDBDocumentClient, TableName: string, channelId: string) {
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
          ExpressionAttributeValues: { ':empty': {} },
        }),
      )
      .catch((e) => {
        if (!isConditionFailure(e)) throw e;
      });
  }
}

/**
 * `health.notBefore.<endpoint> = until` on its own, only moving it later (ISO-8601 UTC strings order
 * like the times they name; a later block already stored wins). A deleted channel stays deleted; a
 * missing health map is added once. Shared by the poller (`blockEndpoint`) and the sender (`block`).
 */
export async function writeBlock(
  client: DynamoDBDocumentClient,
  TableName: string,
  channelId: string,
  endpoint: string,
  until: string,
) {
  const send = () =>
    client.send(
      new UpdateCommand({
        TableName,
        Key: keys.channel(channelId),
        UpdateExpression: 'SET #h.#nb.#e = :t',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#h.#nb.#e) OR #h.#nb.#e < :t)',
        ExpressionAttributeNames: { '#h': 'health', '#nb': 'notBefore', '#e': endpoint },
        ExpressionAttributeValues: { ':t': until },
      }),
    );
  try {
    await send();
  } catch (e) {
    if (isConditionFailure(e)) return;
    if (!isMissingMap(e)) throw e;
    await ensureHealthMaps(client, TableName, channelId);
    await send().catch((e2) => {
      if (!isConditionFailure(e2)) throw e2;
    });
  }
}

/** `PollStateStore` + `DueIndex` on the single table. */
export function createDynamoPollState({
  client,
  tableName,
  clock = systemClock,
  ride,
  sleep = (ms) => new Promise<void>((r) => setTimeout(r, ms)),
}: DynamoPollStateOptions): PollStateStore & DueIndex {
  const TableName = tableName;

  const ensureHealthMapsOf = (channelId: string) => ensureHealthMaps(client, TableName, channelId);

  /**
   * The final write. `mode` narrows it after a refusal that was not about the checkpoints:
   * `full` = gsi1sk + end of claim; `release` = end of claim only (paused/unauthorised meanwhile:
   * no gsi1sk); `bare` = neither (another holder has the channel now).
   */
  async function writeFinish(
    channelId: string,
    finish: Parameters<PollStateStore['finishPoll']>[1],
    mode: 'full' | 'release' | 'bare',
  ) {
    const input = finishInput(channelId, finish, mode);
    if (input) await client.send(new UpdateCommand(input));
  }

  /** The final write's UpdateItem input for `mode`; null when it has nothing to write. */
  function finishInput(
    channelId: string,
    finish: Parameters<PollStateStore['finishPoll']>[1],
    mode: 'full' | 'release' | 'bare',
  ) {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const conditions = ['attribute_exists(pk)'];
    const sets: string[] = [];
    if (finish.next) {
      names['#cp'] = 'checkpoints';
      values[':next'] = finish.next;
      values[':null'] = null;
      // `#cp = :next` first: tests that crash "before the checkpoint write" look for it
      sets.push('#cp = :next');
      CHECKPOINT_FIELDS.forEach((field, i) => {
        names[`#c${i}`] = field;
        const old = finish.expected[field];
        if (old === null || old === undefined) {
          conditions.push(`(attribute_not_exists(#cp.#c${i}) OR #cp.#c${i} = :null)`);
        } else {
          values[`:c${i}`] = old;
          conditions.push(`#cp.#c${i} = :c${i}`);
        }
      });
    }
    sets.push(...healthUpdate(finish.health, names, values));
    const removes: string[] = [];
    if (mode !== 'bare') {
      names['#owner'] = POLL_OWNER;
      values[':owner'] = finish.owner;
      conditions.push('#owner = :owner');
      removes.push('#owner');
    }
    if (mode === 'full') {
      values[':nextPoll'] = finish.nextPollAt;
      sets.push('gsi1sk = :nextPoll');
      // only while the channel is in the due index: paused/unauthorised channels stay out
      conditions.push('attribute_exists(gsi1pk)');
    }
    if (!sets.length && !removes.length) return null;
    return {
      TableName,
      Key: keys.channel(channelId),
      UpdateExpression: [
        sets.length ? `SET ${sets.join(', ')}` : '',
        removes.length ? `REMOVE ${removes.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' '),
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
      ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
  }

  return {
    async peekDue(channelId) {
      // eventually consistent (half the price): the claim that follows is the authoritative check
      const res = await client.send(
        new GetCommand({
          TableName,
          Key: keys.channel(channelId),
          ProjectionExpression: 'gsi1pk, gsi1sk, #owner',
          ExpressionAttributeNames: { '#owner': POLL_OWNER },
        }),
      );
      if (!res.Item) return null;
      return {
        dueAt: res.Item.gsi1pk && res.Item.gsi1sk ? String(res.Item.gsi1sk) : null,
        owner: res.Item[POLL_OWNER] ? String(res.Item[POLL_OWNER]) : null,
      };
    },

    async claimPoll(channelId, { owner, seenDueAt, leaseUntil }) {
      try {
        const res = await client.send(
          new UpdateCommand({
            TableName,
            Key: keys.channel(channelId),
            UpdateExpression: 'SET gsi1sk = :until, #owner = :owner',
            // the due time this job was sent for, or this job's own earlier delivery (redelivery)
            ConditionExpression: 'attribute_exists(gsi1pk) AND (gsi1sk = :seen OR #owner = :owner)',
            ExpressionAttributeNames: { '#owner': POLL_OWNER },
            ExpressionAttributeValues: { ':until': leaseUntil, ':owner': owner, ':seen': seenDueAt },
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { channel: channelFromItem(res.Attributes!), dueAt: seenDueAt };
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
        const item = refusedItem(e);
        let refused: ClaimRefusal;
        if (!item) refused = 'channel_not_found';
        else if (!item.gsi1pk) refused = 'not_pollable';
        else if (item[POLL_OWNER] && String(item.gsi1sk) > clock.now().toISOString()) refused = 'lease_held';
        else refused = 'not_due';
        return { refused };
      }
    },

    async finishPoll(channelId, finish) {
      const along = ride?.(channelId, TRANSACT_MAX - 1);
      const update = along ? finishInput(channelId, finish, 'full') : null;
      if (along && update && (await writeWithRide(client, update, along, sleep))) return;
      let mode: 'full' | 'release' | 'bare' = 'full';
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await writeFinish(channelId, finish, mode);
          return;
        } catch (e) {
          if (isMissingMap(e) && attempt === 0) {
            await ensureHealthMapsOf(channelId);
            continue;
          }
          if (!isConditionFailure(e)) throw e;
          const item = refusedItem(e);
          if (!item) return; // deleted during its poll: stays deleted
          if (finish.next && !sameCheckpoints(item.checkpoints as ChannelCheckpoints, finish.expected)) {
            throw retryable(
              'conflict',
              `checkpoints of channel ${channelId} moved meanwhile (another poll?)`,
            );
          }
          // not about the checkpoints: our claim ended (expired and taken) or the channel left the index
          mode = item[POLL_OWNER] === finish.owner ? 'release' : 'bare';
        }
      }
      throw retryable('conflict', `channel ${channelId} kept changing while its poll ended`);
    },

    async releasePoll(channelId, owner, dueAt) {
      await client
        .send(
          new UpdateCommand({
            TableName,
            Key: keys.channel(channelId),
            UpdateExpression: 'SET gsi1sk = :due REMOVE #owner',
            ConditionExpression: 'attribute_exists(gsi1pk) AND #owner = :owner',
            ExpressionAttributeNames: { '#owner': POLL_OWNER },
            ExpressionAttributeValues: { ':owner': owner, ':due': dueAt },
          }),
        )
        .catch((e) => {
          if (!isConditionFailure(e)) throw e;
        });
    },

    async blockEndpoint(channelId, endpoint, until) {
      await writeBlock(client, TableName, channelId, endpoint, until);
    },

    async listDue(now, cursor) {
      // One page of every due-index partition that still has items, read in parallel; the cursor
      // holds each unfinished partition's LastEvaluatedKey.
      const positions = cursor
        ? decodeDueCursor(cursor)
        : Object.fromEntries(DUE_PARTITIONS.map((p) => [p, null]));
      const pages = await Promise.all(
        Object.entries(positions).map(async ([partition, startKey]) => {
          const res = await client.send(
            new QueryCommand({
              TableName,
              IndexName: DUE_INDEX,
              KeyConditionExpression: 'gsi1pk = :due AND gsi1sk <= :now',
              ExpressionAttributeValues: { ':due': partition, ':now': now },
              ExclusiveStartKey: startKey ?? undefined,
            }),
          );
          return { partition, res };
        }),
      );
      const items: DueChannel[] = [];
      const next: Record<string, Record<string, unknown>> = {};
      for (const { partition, res } of pages) {
        for (const it of res.Items ?? [])
          items.push({ channelId: String(it.pk).slice('CH#'.length), dueAt: String(it.gsi1sk) });
        if (res.LastEvaluatedKey) next[partition] = res.LastEvaluatedKey;
      }
      return {
        items,
        nextCursor: Object.keys(next).length
          ? Buffer.from(JSON.stringify(next)).toString('base64url')
          : undefined,
      };
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
 * Makes a channel due at `at` (its next dispatcher tick polls it), unless a poll holds it or it is due
 * sooner already; a channel out of the due index (paused, unauthorised) is left out. The admin API calls
 * it when a budget rises, so a channel at its budget floor re-checks at once (core/cost/budget-floor.ts).
 */
export async function makeChannelDue(
  options: { client: DynamoDBDocumentClient; tableName: string },
  channelId: string,
  at: Date,
): Promise<boolean> {
  try {
    await options.client.send(
      new UpdateCommand({
        TableName: options.tableName,
        Key: keys.channel(channelId),
        UpdateExpression: 'SET gsi1sk = :at',
        ConditionExpression: 'attribute_exists(gsi1pk) AND attribute_not_exists(#owner) AND gsi1sk > :at',
        ExpressionAttributeNames: { '#owner': POLL_OWNER },
        ExpressionAttributeValues: { ':at': at.toISOString() },
      }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}
