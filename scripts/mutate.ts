/**
 * Mutation proof (issue 17): applies each known-bad change below to a scratch copy of the repository
 * (never to this checkout) and runs the suites that must catch it; prints which test files and which
 * randomized seeds failed for each. A mutation every suite passes is SURVIVED and the script exits 1.
 * Not part of `npm test`: it runs the randomized suite once per mutation (minutes each).
 *
 *   npm run mutate [-- --only <id>[,<id>…]] [--keep]
 *
 * A mutation whose `find` text is no longer in its file fails loudly (the code moved: update the list).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

interface Mutation {
  id: string;
  /** What the mutation breaks, in words. */
  what: string;
  file: string;
  find: string;
  replace: string;
  /** Test paths (jest patterns) that must catch it; the randomized suite always runs too. */
  tests: string[];
}

const RANDOMIZED = 'test/reliability/randomized.test.ts';

export const MUTATIONS: Mutation[] = [
  {
    id: 'publish-skipped',
    what: 'the poller never publishes what it read (and still moves its checkpoint)',
    file: 'core/inbound/poll.ts',
    find: 'await this.deps.publisher.publish(this.pending);',
    replace: 'void this.pending; // mutated: publish skipped',
    tests: ['test/unit/inbound'],
  },
  {
    id: 'checkpoint-before-publish',
    what: 'the checkpoint moves even when the publish failed (as if written before the publish)',
    file: 'core/inbound/poll.ts',
    find: '        checkpoints = this.claimedCheckpoints;\n        this.delivered.mentions = 0;',
    replace: '        this.delivered.mentions = 0;',
    tests: ['test/unit/inbound', 'test/property/checkpoint-order.test.ts'],
  },
  {
    id: '5xx-as-reauth',
    what: 'an X 5xx is classified needs_reauth instead of retryable',
    file: 'adapters/x/errors.ts',
    find: "if (status >= 500) return retryable('x_unavailable', `X answered ${status}`, undefined, error);",
    replace: 'if (status >= 500) return needsReauth(`X answered ${status}`, error);',
    tests: [],
  },
  {
    id: '429-as-permanent',
    what: 'every X 429 becomes a permanent access error',
    file: 'adapters/x/errors.ts',
    find: "return retryable('rate_limited', 'X rate limit reached', resetAt ?? new Date(Date.now() + 60_000), error);",
    replace: "return permanent('access_level', 'X rate limit reached', error);",
    tests: [],
  },
  {
    id: 'ledger-record-skipped',
    what: 'the delivered ledger is never written after a publish (dedup record skipped)',
    file: 'core/inbound/delivered.ts',
    find: 'await recordQuietly(fresh.map(held));',
    replace: 'void held; // mutated: ledger record skipped',
    tests: ['test/unit/inbound', 'test/contract/delivered-ledger.test.ts'],
  },
  {
    id: 'ledger-read-skipped',
    what: 'the delivered ledger is never consulted before a publish',
    file: 'core/inbound/delivered.ts',
    find: 'const delivered = await ledger.findDelivered([...unique.values()].map(keyOf));',
    replace: 'const delivered = new Set<string>(); // mutated: ledger read skipped',
    tests: ['test/unit/inbound', 'test/contract/delivered-ledger.test.ts'],
  },
  {
    id: '429-block-not-stored',
    what: 'a 429 window is kept in memory only (lost with the process)',
    file: 'core/inbound/poll.ts',
    find: 'await this.deps.state.blockEndpoint(this.channel.id, endpoint, this.notBefore[endpoint]);',
    replace: 'void 0; // mutated: 429 block not stored',
    tests: ['test/unit/inbound', 'test/integration/inbound/rate-block.test.ts'],
  },
  {
    id: 'redaction-off',
    what: 'the logger masks nothing',
    file: 'lambdas/shared/logger.ts',
    find: 'jsonReplacerFn: redactSecrets,',
    replace: 'jsonReplacerFn: (_key: string, value: unknown) => value,',
    tests: ['test/unit/shared/logger.test.ts'],
  },
];

