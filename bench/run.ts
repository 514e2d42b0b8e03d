/**
 * `runBench`: runs the selected scenarios `runs` times (default 3) against one DynamoDB Local and
 * returns the results object that `bench/results/latest.json` holds. The runs are interleaved (run 1
 * of every scenario, then run 2, …) so a burst of load on the shared machine does not land on one
 * scenario's every run. Every figure is the median of its runs, with min, max and count in `spread`
 * (bench/aggregate.ts); `bench` says how many runs, the X latency profile applied and the machine's
 * load average. Every scenario is isolated (own rig, own table); one that fails, or whose pieces are
 * not in this checkout, reports `null` figures with a `missing` reason instead of a number.
 */
import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startDynamoDbLocal } from '../stand-ins/dynamodb-local';
import { aggregateSection, type Spread } from './aggregate';
import { costSection, METER_FIGURES } from './cost-model';
import type { ArtifactSink, ScenarioContext, XLatency } from './types';

/** The default X latency profile: X's API answers in ~150 ms at the median with a long tail. */
export const DEFAULT_X_LATENCY: XLatency = { p50Ms: 150, p99Ms: 600 };
/** Runs per figure unless told otherwise (DESIGN.md: the median of ≥ 3 runs). */
export const DEFAULT_RUNS = 3;

/** Scenario names, in run order (`--only` takes these). */
export const SCENARIOS = [
  'bundles',
  'standIns',
  'dispatcher',
  'inbound',
  'latency',
  'realtime',
  'outbound',
  'x',
  'aws',
  'adminApi',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface RunOptions {
  quick?: boolean;
  /** Smallest sizes (smoke test); implies quick. */
  tiny?: boolean;
  only?: readonly ScenarioName[];
  /** Reuse a running DynamoDB Local (the test run's) instead of starting one. */
  dynamodbEndpoint?: string;
  /** Directory for artifacts such as `latency.svg` (absent: none are written). */
  resultsDir?: string;
  /** Progress sink (default: stderr line). */
  progress?: (message: string) => void;
  /** Runs per scenario (default 3); each figure is their median. */
  runs?: number;
  /** The simulated X's latency profile (default {@link DEFAULT_X_LATENCY}; p50 0 = instant). */
  xLatency?: XLatency;
}

/** The results document. Sections hold numbers, or null with `missing` saying why. */
export interface BenchResults {
  schema: 'x-channel.bench.v1';
  generatedAt: string;
  mode: 'full' | 'quick' | 'tiny';
  scenarios: ScenarioName[];
  durationSeconds: number;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; platform: string };
  /** How the figures were taken: run count, X latency profile and plan, the machine's load. */
  bench: {
    runs: number;
    xLatencyP50Ms: number;
    xLatencyP99Ms: number;
    xTier: 'pay-per-use';
    /** `os.loadavg()` (1, 5, 15 min) when the bench started and when it ended. */
    loadAverage: { start: number[]; end: number[] };
  };
  /** Min, max and count of every figure's runs, by dotted key (e.g. `inbound.messagesPerSecond`). */
  spread: Record<string, Spread>;
  /** Wall seconds of each scenario's runs, in run order (not a figure; kept out of the sections). */
  scenarioSeconds: Record<string, number[]>;
  [section: string]: unknown;
}

type Runner = (ctx: ScenarioContext) => Promise<object>;

/** Each scenario is imported only when it runs: a scenario whose pieces are absent fails alone. */
const RUNNERS: Record<ScenarioName, () => Promise<Runner>> = {
  bundles: async () => (await import('./scenarios/bundles')).benchBundles,
  standIns: async () => (await import('./scenarios/stand-ins-and-sim')).benchServers,
  dispatcher: async () => (await import('./scenarios/dispatcher')).benchDispatcher,
  inbound: async () => (await import('./scenarios/inbound')).benchInbound,
  latency: async () => (await import('./scenarios/latency')).benchLatency,
  realtime: async () => (await import('./scenarios/realtime')).benchRealtime,
  outbound: async () => (await import('./scenarios/outbound')).benchOutbound,
  x: async () => (await import('./scenarios/x-efficiency')).benchXEfficiency,
  aws: async () => (await import('./scenarios/aws-cost')).benchAwsCost,
  adminApi: async () => (await import('./scenarios/admin-api')).benchAdminApi,
};

/** The null-figure shape of a section that did not run, per scenario (headline keys first). */
export const EMPTY_SECTIONS: Record<ScenarioName, Record<string, unknown>> = {
  bundles: {},
  standIns: {
    sqs: { unbatchedMessagesPerSecond: null, batchedMessagesPerSecond: null },
    dynamodb: { conditionalPutsPerSecond: null },
    simX: { mentionReadsPerSecond: null },
  },
  dispatcher: { channels10kMs: null },
  inbound: {
    messagesPerSecond: null,
    ceilingMessagesPerSecond: null,
    cpuMsPerMessage: null,
    capacityChannelsPerMinute: null,
  },
  latency: { processingP99Ms: null },
  realtime: { endToEndP99Ms: null, ackP99Ms: null },
  outbound: { commandsPerSecond: null },
  x: { callsPerIdlePoll: null, readsPerDelivered: null, steadyState429s: null },
  aws: { usdPerMillionInbound: null },
  adminApi: {
    getChannelsRps: null,
    getChannelsP99Ms: null,
    patchRps: null,
    patchP99Ms: null,
    errors5xx: null,
  },
};

