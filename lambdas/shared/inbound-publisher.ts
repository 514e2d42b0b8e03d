/**
 * The inbound publisher every path that delivers to the case system uses (the poller and the webhook):
 * the SQS FIFO publisher behind the per-channel delivered ledger, so an item is published to a channel
 * once whichever path brings it first (core/inbound/delivered.ts has the order and its crash timeline).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AwsClients } from '../../adapters/aws/clients';
import { createDynamoDeliveredLedger } from '../../adapters/aws/dynamo-delivered';
import { createSqsInboundPublisher } from '../../adapters/aws/sqs-inbound-publisher';
import { createLedgerPublisher, type LedgerPublisher } from '../../core/inbound/delivered';
import type { InboundPublisher } from '../../core/inbound/types';
import type { Clock } from '../../core/ports';

export interface InboundPublisherSettings {
  config: { TABLE_NAME: string; INBOUND_QUEUE_URL: string; DELIVERED_TTL_HOURS: number };
  clients: Pick<AwsClients, 'doc' | 'sqs'>;
  clock: Clock;
  log: Logger;
  /** Tests and the fault harness wrap the SQS publisher (the ledger stays in front of it). */
  wrapPublisher?: (p: InboundPublisher) => InboundPublisher;
  /** The wait between SendMessageBatch attempts (default real time; the fault harness skips it). */
  sleep?: (ms: number) => Promise<void>;
}

export function composeInboundPublisher(s: InboundPublisherSettings): LedgerPublisher {
  const { config, clients, clock, log } = s;
  const sqsPublisher = createSqsInboundPublisher({
    client: clients.sqs,
    queueUrl: config.INBOUND_QUEUE_URL,
    sleep: s.sleep,
  });
  return createLedgerPublisher({
    ledger: createDynamoDeliveredLedger({
      client: clients.doc,
      tableName: config.TABLE_NAME,
      ttlHours: config.DELIVERED_TTL_HOURS,
      clock,
    }),
    publisher: s.wrapPublisher ? s.wrapPublisher(sqsPublisher) : sqsPublisher,
    clock,
    onRecordFailed: ({ count }) => log.warn('delivered ledger not updated after publish', { count }),
  });
}
