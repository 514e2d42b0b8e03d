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
 * 3. With `jobs` (the poll-jobs queue), when no poll holds the claim: one poll job for the channel now,
 *    so the poller reads the DM within seconds instead of at the next dispatcher tick (up to a minute).
 *    It carries the `gsi1sk` written in 2 as its `dueAt` (the poller's claim is then a strongly
 *    consistent conditional write, not an eventually consistent read); a channel that was already due
 *    is read first. One SendMessage, one attempt: if it fails, the dispatcher's tick polls the channel
 *    as before (1 and 2 made it due), and a duplicate of the dispatcher's job loses the claim.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DM_EVENTS_ENDPOINT } from '../../core/inbound/planner';
import type { PollJobQueue } from '../../core/inbound/types';
import { systemClock, type Clock } from '../../core/ports';
import type { DmPollRequest } from '../../core/realtime/webhook';
import { POLL_OWNER } from './dynamo-poll-state';
import { keys } from './table';

const conditionFailed = (e: unknown) => (e as Error)?.name === 'ConditionalCheckFailedException';

export function createDynamoDmPollRequest(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
  /** The poll-jobs queue (absent: the channel waits for the dispatcher's next tick). */
  jobs?: PollJobQueue;
  /** Told when the prompt job could not be queued (the dispatcher's tick polls the channel then). */
  onJobNotQueued?: (channelId: string) => void;
}): DmPollRequest {
  const { client, tableName: TableName } = options;
  const clock = options.clock ?? systemClock;
  /** One conditional update; false when its condition did not hold. */
  const update = async (
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>,
  ): Promise<boolean> => {
    try {
      await client.send(new UpdateCommand({ TableName, ...input }));
      return true;
    } catch (e) {
      if (!conditionFailed(e)) throw e;
      return false;
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
      const unclaimed = await update({
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
      const moved = await update({
        Key,
        UpdateExpression: 'SET gsi1sk = :now',
        ConditionExpression: 'gsi1sk > :now AND attribute_not_exists(#owner)',
        ExpressionAttributeNames: { '#owner': POLL_OWNER },
        ExpressionAttributeValues: { ':now': now },
      });
      if (!unclaimed || !options.jobs) return;
      const queued = await options.jobs
        .send([{ channelId, tick: now, ...(moved ? { dueAt: now } : {}) }])
        .then((r) => r.failed.length === 0)
        .catch(() => false);
      if (!queued) options.onJobNotQueued?.(channelId);
    },
  };
}
