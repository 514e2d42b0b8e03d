/**
 * The sender's health writes on the channel item, beside the poller's (./dynamo-poll-state.ts, which
 * holds the helpers both use: the missing-map repair and the endpoint block).
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SendHealthStore } from '../../core/outbound/ports';
import {
  ensureHealthMaps,
  isConditionFailure,
  writeBlock,
  type DynamoPollStateOptions,
} from './dynamo-poll-state';
import { keys } from './table';

/**
 * The sender's writes on a channel's health (`SendHealthStore`, core/outbound/ports.ts), on the same
 * item as the poller's: path by path (`health.notBefore.<endpoint>`, `health.rateLimits.<endpoint>`,
 * counters by ADD), never `version`, never a whole map. Its `block` is the same write as the poller's
 * `blockEndpoint` (`writeBlock`).
 */
export function createDynamoSendHealth({
  client,
  tableName,
}: Pick<DynamoPollStateOptions, 'client' | 'tableName'>): SendHealthStore {
  const TableName = tableName;
  // A path into a map that does not exist is a ValidationException, not a condition failure.
  const isMissingMap = (e: unknown) => (e as Error)?.name === 'ValidationException';

  const ensureMaps = (channelId: string) => ensureHealthMaps(client, TableName, channelId);

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
      if (patch.lastSentAt) {
        names['#ls'] = 'lastSentAt';
        values[':ls'] = patch.lastSentAt;
        sets.push('#h.#ls = :ls');
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
      await writeBlock(client, TableName, channelId, endpoint, until.toISOString());
    },
  };
}
