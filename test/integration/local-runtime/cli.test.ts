import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCli, UsageError } from '../../../local/options';
import { killAllTracked, leakedSecrets, spawnTracked } from '../../helpers/processes';

const root = path.resolve(__dirname, '../../..');

describe('npm start options', () => {
  afterAll(killAllTracked);

  it.each([
    [[], {}, { api: 4000, x: 4010, dynamodb: 4020, sqs: 4030, secrets: 4040, s3: 4050 }],
    [['--port-base', '5000'], {}, { api: 5000, x: 5010, dynamodb: 5020, sqs: 5030, secrets: 5040, s3: 5050 }],
    [['--port-base=0'], {}, { api: 0, x: 0, dynamodb: 0, sqs: 0, secrets: 0, s3: 0 }],
    [
      [],
      { XC_PORT_BASE: '6000', XC_SQS_PORT: '7000' },
      { api: 6000, x: 6010, dynamodb: 6020, sqs: 7000, secrets: 6040, s3: 6050 },
    ],
  ])('derives ports from %j and %j', (argv, env, ports) => {
    expect(parseCli(argv, env).ports).toEqual(ports);
  });

  it('reads --memory, --data-dir, --tick-ms and switches to real X with both credentials', () => {
    const s = parseCli(['--memory', '--data-dir', 'tmp/state', '--tick-ms', '500'], {
      X_CLIENT_ID: 'cid',
      X_CLIENT_SECRET: 'csecret',
    });
    expect(s).toMatchObject({
      memory: true,
      dataDir: 'tmp/state',
      scheduleIntervalMs: 500,
      crowdPerMinute: 0,
    });
    expect(parseCli(['--crowd', '30'], {}).crowdPerMinute).toBe(30);
    expect(s.realX).toEqual({
      clientId: 'cid',
      clientSecret: 'csecret',
      baseUrl: 'https://api.x.com',
      authorizeUrl: 'https://x.com/i/oauth2/authorize',
    });
  });

  it.each([
    [['--nope'], {}, /--nope/],
    [['--port-base'], {}, /--port-base needs a value/],
    [[], { XC_API_PORT: 'abc' }, /XC_API_PORT/],
    [[], { XC_SCHEDULE_INTERVAL_MS: '5' }, /XC_SCHEDULE_INTERVAL_MS/],
    [['--crowd', 'lots'], {}, /--crowd must be a whole number/],
    [[], { XC_CROWD_PER_MINUTE: '-3' }, /XC_CROWD_PER_MINUTE/],
    [[], { X_CLIENT_SECRET: 'only-the-secret' }, /X_CLIENT_ID is required/],
    [[], { X_CLIENT_ID: 'cid', X_CLIENT_SECRET: 's', X_API_BASE_URL: 'ftp://x' }, /X_API_BASE_URL/],
  ])('refuses %j %j naming the culprit', (argv, env, message) => {
    expect(() => parseCli(argv, env)).toThrow(UsageError);
    expect(() => parseCli(argv, env)).toThrow(message);
  });

  it('never echoes a secret in a usage error', () => {
    expect(() => parseCli([], { X_CLIENT_SECRET: 'super-secret-value' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('super-secret-value') }),
    );
  });

  it.each([
    [['--bogus'], {}, '--bogus'],
    [[], { XC_API_PORT: '99999' }, 'XC_API_PORT'],
  ])('the CLI exits 2 with one line and no stack trace for %j %j', (argv, env, culprit) => {
    const run = spawnSync(
      process.execPath,
      [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'local/main.ts', ...argv],
      {
        cwd: root,
        env: { ...process.env, ...env },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(run.status).toBe(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(culprit);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('npm start comes up, writes local.json, and exits 0 after Ctrl-C (SIGINT)', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xc-cli-'));
    try {
      const proc = spawnTracked(
        process.execPath,
        [
          path.join(root, 'node_modules/tsx/dist/cli.mjs'),
          'local/main.ts',
          '--memory',
          '--port-base',
          '0',
          '--data-dir',
          dataDir,
        ],
        {
          cwd: root,
          env: { ...process.env, XC_TEST_DYNAMODB_ENDPOINT: '' },
        },
      );
      const end = Date.now() + 30_000;
      while (
        !proc.stdout().includes('Ctrl-C stops everything') &&
        proc.child.exitCode === null &&
        Date.now() < end
      )
        await new Promise((r) => setTimeout(r, 100));
      expect(proc.stdout()).toContain('x-channel is running locally');
      const local = JSON.parse(readFileSync(path.join(dataDir, 'local.json'), 'utf8'));
      expect(proc.stdout()).toContain(local.adminLoginUrl);
      expect(proc.stdout()).toContain(path.join(dataDir, 'local.json'));
      // The printed link signs in once; it is not the admin token.
      const code = /#signin=([\w-]+)/.exec(local.adminLoginUrl)?.[1] as string;
      expect(code).toEqual(expect.any(String));
      const exchange = () =>
        fetch(`${local.apiUrl}/_local/sign-in`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ code }),
        });
      const first = await exchange();
      expect(first.status).toBe(200);
      const session = ((await first.json()) as { token: string }).token;
      const channels = await fetch(`${local.apiUrl}/channels`, {
        headers: { authorization: `Bearer ${session}` },
      });
      expect(channels.status).toBe(200);
      const again = await exchange();
      expect(again.status).toBe(410);
      expect(((await again.json()) as { detail: string }).detail).toContain('already used');
      proc.child.kill('SIGINT');
      expect(await proc.exited).toBe(0);
      expect(proc.stdout()).toContain('stopped.');
      // Never the admin token, the session or the AWS secret key in anything npm start printed (both streams).
      expect(
        leakedSecrets(proc.output(), {
          adminToken: local.adminToken,
          session,
          awsSecretAccessKey: local.credentials.secretAccessKey,
        }),
      ).toEqual([]);
      // --memory: nothing but local.json is written.
      expect(existsSync(path.join(dataDir, 'local-state.json'))).toBe(false);
    } finally {
      // A start-up that timed out or an assertion that failed must not leave npm start running.
      await killAllTracked();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
