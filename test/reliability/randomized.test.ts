/**
 * Seeded randomized end-to-end runs (DESIGN.md "Rules that make it correct"): real handlers, real AWS
 * SDK clients against the stand-ins, twitter-api-v2 against the simulated X, and a random fault schedule
 * per seed (see ../helpers/reliability-world.ts). Each failing run prints its seed; rerun one with
 * `XC_RELIABILITY_SEED=<seed> npx jest test/reliability/randomized.test.ts`.
 */
import { startLocalAws, type LocalAws } from '../helpers/local-aws';
import {
  describeFailure,
  failureCount,
  FAULT_KINDS,
  FAULT_MINIMUMS,
  MEDIA_CASES,
  runSeed,
  type RunReport,
} from '../helpers/reliability-world';

const BASE_SEED = Number(process.env.XC_RELIABILITY_BASE_SEED ?? 20260901);
const SEEDS = process.env.XC_RELIABILITY_SEED
  ? [Number(process.env.XC_RELIABILITY_SEED)]
  : Array.from({ length: 20 }, (_, i) => BASE_SEED + i);

let aws: LocalAws;
const reports: RunReport[] = [];

beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.stop();
});

describe('randomized runs under faults: nothing lost, nothing doubled, no token leaked', () => {
  it.each(SEEDS)(
    'seed %i',
    async (seed) => {
      const report = await runSeed(aws, { seed });
      reports.push(report);
      if (failureCount(report)) console.error(describeFailure(report));
      // Prepared work happened (a run without items proves nothing).
      expect(report.items).toBeGreaterThan(0);
      expect({
        seed,
        lost: report.lost,
        duplicated: report.duplicated,
        missingResults: report.missingResults,
        conflictingResults: report.conflictingResults,
        doublePosts: report.doublePosts,
        sentWithoutPost: report.sentWithoutPost,
        leaked: report.leaked,
        rateViolations: report.rateViolations,
        refreshReuse: report.refreshReuse,
        echoes: report.echoes,
        mediaMismatches: report.mediaMismatches,
      }).toEqual({
        seed,
        lost: [],
        duplicated: [],
        missingResults: [],
        conflictingResults: [],
        doublePosts: [],
        sentWithoutPost: [],
        leaked: [],
        rateViolations: [],
        refreshReuse: 0,
        echoes: [],
        mediaMismatches: [],
      });
      // a seed takes 2–5 s on an idle machine; on 2 shared cores under load 15, up to 45 s
    },
    120_000,
  );

  it('the seeds together fired every fault kind at least its minimum number of times', () => {
    if (SEEDS.length < 20) return expect(reports.length).toBe(SEEDS.length);
    const fired = Object.fromEntries(
      FAULT_KINDS.map((k) => [k, reports.reduce((n, r) => n + (r.faults[k] ?? 0), 0)]),
    );
    const armed = Object.fromEntries(
      FAULT_KINDS.map((k) => [k, reports.reduce((n, r) => n + (r.armed[k] ?? 0), 0)]),
    );
    console.log(`faults fired over ${reports.length} seeds: ${JSON.stringify(fired)}`);
    console.log(`faults armed over ${reports.length} seeds: ${JSON.stringify(armed)}`);
    const short = FAULT_KINDS.filter((k) => fired[k] < FAULT_MINIMUMS[k]).map(
      (k) => `${k}: fired ${fired[k]}, needs ${FAULT_MINIMUMS[k]}`,
    );
    expect(short).toEqual([]);
  });

  it('the seeds together sent commands of every media case (valid, too large, wrong type, missing, not allowed)', () => {
    if (SEEDS.length < 20) return expect(reports.length).toBe(SEEDS.length);
    const cases = Object.keys(MEDIA_CASES) as Array<keyof typeof MEDIA_CASES>;
    const sent = Object.fromEntries(
      cases.map((c) => [c, reports.reduce((n, r) => n + (r.mediaCommands[c] ?? 0), 0)]),
    );
    console.log(`media commands over ${reports.length} seeds: ${JSON.stringify(sent)}`);
    expect(cases.filter((c) => !sent[c])).toEqual([]);
  });
});
