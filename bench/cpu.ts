/**
 * Process CPU of the handlers alone, in a process that also runs the stand-ins and the simulated X.
 *
 * Everything a handler invocation runs — its own code, the AWS SDK and twitter-api-v2 clients, their
 * sockets' callbacks — runs in the async context `handlerScope.run()` opened for it (async context
 * propagates through promises, timers and the client sockets it created). An `async_hooks` hook reads
 * the thread's CPU clock (`process.threadCpuUsage`) before and after every callback that runs in such
 * a context and adds the difference; the synchronous start of an invocation is added by `run`.
 * The stand-ins' and the simulator's work happens in their servers' own contexts (the server side of
 * each loopback socket) and is not counted; DynamoDB Local is a separate process anyway. What remains
 * is what a Lambda function's CPU would be — the figure that carries over to its cost.
 */
import { AsyncLocalStorage, createHook } from 'node:async_hooks';

const cpuMicros = () => {
  const u = process.threadCpuUsage();
  return u.user + u.system;
};

/** Counts the CPU of code run through {@link HandlerCpuMeter.run}. */
export class HandlerCpuMeter {
  private readonly scope = new AsyncLocalStorage<true>();
  private readonly stack: number[] = [];
  private micros = 0;
  private readonly hook = createHook({
    before: () => {
      this.stack.push(this.scope.getStore() ? cpuMicros() : -1);
    },
    after: () => {
      const start = this.stack.pop();
      if (start !== undefined && start >= 0) this.micros += cpuMicros() - start;
    },
  });

  /** Starts counting (the hook costs time everywhere: enable it only around a measurement). */
  enable(): this {
    this.hook.enable();
    return this;
  }

  disable(): void {
    this.hook.disable();
    this.stack.length = 0;
  }

  /** Runs `fn` as handler work: its synchronous part and every callback it leads to are counted. */
  run<T>(fn: () => T): T {
    return this.scope.run(true, () => {
      const start = cpuMicros();
      try {
        return fn();
      } finally {
        // nested callbacks cannot run inside a synchronous call, so this is fn's own time
        this.micros += cpuMicros() - start;
      }
    });
  }

  /** CPU milliseconds counted so far. */
  ms(): number {
    return this.micros / 1000;
  }

  reset(): void {
    this.micros = 0;
  }
}
