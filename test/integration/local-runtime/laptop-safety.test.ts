/**
 * "Safe on a laptop" (issue 15): while the whole stack runs (its own DynamoDB Local included), every
 * listening socket of this process tree is on loopback; a foreign `Host` gets 4xx from the admin API
 * host and the simulated X; the simulated X's control API takes only same-origin JSON; the data
 * directory is 0700 and every file in it 0600 (what an older version left open is fixed at start).
 */
import http from 'node:http';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startLocal, type LocalStack } from '../../../local/start-local';
import { isLoopbackAddress, listeningSockets } from '../../helpers/listening-sockets';

jest.setTimeout(90_000);

/** A raw request (fetch may not set `Host`). */
function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const portOf = (url: string) => Number(new URL(url).port);

/** Every directory and file under `dir` with its permission bits, e.g. `{ path: 'sqs.json', mode: '600' }`. */
function modes(dir: string): Array<{ path: string; mode: string }> {
  const out: Array<{ path: string; mode: string }> = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      out.push({ path: path.relative(dir, p), mode: (statSync(p).mode & 0o777).toString(8) });
      if (e.isDirectory()) walk(p);
    }
  };
  out.push({ path: '.', mode: (statSync(dir).mode & 0o777).toString(8) });
  walk(dir);
  return out;
}
const expectOwnerOnly = (dir: string) => {
  const all = modes(dir);
  const open = all.filter((m) => {
    const isDir = statSync(path.join(dir, m.path)).isDirectory();
    return m.mode !== (isDir ? '700' : '600');
  });
  expect(open).toEqual([]);
  return all;
};

describe('the local stack on a laptop', () => {
  let dataDir: string;
  let stack: LocalStack;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xc-laptop-'));
    // What an older version left: a world-readable directory and files.
    chmodSync(dataDir, 0o755);
    mkdirSync(path.join(dataDir, 'secrets'), { mode: 0o755 });
    chmodSync(path.join(dataDir, 'secrets'), 0o755);
    writeFileSync(path.join(dataDir, 'inbound-seen.jsonl'), '{}\n', { mode: 0o644 });
    chmodSync(path.join(dataDir, 'inbound-seen.jsonl'), 0o644);
    // Persisted, and with its own DynamoDB Local: everything `npm start` runs.
    stack = await startLocal({
      dataDir,
      receiveWaitSeconds: 1,
      drainTimeoutMs: 2000,
      functions: ['api'],
    });
    if (!stack.simulatedX) throw new Error(`the simulated X is not running: ${stack.simulatedXProblem}`);
  });
  afterAll(async () => {
    await stack?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('listens on loopback only, DynamoDB Local included', () => {
    const local = stack.localJson;
    const sockets = listeningSockets();
    const ports = new Set(sockets.map((s) => s.port));
    for (const url of [local.apiUrl, local.x.baseUrl, ...Object.values(local.endpoints)]) {
      expect({ url, listening: ports.has(portOf(url)) }).toEqual({ url, listening: true });
    }
    // DynamoDB Local is a child process (the JVM), not this one.
    const ddb = sockets.find((s) => s.port === portOf(local.endpoints.dynamodb));
    expect(ddb?.pid).not.toBe(process.pid);
    expect(sockets.filter((s) => !isLoopbackAddress(s.address))).toEqual([]);
  });

  it('the socket check sees a listener on every interface (so the test above can fail)', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      expect(listeningSockets().filter((s) => s.port === port)).toEqual([
        { address: '0.0.0.0', port, pid: process.pid },
      ]);
      expect(isLoopbackAddress('0.0.0.0')).toBe(false);
      expect(isLoopbackAddress('::')).toBe(false);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it.each([
    ['the admin API host', () => `${stack.localJson.apiUrl}/`],
    ['the simulated X API', () => `${stack.localJson.x.baseUrl}/2/users/me`],
    ['the simulated X control API', () => `${stack.localJson.x.controlUrl}/_sim/requests`],
  ])('%s refuses a foreign Host with 403 and answers a loopback one', async (_name, url) => {
    const port = portOf(url());
    const foreign = await request(url(), { headers: { host: `rebound.example:${port}` } });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body).detail).toContain('"rebound.example:');
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      const ok = await request(url(), { headers: { host } });
      expect({ host, status: ok.status }).not.toEqual({ host, status: 403 });
    }
  });

  it('the simulated X control API takes only same-origin JSON', async () => {
    const controlUrl = stack.localJson.x.controlUrl as string;
    const body = JSON.stringify({ username: `laptop_${process.pid % 10000}`, name: 'Laptop' });
    // What a page elsewhere can send without a preflight: a no-cors text/plain POST.
    const plain = await request(`${controlUrl}/_sim/users`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body,
    });
    expect(plain.status).toBe(415);
    expect(JSON.parse(plain.body).detail).toContain('application/json');
    const foreign = await request(`${controlUrl}/_sim/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://attacker.example' },
      body,
    });
    expect(foreign.status).toBe(403);
    const foreignReset = await request(`${controlUrl}/_sim/reset`, {
      method: 'POST',
      headers: { origin: 'null' },
    });
    expect(foreignReset.status).toBe(403);
    const ok = await request(`${controlUrl}/_sim/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: controlUrl },
      body,
    });
    expect(ok.status).toBe(201);
    expect(JSON.parse(ok.body).id).toEqual(expect.any(String));
  });

  it('keeps the data directory 0700 and every file in it 0600, fixing what was open before', async () => {
    const running = expectOwnerOnly(dataDir).map((m) => m.path);
    expect(running).toEqual(
      expect.arrayContaining([
        '.',
        'local.json',
        'local-state.json',
        'inbound-seen.jsonl',
        'secrets',
        'dynamodb',
      ]),
    );
    // State the stand-ins and the simulated X write later (the simulator's save is debounced, SQS
    // saves at stop), then stop and look again.
    const res = await fetch(`${stack.localJson.x.controlUrl}/_sim/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: `modes_${process.pid % 10000}`, name: 'Modes' }),
    });
    expect(res.status).toBe(201);
    await new Promise((r) => setTimeout(r, 400));
    await stack.stop();
    const stopped = expectOwnerOnly(dataDir).map((m) => m.path);
    expect(stopped).toEqual(expect.arrayContaining(['sim-x.json', 'sqs.json']));
    expect(stopped.filter((p) => p.startsWith(`dynamodb${path.sep}`)).length).toBeGreaterThan(0);
  });
});
