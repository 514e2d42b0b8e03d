/**
 * `runBench`: runs the selected scenarios against one DynamoDB Local and returns the results object
 * that `bench/results/latest.json` holds. Every scenario is isolated (own rig, own table); one that
 * fails, or whose pieces are not in this checkout, reports `null` figures with a `missing` reason
 * instead of a number.
 */
import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startDynamoDbLocal } from '../stand-ins/dynamodb-local';
import type { ArtifactSink, ScenarioContext } from './types';

/** Scenario names, in run order (`--only` takes these). */
export const SCENARIOS = [
  'bundles',
  'standIns',
  'dispatcher',
  'inbound',
  'latency',
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
}

/** The results document. Sections hold numbers, or null with `missing` saying why. */
export interface BenchResults {
  schema: 'x-channel.bench.v1';
  generatedAt: string;
  mode: 'full' | 'quick' | 'tiny';
  scenarios: ScenarioName[];
  durationSeconds: number;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; platform: string };
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
  inbound: { messagesPerSecond: null, ceilingMessagesPerSecond: null },
  latency: { processingP99Ms: null },
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
  outbound: 'outbound',
  x: 'x',
  aws: 'aws',
  adminApi: 'adminApi',
};

export async function runBench(options: RunOptions = {}): Promise<BenchResults> {
  const tiny = options.tiny ?? false;
  const quick = tiny || (options.quick ?? false);
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
  try {
    for (const name of selected) {
      const t0 = performance.now();
      progress(`${name}: starting`);
      const ctx: ScenarioContext = {
        quick,
        tiny,
        dynamodbEndpoint,
        progress: (m) => progress(m),
        artifacts,
      };
      try {
        const runner = await RUNNERS[name]();
        const section = await runner(ctx);
        results[SECTION[name]] = {
          ...(section as Record<string, unknown>),
          seconds: Math.round((performance.now() - t0) / 100) / 10,
        };
      } catch (e) {
        const reason = `${(e as Error)?.name ?? 'Error'}: ${String((e as Error)?.message ?? e).split('\n')[0]}`;
        results[SECTION[name]] = { ...EMPTY_SECTIONS[name], missing: `scenario failed: ${reason}` };
      }
    }
  } finally {
    await dynamo?.stop();
    progress('done\n');
  }
  results.durationSeconds = Math.round((performance.now() - started) / 100) / 10;
  return results;
}