interface Outcome {
  id: string;
  killed: boolean;
  failedFiles: string[];
  failedSeeds: string[];
  seconds: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** A scratch copy of the working tree (tracked and new files), sharing this checkout's node_modules. */
function scratchCopy(root: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xc-mutate-'));
  const list = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (list.status !== 0) throw new Error(`git ls-files failed: ${list.stderr}`);
  for (const file of list.stdout.split('\0').filter(Boolean)) {
    const from = path.join(root, file);
    const to = path.join(dir, file);
    mkdirSync(path.dirname(to), { recursive: true });
    try {
      cpSync(from, to);
    } catch {
      // deleted in the working tree but still in the index: skip it
    }
  }
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

function runJest(
  dir: string,
  tests: string[],
): { failedFiles: string[]; failedSeeds: string[]; ok: boolean } {
  const out = path.join(dir, '.mutate-result.json');
  const res = spawnSync(
    process.execPath,
    [
      path.join(dir, 'node_modules/jest/bin/jest.js'),
      '--json',
      `--outputFile=${out}`,
      '--runInBand',
      ...tests,
    ],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: 'true' }, maxBuffer: 256 * 1024 * 1024 },
  );
  let json: any;
  try {
    json = JSON.parse(readFileSync(out, 'utf8'));
  } catch {
    throw new Error(`jest wrote no result (exit ${res.status}): ${res.stderr.slice(-2000)}`);
  }
  const failedFiles: string[] = [];
  const failedSeeds: string[] = [];
  for (const file of json.testResults ?? []) {
    if (file.status !== 'passed') failedFiles.push(path.relative(dir, file.name));
    for (const a of file.assertionResults ?? [])
      if (a.status === 'failed' && /^seed \d+$/.test(a.title)) failedSeeds.push(a.title.slice(5));
  }
  return { failedFiles, failedSeeds, ok: res.status === 0 };
}

function main() {
  const root = path.resolve(__dirname, '..');
  const only = arg('only')?.split(',');
  const chosen = only ? MUTATIONS.filter((m) => only.includes(m.id)) : MUTATIONS;
  if (only && chosen.length !== only.length)
    throw new Error(`--only names unknown mutations; known: ${MUTATIONS.map((m) => m.id).join(', ')}`);
  const dir = scratchCopy(root);
  console.log(`scratch copy: ${dir}`);
  const outcomes: Outcome[] = [];
  try {
    for (const m of chosen) {
      const file = path.join(dir, m.file);
      const original = readFileSync(file, 'utf8');
      const hits = original.split(m.find).length - 1;
      if (hits !== 1) throw new Error(`mutation ${m.id}: expected the text once in ${m.file}, found ${hits}`);
      writeFileSync(file, original.replace(m.find, m.replace));
      const started = Date.now();
      try {
        const r = runJest(dir, [RANDOMIZED, ...m.tests]);
        const o: Outcome = {
          id: m.id,
          killed: !r.ok,
          failedFiles: r.failedFiles,
          failedSeeds: r.failedSeeds,
          seconds: Math.round((Date.now() - started) / 1000),
        };
        outcomes.push(o);
        console.log(
          `${m.id}: ${o.killed ? 'KILLED' : 'SURVIVED'} in ${o.seconds} s` +
            (o.failedFiles.length ? ` by ${o.failedFiles.join(', ')}` : '') +
            (o.failedSeeds.length ? ` (seeds ${o.failedSeeds.join(', ')})` : ''),
        );
      } finally {
        writeFileSync(file, original);
      }
    }
  } finally {
    if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
  const killed = outcomes.filter((o) => o.killed).length;
  console.log(`\n${killed} of ${outcomes.length} mutations killed\n`);
  console.log('| mutation | what it breaks | killed | by (test files; randomized seeds) |');
  console.log('| --- | --- | --- | --- |');
  for (const o of outcomes) {
    const m = MUTATIONS.find((x) => x.id === o.id) as Mutation;
    const by = [
      ...o.failedFiles.filter((f) => f !== RANDOMIZED),
      ...(o.failedSeeds.length
        ? [`randomized: ${o.failedSeeds.length} of 20 seeds`]
        : o.failedFiles.includes(RANDOMIZED)
          ? ['randomized: fault coverage']
          : []),
    ];
    console.log(`| \`${o.id}\` | ${m.what} | ${o.killed ? 'yes' : '**no**'} | ${by.join('; ') || '—'} |`);
  }
  if (killed < outcomes.length) process.exitCode = 1;
}

main();
