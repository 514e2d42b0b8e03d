/**
 * Poll jobs on the standard poll-jobs queue: SendMessageBatch of 10, several batches in flight, every
 * entry's result checked and refused entries retried. Duplicates are harmless: each job carries its
 * dedup key (`<channelId>@<tick>`) and the due time the dispatcher saw, and the poller's conditional
 * claim lets only one job per due time through (core/inbound/poll.ts).
 */
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import '../../contracts'; // zod/mini's English messages
import { invalidInput } from '../../core/errors';
import { backoffMs, chunk, mapLimit } from '../../core/inbound/concurrency';
import { pollJobDedupKey, type PollJob, type PollJobQueue } from '../../core/inbound/types';

export interface SqsPollJobsOptions {
  client: SQSClient;
  queueUrl: string;
  /** SendMessageBatch calls in flight. */
  concurrency?: number;
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

export const pollJobSchema = z.strictObject({
  channelId: z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[A-Za-z0-9_-]+$/)),
  tick: z.iso.datetime({ offset: true }),
  /** `<channelId>@<tick>`; optional so that jobs queued by older code still parse. */
  dedupKey: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  /** The due-index time the dispatcher saw (absent: the poller reads it). */
  dueAt: z.optional(z.iso.datetime({ offset: true })),
});

/** Parses a poll-job body; throws `invalid_input` naming the field. */
export function parsePollJob(body: string): PollJob {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw invalidInput('body', 'poll job is not valid JSON');
  }
  const parsed = pollJobSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidInput(issue.path.join('.') || 'body', issue.message);
  }
  return parsed.data;
}

export function createSqsPollJobs(options: SqsPollJobsOptions): PollJobQueue {
  const { client, queueUrl } = options;
  const maxAttempts = options.maxAttempts ?? 3;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  async function sendBatch(jobs: PollJob[]): Promise<string[]> {
    let pending: SendMessageBatchRequestEntry[] = jobs.map((j, i) => ({
      Id: `j${i}`,
      MessageBody: JSON.stringify({ ...j, dedupKey: j.dedupKey ?? pollJobDedupKey(j) }),
    }));
    const byId = new Map(jobs.map((j, i) => [`j${i}`, j.channelId]));
    for (let attempt = 0; attempt < maxAttempts && pending.length; attempt++) {
      if (attempt > 0) await sleep(backoffMs(attempt - 1, Math.random, 100, 1000));
      try {
        const res = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
        const ok = new Set((res.Successful ?? []).map((s) => s.Id));
        pending = pending.filter((e) => !ok.has(e.Id));
      } catch {
        // the whole call failed: retry every entry of it
      }
    }
    return pending.map((e) => byId.get(e.Id!)!);
  }

  return {
    async send(jobs) {
      const failed = await mapLimit(chunk(jobs, 10), options.concurrency ?? 16, sendBatch);
      return { failed: failed.flat() };
    },
  };
}
