/**
 * The bench harness in its tiny mode, in process: checks only the results document's shape — every
 * headline key present, each figure a number or null with a `missing` reason — never a speed.
 */
import { formatTable } from '../../bench/report';
import { runBench, SCENARIOS, type BenchResults } from '../../bench/run';
import { parseArgs } from '../../bench/cli';

const HEADLINE = [
  'inbound.messagesPerSecond',
  'inbound.ceilingMessagesPerSecond',
  'latency.processingP99Ms',
  'dispatcher.channels10kMs',
  'outbound.commandsPerSecond',
  'x.callsPerIdlePoll',
  'x.readsPerDelivered',
  'x.steadyState429s',
  'aws.usdPerMillionInbound',
];

const get = (obj: unknown, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      obj,
    );

/** A figure is a finite number, or null with a reason in its section's `missing`. */
function expectFigure(results: BenchResults, path: string) {
  const value = get(results, path);
  expect({ path, present: value !== undefined }).toEqual({ path, present: true });
  if (value === null) {
    const reason = get(results, `${path.split('.')[0]}.missing`);
    expect({ path, reason }).toEqual({ path, reason: expect.stringMatching(/\S/) });
  } else {
    expect({ path, finite: Number.isFinite(value) }).toEqual({ path, finite: true });
  }
}

describe('npm run bench (tiny, in process)', () => {
  let results: BenchResults;

  beforeAll(async () => {
    results = await runBench({
      tiny: true,
      only: ['dispatcher', 'inbound'],
      dynamodbEndpoint: process.env.XC_TEST_DYNAMODB_ENDPOINT,
      progress: () => undefined,
    });
  }, 120_000);

  it('has every headline key, each a number or null with a reason', () => {
    expect(results.schema).toBe('x-channel.bench.v1');
    expect(results.mode).toBe('tiny');
    for (const key of HEADLINE) expectFigure(results, key);
  });

  it('reports the scenarios it ran with numbers and the others as not run', () => {
    expect(typeof get(results, 'inbound.messagesPerSecond')).toBe('number');
    expect(get(results, 'inbound.runs')).toEqual(
      expect.arrayContaining([expect.objectContaining({ channels: 1, duplicates: 0 })]),
    );
    expect(typeof get(results, 'dispatcher.tickMs')).toBe('number');
    expect(get(results, 'latency.missing')).toMatch(/not run/);
    for (const name of SCENARIOS) expect(results).toHaveProperty(name);
  });

  it('prints a table with units and PASS/MISS beside the targets', () => {
    const table = formatTable(results);
    expect(table).toMatch(/inbound\.messagesPerSecond\s+\d+\s+msg\/s/);
    expect(table).toMatch(/latency\.processingP99Ms\s+null\s+ms\s+< 250/);
  });

  it('rejects an unknown scenario or flag by name', () => {
    expect(() => parseArgs(['--only', 'inbound,warp'], '/tmp')).toThrow(/unknown scenario warp/);
    expect(() => parseArgs(['--fast'], '/tmp')).toThrow(/unknown option --fast/);
    expect(parseArgs(['--quick', '--only=inbound'], '/tmp')).toMatchObject({
      quick: true,
      only: ['inbound'],
    });
  });
});
