/**
 * `RealtimeStateStore` (core/realtime/outages.ts) on the single table, app-wide items:
 *
 * | item           | pk          | sk                      | notes |
 * |----------------|-------------|-------------------------|-------|
 * | outage window  | `RT#OUTAGE` | `<from ISO>#<reason>`   | `from`, `to`; widened by a conditional update, TTL 48 h |
 * | replay job     | `RT#REPLAY` | `JOB`                   | the one job slot: put on absence, ended by a conditional delete |
 * | marks          | `RT#APP`    | `MARKS`                 | lastEventAt, lastTickAt, webhookValidAt, quietCheckedTo, sweptTo, subscriptionsListedAt; only moved forward; provenFrom/provenTo (the proven span) |
 *
 * Windows expire after 48 h (TTL): by then X cannot replay them and the watch has handed them to
 * polling. Every write is conditional, so concurrent webhook instances and overlapping ticks agree.
 *
 * Also `createDynamoCatchingUp`: writes `realtimeCatchingUpSince` on every channel item (read by the
 * health and the console) when it changes, remembering what is shown in the marks item (`catchingUpShown`).
 *
 * Also `createDynamoPollBackfill`: makes every channel that is due-indexed and not claimed by a poll
 * due now (`gsi1sk` = now), the "poll backfill" of a gap older than X's 24 h replay.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type {
  OutageWindow,
  ProvenSpan,
  RealtimeMarks,
  RealtimeStateStore,
  ReplayJob,
} from '../../core/realtime/outages';
import type { RealtimeProofReader } from '../../core/realtime/proof';
import type { CatchingUpMarker, PollBackfill } from '../../core/realtime/watch';
import { systemClock, type Clock } from '../../core/ports';
import { POLL_OWNER } from './dynamo-poll-state';
import { DUE_INDEX, DUE_PARTITIONS, LIST_INDEX, LIST_PARTITION, TTL_ATTRIBUTE } from './table';

const OUTAGE_PK = 'RT#OUTAGE';
const JOB_KEY = { pk: 'RT#REPLAY', sk: 'JOB' };
const MARKS_KEY = { pk: 'RT#APP', sk: 'MARKS' };
const OUTAGE_TTL_SECONDS = 48 * 3600;
const MARK_NAMES: ReadonlyArray<keyof RealtimeMarks> = [
  'lastEventAt',
  'lastTickAt',
  'webhookValidAt',
  'quietCheckedTo',
  'sweptTo',
  'subscriptionsListedAt',
];

const conditionFailed = (e: unknown) => (e as Error)?.name === 'ConditionalCheckFailedException';

const toJob = (a: Record<string, unknown>): ReplayJob => ({
  claimId: String(a.claimId),
  jobId: typeof a.jobId === 'string' ? a.jobId : null,
  from: String(a.from),
  to: String(a.to),
  startedAt: String(a.startedAt),
  reasons: Array.isArray(a.reasons) ? (a.reasons as ReplayJob['reasons']) : [],
});

export function createDynamoRealtimeState(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
}): RealtimeStateStore {
  const { client, tableName: TableName } = options;
  const clock = options.clock ?? systemClock;
  return {
    async openOutage({ from, to, reason }) {
      const sk = `${from.toISOString()}#${reason}`;
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: { pk: OUTAGE_PK, sk },
            UpdateExpression: 'SET #type = :type, #from = :from, #to = :to, reason = :reason, #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(pk) OR #to < :to',
            ExpressionAttributeNames: {
              '#type': 'type',
              '#from': 'from',
              '#to': 'to',
              '#ttl': TTL_ATTRIBUTE,
            },
            ExpressionAttributeValues: {
              ':type': 'rt_outage',
              ':from': from.toISOString(),
              ':to': to.toISOString(),
              ':reason': reason,
              ':ttl': Math.floor(clock.now().getTime() / 1000) + OUTAGE_TTL_SECONDS,
            },
          }),
        );
      } catch (e) {
        // an equal or wider window is already recorded
        if (!conditionFailed(e)) throw e;
      }
    },

    async outages() {
      const out: OutageWindow[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const res = await client.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': OUTAGE_PK },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        for (const it of res.Items ?? [])
          out.push({
            key: String(it.sk),
            from: String(it.from),
            to: String(it.to),
            reason: String(it.reason) as OutageWindow['reason'],
          });
        start = res.LastEvaluatedKey;
      } while (start);
      return out;
    },

    async removeOutages(windows) {
      for (const w of windows) {
        try {
          await client.send(
            new DeleteCommand({
              TableName,
              Key: { pk: OUTAGE_PK, sk: w.key },
              ConditionExpression: '#to = :to',
              ExpressionAttributeNames: { '#to': 'to' },
              ExpressionAttributeValues: { ':to': w.to },
            }),
          );
        } catch (e) {
          // widened meanwhile (or gone): the next tick replays what is left
          if (!conditionFailed(e)) throw e;
        }
      }
    },

    async currentJob() {
      const res = await client.send(new GetCommand({ TableName, Key: JOB_KEY, ConsistentRead: true }));
      return res.Item ? toJob(res.Item) : null;
    },

    async claimJob(job) {
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: { ...JOB_KEY, type: 'rt_replay_job', ...job },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return true;
      } catch (e) {
        if (conditionFailed(e)) return false;
        throw e;
      }
    },

    async setJobId(claimId, jobId) {
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: JOB_KEY,
            UpdateExpression: 'SET jobId = :job',
            ConditionExpression: 'claimId = :claim',
            ExpressionAttributeValues: { ':job': jobId, ':claim': claimId },
          }),
        );
        return true;
      } catch (e) {
        if (conditionFailed(e)) return false;
        throw e;
      }
    },

    async endJob(match) {
      const [attr, value] = match.jobId !== undefined ? ['jobId', match.jobId] : ['claimId', match.claimId];
      if (!value) return null;
      try {
        const res = await client.send(
          new DeleteCommand({
            TableName,
            Key: JOB_KEY,
            ConditionExpression: '#a = :v',
            ExpressionAttributeNames: { '#a': attr },
            ExpressionAttributeValues: { ':v': value },
            ReturnValues: 'ALL_OLD',
          }),
        );
        return res.Attributes ? toJob(res.Attributes) : null;
      } catch (e) {
        if (conditionFailed(e)) return null;
        throw e;
      }
    },

    async marks() {
      const res = await client.send(new GetCommand({ TableName, Key: MARKS_KEY, ConsistentRead: true }));
      const item = res.Item ?? {};
      const out = {} as RealtimeMarks;
      for (const name of MARK_NAMES) out[name] = typeof item[name] === 'string' ? item[name] : null;
      return out;
    },

    async advanceMark(name, at) {
      if (!MARK_NAMES.includes(name)) throw new Error(`unknown real-time mark ${String(name)}`);
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: MARKS_KEY,
            UpdateExpression: 'SET #m = :at, #type = :type',
            ConditionExpression: 'attribute_not_exists(#m) OR #m < :at',
            ExpressionAttributeNames: { '#m': name, '#type': 'type' },
            ExpressionAttributeValues: { ':at': at.toISOString(), ':type': 'rt_marks' },
          }),
        );
      } catch (e) {
        if (!conditionFailed(e)) throw e;
      }
    },

    async proven() {
      const res = await client.send(new GetCommand({ TableName, Key: MARKS_KEY, ConsistentRead: true }));
      return provenOf(res.Item);
    },

    async extendProven(from, to) {
      const values = { ':from': from.toISOString(), ':to': to.toISOString(), ':type': 'rt_marks' };
      const names = { '#pf': 'provenFrom', '#pt': 'provenTo', '#type': 'type' };
      if (values[':to'] <= values[':from']) return;
      try {
        // touches or overlaps the span: only its end moves (later)
        await client.send(
          new UpdateCommand({
            TableName,
            Key: MARKS_KEY,
            UpdateExpression: 'SET #pt = :to, #type = :type',
            ConditionExpression: 'attribute_exists(#pf) AND #pf <= #pt AND #pt >= :from AND #pt < :to',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        return;
      } catch (e) {
        if (!conditionFailed(e)) throw e;
      }
      try {
        // none yet, or a gap lies between: a new span (one write, so never a mixed pair)
        await client.send(
          new UpdateCommand({
            TableName,
            Key: MARKS_KEY,
            UpdateExpression: 'SET #pf = :from, #pt = :to, #type = :type',
            ConditionExpression: 'attribute_not_exists(#pt) OR #pt < :from',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
      } catch (e) {
        // the span already reaches past `to` (or past `from`, by a concurrent job): nothing to add
        if (!conditionFailed(e)) throw e;
      }
    },
  };
}

function provenOf(item: Record<string, unknown> | undefined): ProvenSpan | null {
  const from = item?.provenFrom;
  const to = item?.provenTo;
  return typeof from === 'string' && typeof to === 'string' && from < to ? { from, to } : null;
}

/**
 * The poller's read of the real-time proof (core/realtime/proof.ts): the proven span,
 * `subscriptionsListedAt` and the watch's marks from the marks item, eventually consistent (an older
 * value only proves less).
 */
