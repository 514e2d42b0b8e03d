/**
 * Soak: many seeded randomized end-to-end runs (test/helpers/reliability-world.ts) against the local
 * stand-ins and a fresh simulated X per run, then one summary table. Every failure class must be zero.
 *
 *   npx tsx scripts/soak.ts --seeds 1000 [--base 1] [--steps 8] [--min-per-kind N] [--workers 2]
 *   npx tsx scripts/soak.ts --seed 263          # one seed, its report and fingerprint (a replay)
 *
 * Faults are counted when they fire (armed ones that no call met are listed apart); every kind must
 * fire at least --min-per-kind times (default 5 % of the seeds, so 50 over 1,000), or the run fails
 * naming the kinds that fell short.
 *
 * `--realtime N` (default 10) then runs N seeded real-time fault runs (test/helpers/realtime-world.ts:
 * 10% of X's deliveries dropped, 5% duplicated, a 30-minute webhook outage, crashes after publish and
 * before the 200, a subscription lost at X), each about two simulated hours; every kind must fire.
 *
 * `--workers N` (default 1) runs the seeds in N child processes (each with its own SQS, Secrets Manager
 * and simulated X, one DynamoDB Local shared, a table per run); a seed's result does not depend on the
 * worker or the order, and the summary is aggregated in seed order, so it is the same for any N.
 * `--out <file>` writes one JSON line per seed as it ends (seed, fingerprint, seconds, failures, faults).
 *
 * A failing run prints its seed; reproduce it with `npm run soak -- --seed <n>` (the same fingerprint
 * means the same run: every X call at the same simulated time with the same answer) or
 * `XC_RELIABILITY_SEED=<seed> npx jest test/reliability`. Exit code 1 when any run failed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { startDynamoDbLocal, type DynamoDbLocal } from '../stand-ins/dynamodb-local';
import { startLocalAws, type LocalAws } from '../test/helpers/local-aws';
import {
  describeFailure,
  failureCount,
  FAULT_KINDS,
  runSeed,
  type RunReport,
} from '../test/helpers/reliability-world';
import {
  describeRealtimeFailure,
  REALTIME_FAULTS,
  realtimeFailureCount,
  runRealtimeSeed,
  type RealtimeRunReport,
} from '../test/helpers/realtime-world';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`--${name} must be a non-negative integer, got ${JSON.stringify(process.argv[i + 1])}`);
    process.exit(2);
  }
  return value;
}

/** One unit of work: a randomized seed or a real-time seed. */
type Job = { kind: 'seed'; seed: number; steps?: number } | { kind: 'realtime'; seed: number };
/** What a job gave: its report or why it crashed, with its wall and CPU time. */
type Done = {
  job: Job;
  report?: RunReport | RealtimeRunReport;
  crashed?: string;
  ms: number;
  cpuMs: number;
  /** The running process's resident set and V8 heap in use when the job ended (MB): flat over a soak. */
  rssMb: number;
  heapMb: number;
};

async function runJob(aws: LocalAws, job: Job): Promise<Done> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const finish = (d: Pick<Done, 'report' | 'crashed'>): Done => {
    const used = process.cpuUsage(cpu);
    const mem = process.memoryUsage();
    return {
      job,
      ...d,
      ms: performance.now() - started,
      cpuMs: (used.user + used.system) / 1000,
      rssMb: Math.round(mem.rss / 1e6),
      heapMb: Math.round(mem.heapUsed / 1e6),
    };
  };
  try {
    const report =
      job.kind === 'seed'
        ? await runSeed(aws, { seed: job.seed, steps: job.steps })
        : await runRealtimeSeed(aws, { seed: job.seed });
    return finish({ report });
  } catch (e) {
    return finish({ crashed: (e as Error).message });
  }
}

/** A worker process: runs the jobs its parent sends, one at a time, on stand-ins of its own. */
async function worker() {
  const aws = await startLocalAws();
  process.on('message', (msg: { job?: Job; stop?: true }) => {
    if (msg.stop) {
      void aws.stop().finally(() => process.exit(0));
      return;
    }
    if (msg.job) void runJob(aws, msg.job).then((done) => process.send?.(done));
  });
  process.send?.({ ready: true });
}

