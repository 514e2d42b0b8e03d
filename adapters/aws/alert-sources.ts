/**
 * `AlertSources` (core/alerts/inputs.ts) on the single table and the dead-letter queues:
 * - channels: the list index (`gsi2`, projection ALL), only the attributes the conditions read;
 * - the app: one BatchGet of `COSTAPP`/`SETTINGS` (budget, `budgetedChannels`), the 16 app month
 *   counter shards and the real-time watch's marks (`RT#APP`/`MARKS`);
 * - a channel: one Query of `COST#<id>` from `D#<fromDay>` on, which also returns its `SETTINGS` item
 *   (`SETTINGS` sorts after every `D#…`);
 * - DLQs: `GetQueueAttributes` (approximate visible + in-flight messages), one call per queue.
 *
 * Budgets set before alerts existed (issue 20): the app's `budgetedChannels` list is kept by `PATCH`
 * since then, so a deployment upgraded from a version without it has channel budgets missing from the
 * list. The list counts as complete once the app item carries `budgetedChannelsListedAt`; until then the
 * evaluator calls `listBudgetedChannels` once: BatchGets of the channels' `COST#<id>`/`SETTINGS` items
 * (100 keys a request, only `pk` and `monthlyBudgetUsd` projected), then ONE conditional UpdateItem that
 * ADDs what it found to the set and sets the mark (`attribute_not_exists(budgetedChannelsListedAt)`).
 * ADD is a set union, so a `PATCH` between the read and the write is never lost, and a second evaluator
 * running the same backfill is refused by the condition (its ADD would be the same union).
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AlertSources } from '../../core/alerts/inputs';
import type { ChannelSnapshot } from '../../core/alerts/conditions';
import type { SpendDay } from '../../core/cost/meter';
import { batchGetAll } from './batch-get';
import { APP_COST_SHARDS, spendKeys } from './dynamo-spend';
import { LIST_INDEX, LIST_PARTITION } from './table';

const APP_SETTINGS = { pk: 'COSTAPP', sk: 'SETTINGS' };
/** The app item's mark: its `budgetedChannels` list holds every channel budget (backfilled or kept by PATCH). */
export const BUDGETS_LISTED_MARK = 'budgetedChannelsListedAt';
const RT_MARKS = { pk: 'RT#APP', sk: 'MARKS' };
const CHANNEL_FIELDS = [
  'id',
  'name',
  'status',
  'statusReason',
  'account',
  'listenMentions',
  'listenDms',
  'connectedAt',
  'realtime',
  'realtimeLastEventAt',
  'health',
];

const num = (v: unknown) => (typeof v === 'number' ? v : 0);
const str = (v: unknown) => (typeof v === 'string' ? v : null);

function dayOf(item: Record<string, unknown>): SpendDay {
  const counts: Record<string, number> = {};
  for (const [k, v] of Object.entries(item))
    if (k.startsWith('n:') && typeof v === 'number') counts[k.slice(2)] = v;
  return { day: String(item.sk).slice(2), micros: num(item.usdMicros), counts };
}

export function createAlertSources(options: {
  client: DynamoDBDocumentClient;
  sqs: SQSClient;
  tableName: string;
  /** DLQ URL per queue role (`pollJobs`, `inbound`, ...); roles without a URL are not watched. */
  dlqUrls: Record<string, string | undefined>;
}): AlertSources {
  const { client, sqs, tableName: TableName } = options;
  return {
    async channels() {
      const out: ChannelSnapshot[] = [];
      const names = Object.fromEntries(CHANNEL_FIELDS.map((f, i) => [`#f${i}`, f]));
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName,
            IndexName: LIST_INDEX,
            KeyConditionExpression: 'gsi2pk = :p',
            ExpressionAttributeValues: { ':p': LIST_PARTITION },
            ProjectionExpression: Object.keys(names).join(', '),
            ExpressionAttributeNames: names,
            ExclusiveStartKey,
          }),
        );
        for (const it of page.Items ?? []) out.push(it as unknown as ChannelSnapshot);
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return out;
    },

    async app(month) {
      const keys = [
        APP_SETTINGS,
        RT_MARKS,
        ...Array.from({ length: APP_COST_SHARDS }, (_, s) => spendKeys.appMonth(s, month)),
      ];
      const items = await batchGetAll(client, TableName, keys);
      const find = (k: { pk: string; sk: string }) => items.find((it) => it.pk === k.pk && it.sk === k.sk);
      const settings = find(APP_SETTINGS);
      const marks = find(RT_MARKS);
      const budgeted = settings?.budgetedChannels;
      return {
        budgetUsd: typeof settings?.monthlyBudgetUsd === 'number' ? settings.monthlyBudgetUsd : null,
        monthMicros: items
          .filter((it) => String(it.pk).startsWith('COSTAPP#'))
          .reduce((n, it) => n + num(it.usdMicros), 0),
        budgetedChannels:
          budgeted instanceof Set
            ? [...budgeted].map(String)
            : Array.isArray(budgeted)
              ? budgeted.map(String)
              : [],
        budgetsListed: typeof settings?.[BUDGETS_LISTED_MARK] === 'string',
        webhook: marks ? { validAt: str(marks.webhookValidAt), lastTickAt: str(marks.lastTickAt) } : null,
      };
    },

    async listBudgetedChannels(channelIds, at) {
      const settings = await batchGetAll(
        client,
        TableName,
        channelIds.map((id) => ({ pk: `COST#${id}`, sk: 'SETTINGS' })),
        { ProjectionExpression: 'pk, monthlyBudgetUsd', failAs: 'budget list backfill' },
      );
      const found = settings
        .filter((it) => typeof it.monthlyBudgetUsd === 'number')
        .map((it) => String(it.pk).slice('COST#'.length));
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: APP_SETTINGS,
            UpdateExpression: `SET #mark = :at${found.length ? ' ADD budgetedChannels :found' : ''}`,
            ConditionExpression: 'attribute_not_exists(#mark)',
            ExpressionAttributeNames: { '#mark': BUDGETS_LISTED_MARK },
            ExpressionAttributeValues: {
              ':at': at,
              ...(found.length ? { ':found': new Set(found) } : {}),
            },
          }),
        );
      } catch (e) {
        // another evaluator listed them first: its union holds the same channels
        if ((e as Error)?.name !== 'ConditionalCheckFailedException') throw e;
      }
      return found;
    },

    async channelDays(channelId, fromDay) {
      const days: SpendDay[] = [];
      let budgetUsd: number | null = null;
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :pk AND sk >= :from',
            ExpressionAttributeValues: { ':pk': `COST#${channelId}`, ':from': `D#${fromDay}` },
            ExclusiveStartKey,
          }),
        );
        for (const it of page.Items ?? []) {
          if (it.sk === 'SETTINGS')
            budgetUsd = typeof it.monthlyBudgetUsd === 'number' ? it.monthlyBudgetUsd : null;
          else if (String(it.sk).startsWith('D#')) days.push(dayOf(it));
        }
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return { budgetUsd, days };
    },

    async dlqs() {
      const watched = Object.entries(options.dlqUrls).filter((e): e is [string, string] => Boolean(e[1]));
      return Promise.all(
        watched.map(async ([queue, QueueUrl]) => {
          const out = await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl,
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
            }),
          );
          const a = out.Attributes ?? {};
          return {
            queue,
            messages:
              Number(a.ApproximateNumberOfMessages ?? 0) +
              Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
          };
        }),
      );
    },
  };
}
