/**
 * jest setupFiles (each worker, before any test file imports the handlers): test runs are quiet by
 * default, so that a failure stands out in `npm test` and CI logs.
 * - `LOG_LEVEL` WARN: the handlers run in-process, and at the production default (INFO) every poll,
 *   result and tick prints a JSON line. Warnings and errors still print. A test that needs lower levels
 *   sets them itself (the secret-leak tests log at DEBUG through their config); `LOG_LEVEL=INFO npx jest`
 *   shows the logs again.
 * - `POWERTOOLS_METRICS_DISABLED`: the in-process handlers' EMF lines are not printed (what a metric is
 *   named and under which namespace is tested through `serializeMetrics`, which this does not touch).
 * - Powertools Metrics' "No application metrics to publish" warning: printed by `logMetrics` after every
 *   in-process invocation that added no metric, straight to stderr through its own Console (even with
 *   `POWERTOOLS_METRICS_DISABLED`), so no level hides it. That one line is dropped; anything else on
 *   stderr, including other Powertools warnings, is written as before.
 * Production keeps its defaults: nothing here is imported outside jest.
 */
process.env.LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const EMPTY_METRICS_WARNING = 'No application metrics to publish.';
const write = process.stderr.write.bind(process.stderr) as (...args: unknown[]) => boolean;
process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
  if (String(chunk).startsWith(EMPTY_METRICS_WARNING)) {
    const done = rest[rest.length - 1];
    if (typeof done === 'function') done();
    return true;
  }
  return write(chunk, ...rest);
}) as typeof process.stderr.write;
