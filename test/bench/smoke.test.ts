/**
 * The bench harness in its tiny mode, two runs, in process: checks the results document's shape —
 * every headline key present, each figure a number or null with a `missing` reason, each figure the
 * median of the runs with their spread beside it — never a speed.
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
  'inbound.cpuMsPerMessage',
  'realtime.endToEndP99Ms',
  'realtime.ackP99Ms',
  'cost.idleChannelUsdPerMonth',
  'bench.runs',
  'bench.xLatencyP50Ms',
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
      runs: 2,
      xLatency: { p50Ms: 5, p99Ms: 20 },
      dynamodbEndpoint: process.env.XC_TEST_DYNAMODB_ENDPOINT,
      progress: () => undefined,
    });
  }, 240_000);

  it('has every headline key, each a number or null with a reason', () => {
    expect(results.schema).toBe('x-channel.bench.v1');
    expect(results.mode).toBe('tiny');
    for (const key of HEADLINE) expectFigure(results, key);
  });

  it('says how it measured: runs, the X latency profile, the load; each figure with its spread', () => {
    expect(results.bench).toMatchObject({
      runs: 2,
      xLatencyP50Ms: 5,
      xLatencyP99Ms: 20,
      xTier: 'pay-per-use',
    });
    expect(results.bench.loadAverage.start).toHaveLength(3);
    expect(results.bench.loadAverage.end).toHaveLength(3);
    const spread = results.spread['inbound.messagesPerSecond'];
    expect(spread.n).toBe(2);
    expect(spread.min).toBeLessThanOrEqual(get(results, 'inbound.messagesPerSecond') as number);
    expect(spread.max).toBeGreaterThanOrEqual(get(results, 'inbound.messagesPerSecond') as number);
    expect(results.scenarioSeconds.inbound).toHaveLength(2);
    // timings are not figures: no section carries a `seconds` key among its figures
    expect(get(results, 'inbound.seconds')).toBeUndefined();
    expect(get(results, 'dispatcher.seconds')).toBeUndefined();
  });

  it('counts the handlers’ CPU and the capacity of a tick', () => {
    expect(get(results, 'inbound.cpuMsPerMessage')).toBeGreaterThan(0);
    expect(get(results, 'inbound.capacityChannelsPerMinute')).toBeGreaterThan(0);
    expect(get(results, 'inbound.concurrencyFor1000Channels')).toBeGreaterThanOrEqual(1);
    expect(get(results, 'cost.missing')).toMatch(/aws scenario/);
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
    // the median of two runs may fall between them (x.5)
    expect(table).toMatch(/inbound\.messagesPerSecond\s+[\d.]+\s+\d+–\d+ \(2\)\s+msg\/s/);
    expect(table).toMatch(/2 runs, X p50 5 ms/);
    expect(table).toMatch(/latency\.processingP99Ms\s+null\s+ms\s+< 250/);
  });

  it('rejects an unknown scenario or flag by name', () => {
    expect(() => parseArgs(['--only', 'inbound,warp'], '/tmp')).toThrow(/unknown scenario warp/);
    expect(() => parseArgs(['--fast'], '/tmp')).toThrow(/unknown option --fast/);
    expect(parseArgs(['--quick', '--only=inbound'], '/tmp')).toMatchObject({
      quick: true,
      only: ['inbound'],
      runs: 3,
      xLatency: { p50Ms: 150, p99Ms: 600 },
    });
    expect(parseArgs(['--runs', '5', '--x-latency', '200,900'], '/tmp')).toMatchObject({
      runs: 5,
      xLatency: { p50Ms: 200, p99Ms: 900 },
    });
    expect(() => parseArgs(['--runs', '0'], '/tmp')).toThrow(/--runs/);
    expect(() => parseArgs(['--x-latency', '300,100'], '/tmp')).toThrow(/--x-latency/);
  });
});
