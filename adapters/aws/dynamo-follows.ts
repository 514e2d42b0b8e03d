/**
 * Auto-follow memory on the single table, in the channel's partition (deleted with the channel):
 * - `FOLLOW#<xUserId>`: whom the account followed, or will (`queued`), or cannot (`skipped`); written
 *   once, so nobody is followed twice;
 * - `FOLLOWQ#<xUserId>`: the queue of users still to follow (a separate item so that listing the
 *   queue never reads the whole follow history);
 * - `FOLLOWDAY#<YYYY-MM-DD>`: the day's follow count against our own cap (TTL'd).
 * The record and its queue entry are written and removed together in one transaction.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { FollowRecord, FollowStore } from '../../core/inbound/types';
import { TTL_ATTRIBUTE, keys } from './table';

export interface DynamoFollowsOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
}

const queueKey = (channelId: string, userId: string) => ({ pk: `CH#${channelId}`, sk: `FOLLOWQ#${userId}` });
const dayKey = (channelId: string, day: string) => ({ pk: `CH#${channelId}`, sk: `FOLLOWDAY#${day}` });
const isConditionFailure = (e: unknown) =>
  (e as Error)?.name === 'ConditionalCheckFailedException' ||
  e instanceof TransactionCanceledException ||
  (e as Error)?.name === 'TransactionCanceledException';

export function createDynamoFollows({ client, tableName: TableName }: DynamoFollowsOptions): FollowStore {
  return {
    async get(channelId, userId) {
      const res = await client.send(
        new GetCommand({ TableName, Key: keys.follow(channelId, userId), ConsistentRead: true }),
      );
      if (!res.Item) return null;
      return { userId, state: res.Item.state as FollowRecord['state'], at: String(res.Item.at) };
    },

    async enqueue(channelId, userId, at) {
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName,
                  Item: { ...keys.follow(channelId, userId), type: 'follow', state: 'queued', at },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Put: {
                  TableName,
                  Item: { ...queueKey(channelId, userId), type: 'follow_queue', userId, at },
                },
              },
            ],
          }),
        );
        return true;
      } catch (e) {
        if (isConditionFailure(e)) return false;
        throw e;
      }
    },

    async listQueued(channelId, limit) {
      const res = await client.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :q)',
          ExpressionAttributeValues: { ':pk': `CH#${channelId}`, ':q': 'FOLLOWQ#' },
          Limit: limit,
          ConsistentRead: true,
        }),
      );
      return (res.Items ?? []).map((it) => String(it.userId));
    },

    async takeDailySlot(channelId, day, cap) {
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: dayKey(channelId, day),
            UpdateExpression: 'SET #n = if_not_exists(#n, :zero) + :one, #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(#n) OR #n < :cap',
            ExpressionAttributeNames: { '#n': 'count', '#ttl': TTL_ATTRIBUTE },
            ExpressionAttributeValues: {
              ':zero': 0,
              ':one': 1,
              ':cap': cap,
              ':ttl': Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) + 3 * 86400,
            },
          }),
        );
        return true;
      } catch (e) {
        if (isConditionFailure(e)) return false;
        throw e;
      }
    },

    async markDone(channelId, userId, state, at) {
      await client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName,
                Key: keys.follow(channelId, userId),
                UpdateExpression: 'SET #s = :s, #at = :at',
                ExpressionAttributeNames: { '#s': 'state', '#at': 'at' },
                ExpressionAttributeValues: { ':s': state, ':at': at },
              },
            },
            { Delete: { TableName, Key: queueKey(channelId, userId) } },
          ],
        }),
      );
    },
  };
}
