/**
 * A channel that has just signed in is polled at once: the callback queues one poll job, so the admin
 * sees traffic without waiting for the next dispatcher tick. A refused sign-in queues nothing.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { parsePollJob } from '../../../adapters/aws/sqs-poll-jobs';
import { authorize, callback, consent, createChannel, signIn, startWorld, type World } from './harness';

let w: World;
let pollJobsUrl: string;
beforeAll(async () => {
  w = await startWorld(async (aws) => {
    pollJobsUrl = (await aws.createQueues('-first-poll')).pollJobs.url;
    return { POLL_JOBS_QUEUE_URL: pollJobsUrl };
  });
});
afterAll(() => w.stop());

async function receiveJobs(): Promise<Array<{ channelId: string }>> {
  const res = await w.aws.clients.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: pollJobsUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
  );
  return (res.Messages ?? []).map((m) => parsePollJob(m.Body!));
}

describe('first poll after sign-in', () => {
  it('queues one poll job for the channel when the callback connects it', async () => {
    await w.sim.createUser({ username: 'fp_acct', name: 'First Poll' });
    const { id } = await createChannel(w);
    const { res } = await signIn(w, id, 'fp_acct');
    expect(res.status).toBe(200);
    expect(await receiveJobs()).toEqual([expect.objectContaining({ channelId: id })]);
  });

  it('queues nothing when the admin cancels at X', async () => {
    await w.sim.createUser({ username: 'fp_cancel', name: 'Cancel' });
    const { id } = await createChannel(w);
    const a = await authorize(w, id);
    const res = await callback(w, await consent(a.url, 'fp_cancel', 'deny'), [a.cookie]);
    expect(res.status).toBe(400);
    expect(await receiveJobs()).toEqual([]);
  });
});
