/**
 * `SpendBudgets` on the single table: a channel's monthly X budget at `COST#<channelId>` / `SETTINGS`, the
 * app's at `COSTAPP` / `SETTINGS` (attribute `monthlyBudgetUsd`; absent = no budget). Set by the admin API
 * (`PATCH /channels/{id}` `monthlyBudgetUsd`, `PATCH /settings`), read with the month's counters by the
 * budget guard (core/cost/budget.ts) in one BatchGet. The app's item also lists the channels that have a
 * budget (`budgetedChannels`, a string set) for the alert evaluator (core/alerts/inputs.ts); budgets set
 * before that list existed are found once by the evaluator's backfill (adapters/aws/alert-sources.ts).
 */
import { BatchGetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SpendBudgets } from '../../core/cost/budget';
import type { BudgetSnapshotReader } from '../../core/cost/budget-floor';
import { batchGetAll } from './batch-get';
import { APP_COST_SHARDS, spendKeys } from './dynamo-spend';

const settingsKey = (channelId: string | null) =>
  channelId === null ? { pk: 'COSTAPP', sk: 'SETTINGS' } : { pk: `COST#${channelId}`, sk: 'SETTINGS' };

export function createDynamoSpendBudgets(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): SpendBudgets {
  const { client, tableName: TableName } = options;
  return {
    async get(channelId) {
      const keys = [settingsKey(null), ...(channelId === null ? [] : [settingsKey(channelId)])];
      const out = await client.send(
        new BatchGetCommand({ RequestItems: { [TableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      const items = out.Responses?.[TableName] ?? [];
      const budgetOf = (key: { pk: string }) => {
        const v = items.find((i) => i.pk === key.pk)?.monthlyBudgetUsd;
        return typeof v === 'number' ? v : null;
      };
      return {
        app: budgetOf(settingsKey(null)),
        channel: channelId === null ? null : budgetOf(settingsKey(channelId)),
      };
    },
    async set(channelId, monthlyBudgetUsd) {
      await client.send(
        new UpdateCommand({
          TableName,
          Key: settingsKey(channelId),
          ...(monthlyBudgetUsd === null
            ? { UpdateExpression: 'REMOVE monthlyBudgetUsd' }
            : {
                UpdateExpression: 'SET monthlyBudgetUsd = :b',
                ExpressionAttributeValues: { ':b': monthlyBudgetUsd },
              }),
        }),
      );
      // the alert evaluator's list of channels with a budget (one read instead of one per channel)
      if (channelId !== null) {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: settingsKey(null),
            UpdateExpression: `${monthlyBudgetUsd === null ? 'DELETE' : 'ADD'} budgetedChannels :c`,
            ExpressionAttributeValues: { ':c': new Set([channelId]) },
          }),
        );
      }
    },
  };
}

/**
 * The budgets and the month's spend of a channel and of the app in ONE `BatchGetItem` (19 keys: both
 * settings items, the channel's month total, the app's 16 month shards); unprocessed keys are asked
 * again (rare; a further request only then).
 */
export function createDynamoBudgetSnapshotReader(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): BudgetSnapshotReader {
  const { client, tableName: TableName } = options;
  return async (channelId, month) => {
    const keys = [
      settingsKey(null),
      settingsKey(channelId),
      spendKeys.month(channelId, month),
      ...Array.from({ length: APP_COST_SHARDS }, (_, s) => spendKeys.appMonth(s, month)),
    ];
    const items = await batchGetAll(client, TableName, keys, {
      ConsistentRead: true,
      failAs: 'budget snapshot',
    });
    const find = (k: { pk: string; sk: string }) => items.find((i) => i.pk === k.pk && i.sk === k.sk);
    const num = (v: unknown) => (typeof v === 'number' ? v : null);
    let appMicros = 0;
    for (const i of items) if (String(i.pk).startsWith('COSTAPP#')) appMicros += num(i.usdMicros) ?? 0;
    return {
      appBudgetUsd: num(find(settingsKey(null))?.monthlyBudgetUsd),
      channelBudgetUsd: num(find(settingsKey(channelId))?.monthlyBudgetUsd),
      channelMicros: num(find(spendKeys.month(channelId, month))?.usdMicros) ?? 0,
      appMicros,
    };
  };
}
