/**
 * The local queues carry the attributes the deployed ones have: each queue and DLQ that
 * `createQueueWithDlq` makes from `QUEUES` (as `npm start` does) is read back with
 * GetQueueAttributes All and compared with the synthesized CloudFormation template, with SQS's
 * defaults standing in for what the template leaves out. Names (CloudFormation generates them) and
 * KMS encryption (not emulated locally; stand-ins/README.md) are outside the comparison.
 */
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Stack } from 'aws-cdk-lib';
import { QUEUES, type QueueRole } from '../../../adapters/aws/queues';
import { createQueueWithDlq, startSqs, type SqsStandIn } from '../../../stand-ins/sqs';
import { buildStack } from '../../cdk/build';

/** What SQS reports for an attribute a CreateQueue call leaves out (SQS API reference). */
const SQS_DEFAULTS: Record<string, string> = {
  DelaySeconds: '0',
  MaximumMessageSize: '1048576',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
};
const FIFO_DEFAULTS: Record<string, string> = {
  ContentBasedDeduplication: 'false',
  DeduplicationScope: 'queue',
  FifoThroughputLimit: 'perQueue',
};
const COMPARED = [...Object.keys(SQS_DEFAULTS), ...Object.keys(FIFO_DEFAULTS), 'FifoQueue'];

type CfnQueue = { Properties: Record<string, unknown> };

/** The attributes GetQueueAttributes would report for a queue the template creates. */
function deployedAttributes(q: CfnQueue): Record<string, string> {
  const p = q.Properties;
  const fifo = p.FifoQueue === true;
  const out: Record<string, string> = {
    ...SQS_DEFAULTS,
    ...(fifo ? { FifoQueue: 'true', ...FIFO_DEFAULTS } : {}),
  };
  for (const name of COMPARED) if (p[name] !== undefined) out[name] = String(p[name]);
  return out;
}

const pick = (attrs: Record<string, string>) =>
  Object.fromEntries(COMPARED.filter((k) => attrs[k] !== undefined).map((k) => [k, attrs[k]]));

let stand: SqsStandIn;
let sqs: SQSClient;
beforeAll(async () => {
  stand = await startSqs({ port: 0 });
  sqs = new SQSClient({
    endpoint: stand.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(async () => {
  sqs.destroy();
  await stand.stop();
});

describe('local queues match the synthesized stack', () => {
  const { stack, template } = buildStack();
  const queues = template.findResources('AWS::SQS::Queue') as Record<string, CfnQueue>;
  const logicalId = (q: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(q.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);

  it.each(['inbound', 'outbound', 'results', 'pollJobs'] as const)(
    '%s and its DLQ: the same attributes as in the template, the same maxReceiveCount',
    async (role: QueueRole) => {
      const cfnQueue = queues[logicalId(stack.channel.queues[role])];
      const cfnDlqId = logicalId(stack.channel.queues[`${role}Dlq`]);
      const local = await createQueueWithDlq(sqs, QUEUES[role], `-cdk-${role}`);
      const attrs = async (url: string) =>
        (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] })))
          .Attributes!;
      const [queueAttrs, dlqAttrs] = await Promise.all([attrs(local.url), attrs(local.dlqUrl)]);
      const cfnRedrive = cfnQueue.Properties.RedrivePolicy as {
        deadLetterTargetArn: { 'Fn::GetAtt': [string, string] };
        maxReceiveCount: number;
      };
      const localRedrive = JSON.parse(queueAttrs.RedrivePolicy!) as {
        deadLetterTargetArn: string;
        maxReceiveCount: number;
      };

      expect(pick(queueAttrs)).toEqual(deployedAttributes(cfnQueue));
      expect(pick(dlqAttrs)).toEqual(deployedAttributes(queues[cfnDlqId]));
      expect(cfnRedrive.deadLetterTargetArn['Fn::GetAtt'][0]).toBe(cfnDlqId);
      expect(localRedrive).toEqual({
        deadLetterTargetArn: dlqAttrs.QueueArn,
        maxReceiveCount: cfnRedrive.maxReceiveCount,
      });
    },
  );
});
