/**
 * Asks for a prompt DM poll of one channel (core/realtime/webhook.ts `DmPollRequest`): the webhook
 * leaves a DM that carries media to the poller, which holds the channel's token to download it.
 * Two conditional writes on the channel item, never while a poll holds its claim:
 * 1. `health.notBefore["GET /2/dm_events"] = now`: the DM stream is due (a real-time channel's DMs are
 *    otherwise read at the slow reconciliation cadence);
 * 2. `gsi1sk = now` only when it is later: the dispatcher's next tick sends a poll job (a channel
 *    already due keeps its `gsi1sk`, so a job in flight can still claim it).
 * A poll that holds the claim keeps its own times: should it not have read the DM, the DM comes with
 * the next DM poll (docs/contracts.md).
 * Before both, with `heldFrom`: `checkpoints.dmHold` = the DM's created time unless an earlier hold is
 * recorded, whether or not a poll holds the claim — that poll's checkpoint write is conditional on the
 * hold it read, so it fails and is retried rather than moving past the DM (core/realtime/proof.ts).
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DM_EVENTS_ENDPOINT } from '../../core/inbound/planner';
import { systemClock, type Clock } from '../../core/ports';
import type { DmPollRequest } from '../../core/realtime/webhook';
import { POLL_OWNER } from './dynamo-poll-state';
import { keys } from './table';

const conditionFailed = (e: unknown) => (e as Error)?.name === 'ConditionalCheckFailedException';

export function createDynamoDmPollRequest(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
}): DmPollRequest {
  const { client, tableName: TableName } = options;
  const clock = options.clock ?? systemClock;
  const update = async (input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>) => {
    try {
      await client.send(new UpdateCommand({ TableName, ...input }));
    } catch (e) {
      if (!conditionFailed(e)) throw e;
    }
  };
  return {
    async requestDmPoll(channelId, heldFrom) {
      const now = clock.now().toISOString();
      const Key = keys.channel(channelId);
      if (heldFrom)
        await update({
          Key,
          UpdateExpression: 'SET #cp.#hold = :at',
          ConditionExpression:
            'attribute_exists(#cp) AND (attribute_not_exists(#cp.#hold) OR #cp.#hold = :null OR #cp.#hold > :at)',
          ExpressionAttributeNames: { '#cp': 'checkpoints', '#hold': 'dmHold' },
          ExpressionAttributeValues: { ':at': heldFrom, ':null': null },
        });
      await update({
        Key,
        UpdateExpression: 'SET #h.#nb.#dm = :now',
        ConditionExpression: 'attribute_exists(gsi1sk) AND attribute_not_exists(#owner)',
        ExpressionAttributeNames: {
          '#h': 'health',
          '#nb': 'notBefore',
          '#dm': DM_EVENTS_ENDPOINT,
          '#owner': POLL_OWNER,
        },
        ExpressionAttributeValues: { ':now': now },
      });
      await update({
        Key,
        UpdateExpression: 'SET gsi1sk = :now',
        ConditionExpression: 'gsi1sk > :now AND attribute_not_exists(#owner)',
        ExpressionAttributeNames: { '#owner': POLL_OWNER },
        ExpressionAttributeValues: { ':now': now },
      });
    },
  };
}