export function createDynamoProofReader(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): RealtimeProofReader {
  const { client, tableName: TableName } = options;
  return {
    async read() {
      const res = await client.send(
        new GetCommand({
          TableName,
          Key: MARKS_KEY,
          ProjectionExpression: 'provenFrom, provenTo, subscriptionsListedAt, lastTickAt, webhookValidAt',
        }),
      );
      const str = (v: unknown) => (typeof v === 'string' ? v : null);
      return {
        proven: provenOf(res.Item),
        listedAt: str(res.Item?.subscriptionsListedAt),
        watchAt: str(res.Item?.lastTickAt),
        webhookValidAt: str(res.Item?.webhookValidAt),
      };
    },
  };
}

/**
 * Makes every due-indexed channel due now unless a poll holds it (its claim ends with its own next
 * time). A poll reads from the channel's checkpoints, which only move after delivery, so it covers
 * any gap since then (within X's read limits).
 */
export function createDynamoPollBackfill(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
}): PollBackfill {
  const { client, tableName: TableName } = options;
  const clock = options.clock ?? systemClock;
  return {
    async requestBackfill() {
      const now = clock.now().toISOString();
      let moved = 0;
      for (const partition of DUE_PARTITIONS) {
        let start: Record<string, unknown> | undefined;
        do {
          const res = await client.send(
            new QueryCommand({
              TableName,
              IndexName: DUE_INDEX,
              KeyConditionExpression: 'gsi1pk = :p AND gsi1sk > :now',
              ExpressionAttributeValues: { ':p': partition, ':now': now },
              ExclusiveStartKey: start,
            }),
          );
          for (const it of res.Items ?? []) {
            try {
              await client.send(
                new UpdateCommand({
                  TableName,
                  Key: { pk: it.pk, sk: it.sk },
                  UpdateExpression: 'SET gsi1sk = :now',
                  ConditionExpression: 'gsi1sk = :seen AND attribute_not_exists(#owner)',
                  ExpressionAttributeNames: { '#owner': POLL_OWNER },
                  ExpressionAttributeValues: { ':now': now, ':seen': it.gsi1sk },
                }),
              );
              moved++;
            } catch (e) {
              if (!conditionFailed(e)) throw e;
            }
          }
          start = res.LastEvaluatedKey;
        } while (start);
      }
      return moved;
    },
  };
}

