/**
 * The bench table (every figure with its unit, the min–max of its runs beside the median; efficiency
 * figures with their limit or target and PASS/MISS, judged on the median) and the latency plot (a
 * hand-made SVG, no plotting dependency). Sizes are in bytes; KB = 1,000 bytes.
 */
import type { BenchResults } from './run';

/** One table row. */
export interface Row {
  key: string;
  /** The median of the runs. */
  value: number | null;
  /** Smallest and largest run, and how many runs gave a number (absent for a single run). */
  min?: number;
  max?: number;
  runs?: number;
  unit: string;
  /** e.g. `≥ 1000`, `< 250`, `= 1.00`, `≤ 2`. */
  target?: string;
  pass?: boolean;
  note?: string;
}

type Check = { op: '>=' | '<' | '<=' | '='; limit: number; label: string };
const ge = (limit: number, label = `≥ ${limit}`): Check => ({ op: '>=', limit, label });
const lt = (limit: number, label = `< ${limit}`): Check => ({ op: '<', limit, label });
const le = (limit: number, label = `≤ ${limit}`): Check => ({ op: '<=', limit, label });
const eq = (limit: number, label = `= ${limit.toFixed(2)}`): Check => ({ op: '=', limit, label });

function judge(value: number | null, check?: Check): boolean | undefined {
  if (!check || value === null) return undefined;
  switch (check.op) {
    case '>=':
      return value >= check.limit;
    case '<':
      return value < check.limit;
    case '<=':
      return value <= check.limit;
    case '=':
      return Math.abs(value - check.limit) < 0.005;
  }
}

