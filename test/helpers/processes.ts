/**
 * Child processes in tests: both output streams collected, each child in its own process group so a
 * test can always kill it and everything it started (tsx, a JVM) and never leave it running, and a
 * scan of what a process wrote (stdout and stderr: warn/error logs go to stderr) for secret values.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fingerprintToken } from '../../sim/x/oauth';

/** A spawned child with its stdout and stderr kept in arrival order. */
export interface TrackedProcess {
  child: ChildProcess;
  /** stdout and stderr interleaved as they arrived. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal) once the child has exited. */
  exited: Promise<number | null>;
  /** Sends `signal` to the child's whole process group (no-op once it has exited). */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL to the process group, then waits for the exit. */
  kill(): Promise<void>;
}

const live = new Set<TrackedProcess>();

/** `spawn` with piped stdout/stderr collected and the child leading its own process group. */
export function spawnTracked(
  command: string,
  args: readonly string[],
  options: Omit<SpawnOptions, 'stdio' | 'detached'> = {},
): TrackedProcess {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let all = '';
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    all += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    all += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(child.exitCode));
  });
  const proc: TrackedProcess = {
    child,
    output: () => all,
    stdout: () => out,
    stderr: () => err,
    exited,
    signal(signal) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is already gone
      }
    },
    async kill() {
      proc.signal('SIGKILL');
      await exited;
    },
  };
  live.add(proc);
  void exited.then(() => live.delete(proc));
  return proc;
}

/** Kills every tracked child still running (call in afterAll / finally). */
export async function killAllTracked(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill()));
}

/**
 * The names of the secrets whose value appears in `text` (values shorter than 8 characters are
 * refused: they would match by chance). The values themselves are never returned, so a failing
 * assertion does not print them.
 */
export function leakedSecrets(text: string, secrets: Record<string, string>): string[] {
  return Object.entries(secrets)
    .filter(([name, value]) => {
      if (value.length < 8)
        throw new Error(`secret ${name} is too short to scan for (${value.length} chars)`);
      return text.includes(value);
    })
    .map(([name]) => name);
}

/**
 * Words of `text` (runs of base64url characters, 20+ long: the simulated X's tokens) whose fingerprint
 * is one of the given ones (the simulated X's token log): tokens the test never saw in clear.
 * Returns the matching fingerprints, never the tokens.
 */
export function leakedFingerprints(text: string, fingerprints: Iterable<string>): string[] {
  const wanted = new Set(fingerprints);
  const found = new Set<string>();
  for (const word of text.match(/[A-Za-z0-9_-]{20,}/g) ?? []) {
    const fp = fingerprintToken(word);
    if (wanted.has(fp)) found.add(fp);
  }
  return [...found];
}
