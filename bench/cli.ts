/**
 * `npm run bench [-- --quick] [-- --only inbound,latency] [-- --runs 3] [-- --x-latency 150,600]`:
 * runs the performance harness (each scenario `--runs` times, every figure their median), prints the
 * table on stdout (progress goes to stderr) and writes `bench/results/latest.json` (and the latency
 * plot `bench/results/latency.svg`). `--out <file>` writes the JSON elsewhere and every other file the
 * bench writes (the plot) into that file's directory, so nothing under bench/results/ changes;
 * `--json` prints it too.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatTable } from './report';
import { DEFAULT_RUNS, DEFAULT_X_LATENCY, runBench, SCENARIOS, type ScenarioName } from './run';
import type { XLatency } from './types';

const USAGE = `usage: npm run bench -- [--quick] [--only ${SCENARIOS.join(',')}] [--runs <n>] [--x-latency <p50>,<p99>] [--out <file>] [--json]
  --quick   smaller sizes, under a minute per run
  --only    comma-separated scenarios to run (the others are reported as not run)
  --runs    runs per scenario, default ${DEFAULT_RUNS}; every figure is their median (min and max beside it)
  --x-latency  the simulated X's latency profile in ms, median and 99th percentile
            (default ${DEFAULT_X_LATENCY.p50Ms},${DEFAULT_X_LATENCY.p99Ms}; 0 = an instant X, not a realistic figure)
  --out     where to write the results JSON (default bench/results/latest.json); the latency plot
            goes to latency.svg in the same directory
  --json    also print the JSON on stdout`;

/** Parsed command line. */
export interface CliOptions {
  quick: boolean;
  only?: ScenarioName[];
  out: string;
  json: boolean;
  runs: number;
  xLatency: XLatency;
}

/** Parses argv; throws an Error naming the bad flag or value. */
export function parseArgs(argv: string[], resultsDir: string): CliOptions {
  const opts: CliOptions = {
    quick: false,
    out: path.join(resultsDir, 'latest.json'),
    json: false,
    runs: DEFAULT_RUNS,
    xLatency: DEFAULT_X_LATENCY,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick':
        opts.quick = true;
        break;
      case '--json':
        opts.json = true;
        break;
      case '--out':
        opts.out = path.resolve(value());
        break;
      case '--runs': {
        const v = value();
        const n = Number(v);
        if (!/^[0-9]+$/.test(v) || n < 1 || n > 20) throw new Error(`--runs: expected 1–20, got ${v}`);
        opts.runs = n;
        break;
      }
      case '--x-latency': {
        const v = value();
        const parts = v === '0' ? [0, 0] : v.split(',').map((x) => Number(x.trim()));
        if (parts.length !== 2 || parts.some((x) => !Number.isFinite(x) || x < 0) || parts[1] < parts[0])
          throw new Error(`--x-latency: expected <p50 ms>,<p99 ms> with p99 ≥ p50 (or 0), got ${v}`);
        opts.xLatency = { p50Ms: parts[0], p99Ms: parts[1] };
        break;
      }
      case '--only': {
        const names = value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const unknown = names.filter((n) => !(SCENARIOS as readonly string[]).includes(n));
        if (unknown.length)
          throw new Error(`--only: unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.join(', ')})`);
        opts.only = names as ScenarioName[];
        break;
      }
      case '--help':
      case '-h':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  return opts;
}

async function main() {
  // the SDK's Node-20 notice is noise here (Lambda runs Node 22); set before any client is built
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const resultsDir = path.join(__dirname, 'results');
  let opts: CliOptions;
  try {
    opts = parseArgs(process.argv.slice(2), resultsDir);
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 2;
    return;
  }
  // Every file the bench writes goes beside the JSON: with --out, bench/results/ is left untouched.
  const results = await runBench({
    quick: opts.quick,
    only: opts.only,
    runs: opts.runs,
    xLatency: opts.xLatency,
    resultsDir: path.dirname(opts.out),
  });
  mkdirSync(path.dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(formatTable(results));
  console.log(`\nresults: ${path.relative(process.cwd(), opts.out)}`);
  if (opts.json) console.log(JSON.stringify(results, null, 2));
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