/** Reads `a.b.c` from the results. */
export function pick(results: unknown, path: string): unknown {
  let cur: unknown = results;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The table's rows, in reading order. */
export function rows(results: BenchResults): Row[] {
  const out: Row[] = [];
  const add = (key: string, unit: string, check?: Check, note?: string) => {
    const value = num(pick(results, key));
    const parts = key.split('.');
    // the nearest `missing` reason: the figure's own object (bundles.<fn>.missing) or its section's
    const missing =
      value === null
        ? ((pick(results, `${parts.slice(0, -1).join('.')}.missing`) ??
            pick(results, `${parts[0]}.missing`)) as string | undefined)
        : undefined;
    const spread = (results.spread ?? {})[key];
    out.push({
      key,
      value,
      ...(value !== null && spread ? { min: spread.min, max: spread.max, runs: spread.n } : {}),
      unit,
      ...(check ? { target: check.label, pass: judge(value, check) } : {}),
      ...(note || missing ? { note: note ?? missing } : {}),
    });
  };
  const ch = num(pick(results, 'inbound.headlineChannels'));
  add('bench.runs', 'runs', ge(3), 'every figure below: median of these runs, min–max beside it');
  add(
    'bench.xLatencyP50Ms',
    'ms',
    ge(100),
    `simulated X latency p50 (p99 ${num(pick(results, 'bench.xLatencyP99Ms')) ?? '?'} ms), pay-per-use windows`,
  );
  add('inbound.messagesPerSecond', 'msg/s', ge(1000, '≥ 1000 @1000 ch'), ch ? `${ch} channels` : undefined);
  add('inbound.cpuMsPerMessage', 'CPU ms', undefined, 'handlers’ process CPU per delivered message');
  add(
    'inbound.ceilingMessagesPerSecond',
    'msg/s',
    undefined,
    'SQS stand-in alone, same client: not a limit the pipeline meets',
  );
  add('inbound.pipelineToCeiling', 'ratio');
  add(
    'inbound.capacityChannelsPerMinute',
    'channels',
    undefined,
    `one tick at poller concurrency ${num(pick(results, 'inbound.pollerConcurrency')) ?? '?'}, within 60 s`,
  );
  add('inbound.idleTickSeconds', 's', undefined, `${ch ?? '?'} idle channels, one tick`);
  add('inbound.concurrencyFor1000Channels', 'pollers', undefined, 'to poll 1,000 channels within 45 s');
  add('inbound.concurrencyFor10000Channels', 'pollers', undefined, 'X per-user windows still apply');
  add('realtime.endToEndP99Ms', 'ms', lt(2000), 'created at X → on inbound queue, by webhook');
  add('realtime.endToEndP50Ms', 'ms');
  add('realtime.ackP99Ms', 'ms', lt(1000), 'webhook request → 200');
  add('realtime.ackP50Ms', 'ms');
  add('latency.totalP99Seconds', 's', undefined, 'polling (plans without XAA): created at X → on queue');
  add('latency.totalP50Seconds', 's');
  add('latency.waitP99Seconds', 's', undefined, 'waiting for the poll (1-min schedule)');
  add('latency.processingP99Ms', 'ms', lt(250), 'polling: tick → on queue');
  add('latency.processingP50Ms', 'ms');
  add('dispatcher.channels10kMs', 'ms', lt(2000));
  add('dispatcher.tickMs', 'ms', undefined, `${num(pick(results, 'dispatcher.channels')) ?? '?'} channels`);
  add('dispatcher.readUnits', 'RRU');
  add('dispatcher.writeUnits', 'WRU');
  add('dispatcher.gaugeTickMs', 'ms', undefined, 'tick on a 5-minute mark: + channel gauges');
  add('outbound.commandsPerSecond', 'cmd/s');
  add('outbound.xCallsPerCommand', 'calls', eq(1));
  add(
    'outbound.mediaCommandsPerSecond',
    'cmd/s',
    undefined,
    'replies and DMs with one 200 KB image from the media bucket',
  );
  add(
    'outbound.xCallsPerMediaCommand',
    'calls',
    eq(4),
    'media upload v2 initialize + 1 append + finalize, then the post',
  );
  add('x.callsPerIdlePoll', 'requests', le(2));
  add('x.readsPerDelivered', 'reads', le(1, '≤ 1.00'));
  add('x.steadyState429s', 'responses', eq(0, '= 0'));
  add('x.idleChannelUsdPerMonth', 'USD', undefined, 'X pay-per-use, polling cadence');
  add('cost.idleChannelUsdPerMonth', 'USD', le(1, '≤ 1.00'), 'X + AWS, real time on, pay-per-use');
  add('cost.idleChannelPollingUsdPerMonth', 'USD', undefined, 'X + AWS, polling only (plans without XAA)');
  add('cost.usdPerMillionInboundAt1', 'USD', undefined, 'whole model, 1 message per poll');
  add('cost.usdPerMillionInboundAt10', 'USD', undefined, 'whole model, 10 messages per poll');
  add('cost.usdPerMillionInboundAt100', 'USD', undefined, 'whole model, 100 messages per poll');
  add('cost.usdPerMillionRealtimeEvents', 'USD', undefined, 'whole model, 1 event per webhook request');
  add(
    'cost.fixedUsdPerMonth',
    'USD',
    undefined,
    'per deployment: keys, metrics, schedule, idle event sources',
  );
  add(
    'cost.meterDynamodbRequestsPerPoll',
    'requests',
    le(1, '≤ 1'),
    'spend meter’s own DynamoDB requests per busy poll (its charges ride on the final write)',
  );
  add(
    'cost.meterDynamodbRequestsPerSend',
    'requests',
    le(1, '≤ 1'),
    'spend meter’s own DynamoDB requests per sender invocation (the budget check)',
  );
  add('aws.usdPerMillionInbound', 'USD', lt(1), 'measured requests only, 100 messages per poll');
  add('aws.usdPerMillionOutbound', 'USD');
  add('aws.usdPerIdleChannelMonth', 'USD', undefined, 'polling, incl. the token secret');
  add('aws.secretReadsPerPoll', 'reads', le(0.1, '≤ 0.10 (cached)'));
  add('aws.dynamodbRequestsPerIdlePoll', 'requests');
  const bundles = (results.bundles ?? {}) as Record<string, unknown>;
  for (const fn of Object.keys(bundles).filter(
    (k) => typeof bundles[k] === 'object' && bundles[k] !== null,
  )) {
    add(`bundles.${fn}.bytes`, 'bytes', lt(300_000, '< 300,000'));
    add(`bundles.${fn}.initMs`, 'ms');
  }
  add('standIns.sqs.batchedMessagesPerSecond', 'msg/s');
  add('standIns.sqs.unbatchedMessagesPerSecond', 'msg/s');
  add('standIns.dynamodb.conditionalPutsPerSecond', 'puts/s');
  add('standIns.simX.mentionReadsPerSecond', 'req/s', undefined, 'the simulator alone, no latency profile');
  add('adminApi.getChannelsRps', 'req/s', undefined, 'GET /channels, 10 connections, second process');
  add('adminApi.getChannelsP99Ms', 'ms');
  add('adminApi.patchRps', 'req/s', undefined, 'PATCH /channels/{id}');
  add('adminApi.patchP99Ms', 'ms');
  add('adminApi.errors5xx', 'responses', eq(0, '= 0'));
  add('adminApi.patchLostUpdates', 'updates', eq(0, '= 0'));
  return out;
}

const fmt = (v: number | null) =>
  v === null ? 'null' : Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toPrecision(3);

/** The table as aligned plain text. */
export function formatTable(results: BenchResults): string {
  const lines = rows(results).map((r) => [
    r.key,
    fmt(r.value),
    range(r),
    r.unit,
    r.target ?? '',
    r.pass === undefined ? (r.target ? '—' : '') : r.pass ? 'PASS' : 'MISS',
    r.note ?? '',
  ]);
  const head = ['figure', 'median', 'min–max (runs)', 'unit', 'target', 'result', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const b = results.bench;
  const load = b ? ` · load average ${b.loadAverage.start.join(' ')} → ${b.loadAverage.end.join(' ')}` : '';
  return [
    `x-channel bench (${results.mode}, ${b?.runs ?? 1} runs, X p50 ${b?.xLatencyP50Ms ?? 0} ms, ${results.machine.cpus} CPU, node ${results.machine.node}, ${results.durationSeconds} s${load})`,
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...lines.map(line),
  ].join('\n');
}

/** `min–max (n)` of a row; empty when there is only one run or no number. */
export function range(r: Row): string {
  if (r.min === undefined || r.max === undefined || !r.runs || r.runs < 2) return '';
  return `${fmt(r.min)}–${fmt(r.max)} (${r.runs})`;
}

/** The table as Markdown (docs/performance.md). */
export function formatMarkdown(results: BenchResults): string {
  const out = [
    '| figure | median | min–max (runs) | unit | target | result | note |',
    '|---|---:|---:|---|---|---|---|',
  ];
  for (const r of rows(results)) {
    const result = r.pass === undefined ? '' : r.pass ? 'PASS' : 'MISS';
    out.push(
      `| \`${r.key}\` | ${fmt(r.value)} | ${range(r)} | ${r.unit} | ${r.target ?? ''} | ${result} | ${(r.note ?? '').replace(/\|/g, '/')} |`,
    );
  }
  return out.join('\n');
}

/** Cumulative distribution plot of two latency series as SVG: processing (ms) and end to end (s). */
export function latencySvg(processingMs: number[], totalSeconds: number[]): string {
  const W = 720;
  const H = 300;
  const panel = (series: number[], x0: number, title: string, unit: string, color: string) => {
    const pw = W / 2 - 70;
    const ph = H - 90;
    const left = x0 + 55;
    const top = 40;
    const sorted = [...series].sort((a, b) => a - b);
    const max = sorted.length ? sorted[sorted.length - 1] || 1 : 1;
    const pts = sorted
      .map(
        (v, i) =>
          `${(left + (v / max) * pw).toFixed(1)},${(top + ph - ((i + 1) / sorted.length) * ph).toFixed(1)}`,
      )
      .join(' ');
    const ticks = [0, 0.25, 0.5, 0.75, 1]
      .map((f) => {
        const x = left + f * pw;
        const y = top + ph - f * ph;
        return (
          `<line x1="${x}" y1="${top + ph}" x2="${x}" y2="${top + ph + 4}" stroke="#333"/>` +
          `<text x="${x}" y="${top + ph + 16}" font-size="10" text-anchor="middle">${fmt(max * f)}</text>` +
          `<line x1="${left}" y1="${y}" x2="${left + pw}" y2="${y}" stroke="#ddd"/>` +
          `<text x="${left - 6}" y="${y + 3}" font-size="10" text-anchor="end">${Math.round(f * 100)}%</text>`
        );
      })
      .join('');
    const p = (q: number) =>
      sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
    const label = sorted.length
      ? `p50 ${fmt(p(0.5))} · p95 ${fmt(p(0.95))} · p99 ${fmt(p(0.99))} ${unit} (n=${sorted.length})`
      : 'no samples';
    return (
      `<text x="${left}" y="24" font-size="13" font-weight="bold">${title}</text>` +
      `<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>${ticks}` +
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"/>` +
      `<text x="${left}" y="${top + ph + 34}" font-size="11">${label}</text>`
    );
  };
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">` +
    `<title>x-channel inbound latency (cumulative distribution)</title>` +
    `<rect width="${W}" height="${H}" fill="#fff"/>` +
    panel(processingMs, 0, 'Our processing (tick → on inbound queue)', 'ms', '#1f6feb') +
    panel(totalSeconds, W / 2, 'End to end (created at X → on queue)', 's', '#d1242f') +
    `</svg>\n`
  );
}