/** Runs `jobs` in `workers` child processes sharing one DynamoDB Local; results in any order. */
async function runInWorkers(jobs: Job[], workers: number, onDone: (d: Done) => void): Promise<void> {
  const ddb: DynamoDbLocal = await startDynamoDbLocal({ port: 0 });
  const queue = [...jobs];
  const children: ChildProcess[] = [];
  try {
    await Promise.all(
      Array.from({ length: Math.min(workers, jobs.length) }, () => {
        const child = fork(__filename, ['--worker'], {
          env: { ...process.env, XC_TEST_DYNAMODB_ENDPOINT: ddb.endpoint },
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        children.push(child);
        return new Promise<void>((resolve, reject) => {
          const next = () => {
            const job = queue.shift();
            if (job) child.send({ job });
            else resolve();
          };
          child.on('message', (msg: Done | { ready: true }) => {
            if ('job' in msg) onDone(msg);
            next();
          });
          child.on('exit', (code) => {
            if (queue.length || code) reject(new Error(`soak worker ${child.pid} exited with ${code}`));
          });
        });
      }),
    );
  } finally {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || !c.connected) return resolve();
            c.once('exit', () => resolve());
            c.send({ stop: true });
          }),
      ),
    );
    await ddb.stop();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : 0;
};

async function main() {
  // the SDK's Node-20 notice is noise here (Lambda runs Node 22); set before any client is built
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (process.argv.includes('--worker')) return worker();
  const single = process.argv.includes('--seed');
  const seeds = single ? 1 : flag('seeds', 1000);
  const base = single ? flag('seed', 1) : flag('base', 1);
  const steps = process.argv.includes('--steps') ? flag('steps', 8) : undefined;
  const workers = Math.max(1, flag('workers', 1));
  const outIndex = process.argv.indexOf('--out');
  const outFile = outIndex >= 0 ? process.argv[outIndex + 1] : undefined;
  const minPerKind = process.argv.includes('--min-per-kind')
    ? flag('min-per-kind', 0)
    : Math.floor(seeds * 0.05);
  const realtimeSeeds = single ? 0 : flag('realtime', 10);
  const jobs: Job[] = [
    ...Array.from({ length: seeds }, (_, i): Job => ({ kind: 'seed', seed: base + i, steps })),
    ...Array.from({ length: realtimeSeeds }, (_, i): Job => ({ kind: 'realtime', seed: base + i })),
  ];

  const started = Date.now();
  const results = new Map<string, Done>();
  const key = (j: Job) => `${j.kind}:${j.seed}`;
  let done = 0;
  let failedSoFar = 0;
  if (outFile) writeFileSync(outFile, '');
  const onDone = (d: Done) => {
    results.set(key(d.job), d);
    const r = d.report;
    // each run as it ends (a soak cut short keeps what it did), in finishing order; the summary is in seed order
    if (outFile && d.job.kind === 'seed')
      appendFileSync(
        outFile,
        `${JSON.stringify(
          r
            ? {
                seed: d.job.seed,
                fingerprint: (r as RunReport).fingerprint,
                seconds: d.ms / 1000,
                cpuSeconds: d.cpuMs / 1000,
                rssMb: d.rssMb,
                heapMb: d.heapMb,
                failures: failureCount(r as RunReport),
                faults: (r as RunReport).faults,
                rateCallsAfterLostBlock: (r as RunReport).rateCallsAfterLostBlock.length,
                refreshLostToDeath: (r as RunReport).refreshLostToDeath.length,
                duplicatedAfterLostRecord: (r as RunReport).duplicatedAfterLostRecord,
                sweep: (r as RunReport).sweep,
                failure: failureCount(r as RunReport) ? describeFailure(r as RunReport) : undefined,
                items: (r as RunReport).items,
              }
            : { seed: d.job.seed, crashed: d.crashed, seconds: d.ms / 1000 },
        )}\n`,
      );
    if (d.crashed || (r && (d.job.kind === 'seed' ? failureCount(r as RunReport) : 0))) failedSoFar++;
    if (++done % 50 === 0) console.log(`… ${done}/${jobs.length} runs, ${failedSoFar} failed`);
  };
  if (workers > 1) await runInWorkers(jobs, workers, onDone);
  else {
    const aws = await startLocalAws();
    try {
      for (const job of jobs) onDone(await runJob(aws, job));
    } finally {
      await aws.stop();
    }
  }
  const seconds = (Date.now() - started) / 1000;

  // ---- aggregation, in seed order (the same for any number of workers) -------------------------------
  const totals = {
    runs: 0,
    failedRuns: 0,
    items: 0,
    commands: 0,
    lost: 0,
    duplicated: 0,
    duplicatedAfterLostRecord: 0,
    excusedItems: 0,
    coldStarts: 0,
    missingResults: 0,
    conflictingResults: 0,
    doublePosts: 0,
    sentWithoutPost: 0,
    leakedSecrets: 0,
    rateLimitViolations: 0,
    rateCallsAfterLostBlock: 0,
    refreshTokenReuse: 0,
    refreshLostToDeath: 0,
    echoes: 0,
    channelsAccountedInHealth: 0,
    sweepTicks: 0,
    sweepTicksFailed: 0,
    ledgerRepublished: 0,
    ledgerUnproven: 0,
  };
  const faults: Record<string, number> = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0]));
  const armed: Record<string, number> = {};
  const perKindPerSeed: Record<string, number[]> = Object.fromEntries(FAULT_KINDS.map((k) => [k, []]));
  const realtime = {
    runs: 0,
    failedRuns: 0,
    items: 0,
    lost: 0,
    duplicated: 0,
    unexpected: 0,
    unfilledGaps: 0,
    replayJobs: 0,
    polls: 0,
    ledgerRepublished: 0,
    ledgerUnproven: 0,
  };
  const realtimeFaults: Record<string, number> = {};
  const outages: Record<string, number> = {};
  const failures: string[] = [];
  const seedMs: number[] = [];
  const seedCpuMs: number[] = [];
  for (const job of jobs) {
    const d = results.get(key(job));
    if (!d) throw new Error(`no result for ${key(job)}`);
    if (job.kind === 'seed') {
      totals.runs++;
      seedMs.push(d.ms);
      seedCpuMs.push(d.cpuMs);
      if (d.crashed || !d.report) {
        totals.failedRuns++;
        failures.push(`seed ${job.seed}: run crashed: ${d.crashed}`);
        continue;
      }
      const r = d.report as RunReport;
      totals.items += r.items;
      totals.commands += r.commands;
      totals.lost += r.lost.length;
      totals.duplicated += r.duplicated.length;
      totals.duplicatedAfterLostRecord += r.duplicatedAfterLostRecord.length;
      totals.excusedItems += r.excused.reduce((n, e) => n + e.items, 0);
      totals.coldStarts += r.coldStarts;
      totals.missingResults += r.missingResults.length;
      totals.conflictingResults += r.conflictingResults.length;
      totals.doublePosts += r.doublePosts.length;
      totals.sentWithoutPost += r.sentWithoutPost.length;
      totals.leakedSecrets += r.leaked.length;
      totals.rateLimitViolations += r.rateViolations.length;
      totals.rateCallsAfterLostBlock += r.rateCallsAfterLostBlock.length;
      totals.refreshTokenReuse += r.refreshReuse;
      totals.refreshLostToDeath += r.refreshLostToDeath.length;
      totals.echoes += r.echoes.length;
      totals.channelsAccountedInHealth += r.accountedInHealth.length;
      totals.sweepTicks += r.sweep.ticks;
      totals.sweepTicksFailed += r.sweep.failed;
      totals.ledgerRepublished += r.sweep.republished;
      totals.ledgerUnproven += r.sweep.unproven;
      for (const [k, n] of Object.entries(r.faults)) faults[k] = (faults[k] ?? 0) + (n ?? 0);
      for (const k of FAULT_KINDS) perKindPerSeed[k].push(r.faults[k] ?? 0);
      for (const [k, n] of Object.entries(r.armed)) armed[k] = (armed[k] ?? 0) + (n ?? 0);
      const failed = failureCount(r);
      if (failed) {
        totals.failedRuns++;
        failures.push(describeFailure(r));
      }
      if (single) {
        console.log(JSON.stringify({ ...r, seconds: d.ms / 1000 }, null, 1));
      }
    } else {
      realtime.runs++;
      if (d.crashed || !d.report) {
        realtime.failedRuns++;
        failures.push(`real-time seed ${job.seed}: run crashed: ${d.crashed}`);
        continue;
      }
      const r = d.report as RealtimeRunReport;
      realtime.items += r.items;
      realtime.lost += r.lost.length;
      realtime.duplicated += r.duplicated.length;
      realtime.unexpected += r.unexpected.length;
      realtime.unfilledGaps += r.unfilled;
      realtime.replayJobs += r.replayJobs;
      realtime.polls += r.polls;
      realtime.ledgerRepublished += r.republished;
      realtime.ledgerUnproven += r.unproven;
      for (const [k, n] of Object.entries(r.faults)) realtimeFaults[k] = (realtimeFaults[k] ?? 0) + (n ?? 0);
      for (const [k, n] of Object.entries(r.outages)) outages[k] = (outages[k] ?? 0) + (n ?? 0);
      if (realtimeFailureCount(r)) {
        realtime.failedRuns++;
        failures.push(describeRealtimeFailure(r));
      }
    }
  }

  console.log(
    `\nsoak: ${totals.runs} runs in ${seconds.toFixed(1)} s (seeds ${base}..${base + seeds - 1}, ` +
      `${workers} worker${workers > 1 ? 's' : ''})`,
  );
  if (seedMs.length)
    console.log(
      `per seed: ${(median(seedMs) / 1000).toFixed(2)} s wall (median; ${(Math.min(...seedMs) / 1000).toFixed(2)}–` +
        `${(Math.max(...seedMs) / 1000).toFixed(2)}), ${(median(seedCpuMs) / 1000).toFixed(2)} s CPU of its ` +
        `process (median); ${(seconds / Math.max(1, totals.runs)).toFixed(2)} s of the whole run per seed`,
    );
  console.table(totals);
  console.log(
    'faults by kind: fired (counted when a call met them), armed, fewest and most fired in one seed',
  );
  console.table(
    Object.fromEntries(
      FAULT_KINDS.map((k) => [
        k,
        {
          fired: faults[k],
          armed: armed[k] ?? 0,
          seedMin: Math.min(...perKindPerSeed[k]),
          seedMax: Math.max(...perKindPerSeed[k]),
        },
      ]),
    ),
  );
  const short = FAULT_KINDS.filter((k) => faults[k] < minPerKind);
  if (short.length) {
    console.log(
      `fault kinds that fired fewer than ${minPerKind} times: ${short.map((k) => `${k} (${faults[k]})`).join(', ')}`,
    );
    process.exitCode = 1;
  }
  if (realtimeSeeds) {
    console.log(`\nreal-time fault runs: ${realtime.runs} (seeds ${base}..${base + realtimeSeeds - 1})`);
    console.table(realtime);
    console.log('real-time faults fired by kind');
    console.table(realtimeFaults);
    console.log('outage windows opened by reason');
    console.table(outages);
    const silent = REALTIME_FAULTS.filter((k) => !realtimeFaults[k]);
    if (silent.length) failures.push(`real-time fault kinds that never fired: ${silent.join(', ')}`);
  }
  if (failures.length) {
    console.log(`${failures.length} failing seeds (first 20):\n${failures.slice(0, 20).join('\n')}`);
    process.exitCode = 1;
  }
}

void main();
