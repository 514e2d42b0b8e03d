/**
 * Soak: many seeded randomized end-to-end runs (test/helpers/reliability-world.ts) against the local
 * stand-ins and a fresh simulated X per run, then one summary table. Every failure class must be zero.
 *
 *   npx tsx scripts/soak.ts --seeds 1000 [--base 1] [--steps 8] [--min-per-kind N]
 *
 * Faults are counted when they fire (armed ones that no call met are listed apart); every kind must
 * fire at least --min-per-kind times (default 5 % of the seeds, so 50 over 1,000), or the run fails
 * naming the kinds that fell short.
 *
 * `--realtime N` (default 10) then runs N seeded real-time fault runs (test/helpers/realtime-world.ts:
 * 10% of X's deliveries dropped, 5% duplicated, a 30-minute webhook outage, crashes after publish and
 * before the 200, a subscription lost at X), each about two simulated hours; every kind must fire.
 *
 * A failing run prints its seed; reproduce it with `XC_RELIABILITY_SEED=<seed> npx jest test/reliability`.
 * Exit code 1 when any run failed.
 */
import { startLocalAws } from '../test/helpers/local-aws';
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

async function main() {
  // the SDK's Node-20 notice is noise here (Lambda runs Node 22); set before any client is built
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const seeds = flag('seeds', 1000);
  const base = flag('base', 1);
  const steps = process.argv.includes('--steps') ? flag('steps', 8) : undefined;
  const aws = await startLocalAws();
  const started = Date.now();
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
    refreshTokenReuse: 0,
    echoes: 0,
    channelsAccountedInHealth: 0,
  };
  const faults: Record<string, number> = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0]));
  const armed: Record<string, number> = {};
  const minPerKind = process.argv.includes('--min-per-kind')
    ? flag('min-per-kind', 0)
    : Math.floor(seeds * 0.05);
  const realtimeSeeds = flag('realtime', 10);
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
  try {
    for (let i = 0; i < seeds; i++) {
      const seed = base + i;
      let r: RunReport;
      try {
        r = await runSeed(aws, { seed, steps });
      } catch (e) {
        totals.runs++;
        totals.failedRuns++;
        failures.push(`seed ${seed}: run crashed: ${(e as Error).message}`);
        console.error(failures[failures.length - 1]);
        continue;
      }
      totals.runs++;
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
      totals.refreshTokenReuse += r.refreshReuse;
      totals.echoes += r.echoes.length;
      totals.channelsAccountedInHealth += r.accountedInHealth.length;
      for (const [k, n] of Object.entries(r.faults)) faults[k] = (faults[k] ?? 0) + (n ?? 0);
      for (const [k, n] of Object.entries(r.armed)) armed[k] = (armed[k] ?? 0) + (n ?? 0);
      if (failureCount(r)) {
        totals.failedRuns++;
        failures.push(describeFailure(r));
        console.error(failures[failures.length - 1]);
      }
      if ((i + 1) % 50 === 0) console.log(`… ${i + 1}/${seeds} runs, ${totals.failedRuns} failed`);
    }
    for (let i = 0; i < realtimeSeeds; i++) {
      const seed = base + i;
      try {
        const r = await runRealtimeSeed(aws, { seed });
        realtime.runs++;
        realtime.items += r.items;
        realtime.lost += r.lost.length;
        realtime.duplicated += r.duplicated.length;
        realtime.unexpected += r.unexpected.length;
        realtime.unfilledGaps += r.unfilled;
        realtime.replayJobs += r.replayJobs;
        realtime.polls += r.polls;
        realtime.ledgerRepublished += r.republished;
        realtime.ledgerUnproven += r.unproven;
        for (const [k, n] of Object.entries(r.faults))
          realtimeFaults[k] = (realtimeFaults[k] ?? 0) + (n ?? 0);
        for (const [k, n] of Object.entries(r.outages)) outages[k] = (outages[k] ?? 0) + (n ?? 0);
        if (realtimeFailureCount(r)) {
          realtime.failedRuns++;
          failures.push(describeRealtimeFailure(r));
          console.error(failures[failures.length - 1]);
        }
      } catch (e) {
        realtime.runs++;
        realtime.failedRuns++;
        failures.push(`real-time seed ${seed}: run crashed: ${(e as Error).message}`);
        console.error(failures[failures.length - 1]);
      }
    }
  } finally {
    await aws.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`\nsoak: ${totals.runs} runs in ${seconds.toFixed(1)} s (seeds ${base}..${base + seeds - 1})`);
  console.table(totals);
  console.log('faults by kind: fired (counted when a call met them) and armed');
  console.table(Object.fromEntries(FAULT_KINDS.map((k) => [k, { fired: faults[k], armed: armed[k] ?? 0 }])));
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
    if (silent.length) {
      failures.push(`real-time fault kinds that never fired: ${silent.join(', ')}`);
      console.error(failures[failures.length - 1]);
    }
  }
  if (failures.length) {
    console.log(`${failures.length} failing seeds (first 20):\n${failures.slice(0, 20).join('\n')}`);
    process.exitCode = 1;
  }
}

void main();
