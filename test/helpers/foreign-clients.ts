/**
 * Clients this project did not write — Debian's AWS CLI 2.9 (`awscli`) and boto3 1.26 (`python3-boto3`) —
 * run against a stand-in on loopback, each in a clean environment: our random key pair, a throwaway
 * HOME with no config or credential files of the machine, no pager, no instance metadata.
 * `.ci/run` installs both packages; without them `start()` fails and says what to install.
 * @example
 * const foreign = foreignClients('xc-foreign-s3-', () => ({ S3_ENDPOINT: stand.endpoint }));
 * beforeAll(() => foreign.start());
 * const out = await foreign.run(AWS_CLI, ['--endpoint-url', stand.endpoint, 's3api', 'list-buckets']);
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Debian's packages install here; a newer CLI or boto3 elsewhere on PATH would speak other protocols. */
export const AWS_CLI = process.env.XC_TEST_AWS_CLI ?? '/usr/bin/aws';
export const PYTHON = process.env.XC_TEST_PYTHON ?? '/usr/bin/python3';

export interface ForeignRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ForeignClients {
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** The throwaway HOME (also a scratch directory for files the clients read or write). */
  readonly home: string;
  /** Checks both clients are installed and creates HOME. */
  start(): void;
  stop(): void;
  /** Runs `file` (killed after 60 s) with the clean environment plus `extraEnv()`; never rejects. */
  run(file: string, args: string[], input?: string): Promise<ForeignRun>;
}

export function foreignClients(tmpPrefix: string, extraEnv: () => Record<string, string>): ForeignClients {
  const credentials = {
    accessKeyId: `AKIDLOCAL${randomBytes(4).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(20).toString('hex'),
  };
  let home = '';
  return {
    credentials,
    get home() {
      if (!home) throw new Error('foreignClients: call start() first');
      return home;
    },
    start() {
      for (const [name, file] of [
        ['awscli', AWS_CLI],
        ['python3-boto3', PYTHON],
      ]) {
        if (!existsSync(file))
          throw new Error(`${file} is missing: install the Debian package ${name} (bash .ci/run does)`);
      }
      home = mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
    },
    stop() {
      if (home) rmSync(home, { recursive: true, force: true });
      home = '';
    },
    run(file, args, input) {
      return new Promise((resolve) => {
        const child = execFile(
          file,
          args,
          {
            timeout: 60_000,
            env: {
              PATH: process.env.PATH ?? '',
              HOME: home,
              AWS_ACCESS_KEY_ID: credentials.accessKeyId,
              AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
              AWS_DEFAULT_REGION: 'us-east-1',
              AWS_CONFIG_FILE: path.join(home, 'config'),
              AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'credentials'),
              AWS_EC2_METADATA_DISABLED: 'true',
              AWS_PAGER: '',
              ...extraEnv(),
            },
          },
          (error, stdout, stderr) =>
            resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
        if (input !== undefined) child.stdin?.end(input);
      });
    },
  };
}
