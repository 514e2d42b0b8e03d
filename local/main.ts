/**
 * `npm start`: the whole x-channel stack on this machine (see `start-local.ts`), with a banner that
 * says where everything is. Flags and variables are documented in `options.ts` (`--help`).
 *
 * Exit codes: 0 after a clean Ctrl-C (SIGINT/SIGTERM), 1 when start-up fails (e.g. a port is taken),
 * 2 for a bad flag or variable (one line naming it, no stack trace). A second Ctrl-C exits at once.
 */
import { parseCli, USAGE, UsageError } from './options';
import { startLocal, type LocalStack } from './start-local';
import type { LocalJson } from './local-json';

export { startLocal } from './start-local';
export type { LocalStack, StartLocalOptions } from './start-local';
export { localJsonSchema, type LocalJson } from './local-json';

/** The human-readable form of `local.json`. */
export function banner(
  local: LocalJson,
  stack: Pick<LocalStack, 'failed' | 'simulatedXProblem' | 'localJsonPath'>,
  memory: boolean,
): string {
  const lines = [
    '',
    'x-channel is running locally',
    '',
    `  admin console   ${local.adminLoginUrl}`,
    `                  (one-time sign-in link, valid 10 minutes; \`npm run sign-in-link\` prints another)`,
    `  admin API       ${local.apiUrl}   Authorization: Bearer <adminToken in local.json>`,
    `  X               ${local.x.mode === 'simulated' ? `simulated at ${local.x.baseUrl} (control API ${local.x.controlUrl}/_sim/...)` : `real X at ${local.x.baseUrl}`}`,
    `  region          ${local.region}`,
    `  queues          inbound  ${local.queues.inbound}`,
    `                  outbound ${local.queues.outbound}`,
    `                  results  ${local.queues.results}`,
    `  endpoints       sqs ${local.endpoints.sqs}  dynamodb ${local.endpoints.dynamodb}  secrets ${local.endpoints.secretsManager}  s3 ${local.endpoints.s3}`,
    `  media bucket    ${local.buckets.media}  (path-style at endpoints.s3)`,
    `  state           ${memory ? 'in memory only (--memory)' : `persisted in ${stack.localJsonPath.replace(/[\\/]local\.json$/, '')}`}`,
    `  local.json      ${stack.localJsonPath}  (admin token and AWS credentials; owner-only)`,
  ];
  for (const f of stack.failed) lines.push(`  failed to load  lambdas/${f.name}: ${f.reason}`);
  if (stack.simulatedXProblem) lines.push(`  simulated X     unavailable: ${stack.simulatedXProblem}`);
  lines.push(
    '',
    'next steps:',
    '  1. open the admin console link above (it works once), create a channel and click "Sign in with X"',
    local.x.mode === 'simulated'
      ? `  2. make a mention: curl -X POST ${local.x.controlUrl}/_sim/tweets -H 'content-type: application/json' -d '{"authorId":"<id>","text":"@you hi"}'`
      : '  2. mention the signed-in account on X',
    `  3. read the inbound queue with any SQS client at ${local.endpoints.sqs} (region ${local.region}, credentials in local.json)`,
    '',
    'Ctrl-C stops everything gracefully.',
    '',
  );
  return lines.join('\n');
}

/** Runs the CLI; resolves with the exit code once the stack has stopped (or failed to start). */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let settings;
  try {
    settings = parseCli(argv, env);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`x-channel: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (settings.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // The SDK's Node-20 notice is noise for a local run; Lambda targets Node 22+.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const startedAt = Date.now();
  let stack: LocalStack;
  try {
    stack = await startLocal({
      memory: settings.memory,
      dataDir: settings.dataDir,
      ports: settings.ports,
      region: settings.region,
      scheduleIntervalMs: settings.scheduleIntervalMs,
      crowdPerMinute: settings.crowdPerMinute,
      realX: settings.realX,
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const hint =
      err?.code === 'EADDRINUSE' ? ' (a port is taken: stop the other process or use --port-base)' : '';
    process.stderr.write(`x-channel: start-up failed: ${err?.message ?? String(e)}${hint}\n`);
    return 1;
  }
  process.stdout.write(banner(stack.localJson, stack, settings.memory));
  process.stdout.write(`(up in ${((Date.now() - startedAt) / 1000).toFixed(1)} s)\n`);

  return new Promise<number>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        process.stderr.write(`x-channel: second ${signal}, exiting without waiting\n`);
        process.exit(130);
      }
      signalled = true;
      process.stdout.write(`\n${signal}: stopping (in-flight work finishes or is left for redelivery)...\n`);
      stack
        .stop()
        .then(() => {
          process.stdout.write('stopped.\n');
          resolve(0);
        })
        .catch((e: Error) => {
          process.stderr.write(`x-channel: stop failed: ${e.message}\n`);
          resolve(1);
        });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

// Run only as the entry point (`tsx local/main.ts`), not when imported by tests or the bench.
if (/local[\\/]main\.(ts|js|mjs)$/.test(process.argv[1] ?? '')) {
  runCli(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (e: Error) => {
      process.stderr.write(`x-channel: ${e?.message ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