/** "catching up since" on every channel (the list index), written only on a change. */
export function createDynamoCatchingUp(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): CatchingUpMarker {
  const { client, tableName: TableName } = options;
  return {
    async shown() {
      const res = await client.send(
        new GetCommand({
          TableName,
          Key: MARKS_KEY,
          ConsistentRead: true,
          ProjectionExpression: 'catchingUpShown',
        }),
      );
      const v = res.Item?.catchingUpShown;
      return typeof v === 'string' ? v : null;
    },
    async show(since) {
      let start: Record<string, unknown> | undefined;
      do {
        const res = await client.send(
          new QueryCommand({
            TableName,
            IndexName: LIST_INDEX,
            KeyConditionExpression: 'gsi2pk = :p',
            ExpressionAttributeValues: { ':p': LIST_PARTITION },
            ProjectionExpression: 'pk, sk',
            ExclusiveStartKey: start,
          }),
        );
        for (const it of res.Items ?? []) {
          await client
            .send(
              new UpdateCommand({
                TableName,
                Key: { pk: it.pk, sk: it.sk },
                UpdateExpression: since ? 'SET #c = :since' : 'REMOVE #c',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeNames: { '#c': 'realtimeCatchingUpSince' },
                ...(since ? { ExpressionAttributeValues: { ':since': since } } : {}),
              }),
            )
            .catch((e) => {
              // deleted meanwhile
              if (!conditionFailed(e)) throw e;
            });
        }
        start = res.LastEvaluatedKey;
      } while (start);
      await client.send(
        new UpdateCommand({
          TableName,
          Key: MARKS_KEY,
          UpdateExpression: since ? 'SET catchingUpShown = :s' : 'REMOVE catchingUpShown',
          ...(since ? { ExpressionAttributeValues: { ':s': since } } : {}),
        }),
      );
    },
  };
}