/** Section key in the results for a scenario. */
const SECTION: Record<ScenarioName, string> = {
  bundles: 'bundles',
  standIns: 'standIns',
  dispatcher: 'dispatcher',
  inbound: 'inbound',
  latency: 'latency',
  realtime: 'realtime',
  outbound: 'outbound',
  x: 'x',
  aws: 'aws',
  adminApi: 'adminApi',
};

export async function runBench(options: RunOptions = {}): Promise<BenchResults> {
  const tiny = options.tiny ?? false;
  const quick = tiny || (options.quick ?? false);
  const runs = options.runs ?? DEFAULT_RUNS;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a whole number ≥ 1 (got ${runs})`);
  const xLatency = options.xLatency ?? DEFAULT_X_LATENCY;
  const round2 = (xs: number[]) => xs.map((x) => Math.round(x * 100) / 100);
  const selected = SCENARIOS.filter((s) => !options.only || options.only.includes(s));
  const progress = options.progress ?? ((m: string) => process.stderr.write(`\r\x1b[2K[bench] ${m}`));
  const started = performance.now();
  const cpus = os.cpus();
  const results: BenchResults = {
    schema: 'x-channel.bench.v1',
    generatedAt: new Date().toISOString(),
    mode: tiny ? 'tiny' : quick ? 'quick' : 'full',
    scenarios: selected,
    durationSeconds: 0,
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    bench: {
      runs,
      xLatencyP50Ms: xLatency.p50Ms,
      xLatencyP99Ms: xLatency.p99Ms,
      xTier: 'pay-per-use',
      loadAverage: { start: round2(os.loadavg()), end: [] },
    },
    spread: {},
    scenarioSeconds: {},
  };
  for (const name of SCENARIOS) {
    if (!selected.includes(name))
      results[SECTION[name]] = { ...EMPTY_SECTIONS[name], missing: 'not run (not selected with --only)' };
  }
  const artifacts: ArtifactSink = {
    write(name, content) {
      if (!options.resultsDir) return undefined;
      mkdirSync(options.resultsDir, { recursive: true });
      writeFileSync(path.join(options.resultsDir, name), content);
      return path
        .relative(path.resolve(__dirname, '..'), path.join(options.resultsDir, name))
        .split(path.sep)
        .join('/');
    },
  };
  const needsDynamo = selected.some((s) => s !== 'bundles' && s !== 'standIns');
  const dynamo = needsDynamo && !options.dynamodbEndpoint ? await startDynamoDbLocal({ port: 0 }) : undefined;
  const dynamodbEndpoint = options.dynamodbEndpoint ?? dynamo?.endpoint ?? '';
  const done: Record<string, Record<string, unknown>[]> = {};
  const failures: Record<string, string> = {};
  try {
    for (let run = 1; run <= runs; run++) {
      for (const name of selected) {
        const t0 = performance.now();
        const tag = runs > 1 ? `[run ${run}/${runs}] ` : '';
        progress(`${tag}${name}: starting`);
        const ctx: ScenarioContext = {
          quick,
          tiny,
          dynamodbEndpoint,
          progress: (m) => progress(`${tag}${m}`),
          artifacts,
          xLatency,
        };
        try {
          const runner = await RUNNERS[name]();
          (done[name] ??= []).push((await runner(ctx)) as Record<string, unknown>);
        } catch (e) {
          const reason = `${(e as Error)?.name ?? 'Error'}: ${String((e as Error)?.message ?? e).split('\n')[0]}`;
          failures[name] = `scenario failed (run ${run}): ${reason}`;
        }
        (results.scenarioSeconds[name] ??= []).push(Math.round((performance.now() - t0) / 100) / 10);
      }
    }
  } finally {
    await dynamo?.stop();
    progress('done\n');
  }
  for (const name of selected) {
    const ok = done[name] ?? [];
    if (!ok.length) {
      results[SECTION[name]] = { ...EMPTY_SECTIONS[name], missing: failures[name] ?? 'no run finished' };
      continue;
    }
    const { section, spread } = aggregateSection(ok, SECTION[name]);
    // a run that failed is out of the medians; say so beside them
    results[SECTION[name]] = failures[name]
      ? { ...section, failedRuns: runs - ok.length, lastFailure: failures[name] }
      : section;
    Object.assign(results.spread, spread);
  }
  results.bench.loadAverage.end = round2(os.loadavg());
  // the whole-cost model (bench/cost-model.ts) prices what the scenarios measured, medians in
  results.cost = costSection(results);
  for (const k of METER_FIGURES) {
    const spread = results.spread[`aws.${k}`];
    if (spread) results.spread[`cost.${k}`] = spread;
  }
  results.durationSeconds = Math.round((performance.now() - started) / 100) / 10;
  return results;
}
