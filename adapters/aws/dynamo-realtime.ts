/**
 * The channel's real-time record on its item (core/realtime/subscriptions.ts `RealtimeStore`): `realtime`
 * (what the channel holds at X) and `realtimeLastEventAt` (the newest event the webhook delivered). Both
 * are written beside `version`, like the poller's health, so neither conflicts with an admin change; a
 * write for a channel deleted meanwhile is refused by its condition and ignored.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ChannelRealtime } from '../../core/channel';
import type { RealtimeStore } from '../../core/realtime/subscriptions';
import { keys } from './table';

const isConditionFailure = (e: unknown) => (e as Error)?.name === 'ConditionalCheckFailedException';

export interface DynamoRealtimeStore extends RealtimeStore {
  /** Moves `realtimeLastEventAt` forward to `at` (never back). */
  touchLastEvent(channelId: string, at: string): Promise<void>;
  /** Adds `n` to `realtimeEncryptedDms` (XChat messages delivered as encrypted DMs). */
  countEncrypted(channelId: string, n: number): Promise<void>;
}

export function createDynamoRealtimeStore(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): DynamoRealtimeStore {
  const { client, tableName: TableName } = options;
  return {
    async save(channelId, realtime: ChannelRealtime) {
      await client
        .send(
          new UpdateCommand({
            TableName,
            Key: keys.channel(channelId),
            UpdateExpression: 'SET #rt = :rt',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#rt': 'realtime' },
            ExpressionAttributeValues: { ':rt': realtime },
          }),
        )
        .catch((e) => {
          if (!isConditionFailure(e)) throw e;
        });
    },
    async touchLastEvent(channelId, at) {
      await client
        .send(
          new UpdateCommand({
            TableName,
            Key: keys.channel(channelId),
            UpdateExpression: 'SET #t = :t',
            ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#t) OR #t < :t)',
            ExpressionAttributeNames: { '#t': 'realtimeLastEventAt' },
            ExpressionAttributeValues: { ':t': at },
          }),
        )
        .catch((e) => {
          if (!isConditionFailure(e)) throw e;
        });
    },
    async countEncrypted(channelId, n) {
      await client
        .send(
          new UpdateCommand({
            TableName,
            Key: keys.channel(channelId),
            UpdateExpression: 'ADD #n :n',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#n': 'realtimeEncryptedDms' },
            ExpressionAttributeValues: { ':n': n },
          }),
        )
        .catch((e) => {
          if (!isConditionFailure(e)) throw e;
        });
    },
  };
}
