/**
 * `AccountDirectory` on the single table: the account claim item `ACCOUNT#<xUserId>` / `CLAIM` that
 * `ChannelStore.claimAccount` writes at sign-in (one channel per X account) names the channel, so the
 * webhook finds an event's channel with one GetItem and no index. A strongly consistent read (one
 * read unit): a channel signed in a moment ago gets its first event.
 */
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AccountDirectory } from '../../core/realtime/webhook';
import { keys } from './table';

export function createDynamoAccountDirectory(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): AccountDirectory {
  return {
    async channelIdsFor(xUserId) {
      const res = await options.client.send(
        new GetCommand({
          TableName: options.tableName,
          Key: keys.accountClaim(xUserId),
          ProjectionExpression: 'channelId',
          ConsistentRead: true,
        }),
      );
      const channelId = res.Item?.channelId;
      return typeof channelId === 'string' && channelId ? [channelId] : [];
    },
  };
}
