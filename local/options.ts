/**
 * Settings of the local stack from command-line flags and environment variables. Bad input names the
 * flag or variable; `main.ts` prints that one line and exits 2.
 *
 * | what            | flag            | env                        | default |
 * |-----------------|-----------------|----------------------------|---------|
 * | API + console   | `--port-base N` | `XC_API_PORT`              | 4000 (N) |
 * | simulated X     |                 | `XC_X_PORT`                | 4010 (N+10) |
 * | DynamoDB Local  |                 | `XC_DYNAMODB_PORT`         | 4020 (N+20) |
 * | SQS stand-in    |                 | `XC_SQS_PORT`              | 4030 (N+30) |
 * | Secrets stand-in|                 | `XC_SECRETS_PORT`          | 4040 (N+40) |
 * | S3 stand-in     |                 | `XC_S3_PORT`               | 4050 (N+50) |
 * | port base       | `--port-base N` | `XC_PORT_BASE`             | 4000 |
 * | no persistence  | `--memory`      | `XC_MEMORY=1`              | off (state in `.x-channel/`) |
 * | data directory  | `--data-dir D`  | `XC_DATA_DIR`              | `.x-channel` |
 * | dispatcher tick | `--tick-ms N`   | `XC_SCHEDULE_INTERVAL_MS`  | 60000 |
 * | demo crowd      | `--crowd N`     | `XC_CROWD_PER_MINUTE`      | 0 (off) |
 * | region          |                 | `AWS_REGION`               | us-east-1 |
 * | real X          |                 | `X_CLIENT_ID` + `X_CLIENT_SECRET` (+ `X_API_BASE_URL`, `X_AUTHORIZE_URL`) | simulated X |
 */

/** Thrown for a bad flag or variable; the message names it and never echoes a secret. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface PortSettings {
  api: number;
  x: number;
  dynamodb: number;
  sqs: number;
  secrets: number;
  s3: number;
}

export interface CliSettings {
  memory: boolean;
  dataDir: string;
  ports: PortSettings;
  scheduleIntervalMs: number;
  /** Simulated customers' mentions/DMs per minute (0 = off). */
  crowdPerMinute: number;
  region: string;
  realX?: { clientId: string; clientSecret: string; baseUrl: string; authorizeUrl: string };
  help: boolean;
}

export const DEFAULT_PORT_BASE = 4000;
export const PORT_OFFSETS: Record<keyof PortSettings, number> = {
  api: 0,
  x: 10,
  dynamodb: 20,
  sqs: 30,
  secrets: 40,
  s3: 50,
};
const PORT_ENV: Record<keyof PortSettings, string> = {
  api: 'XC_API_PORT',
  x: 'XC_X_PORT',
  dynamodb: 'XC_DYNAMODB_PORT',
  sqs: 'XC_SQS_PORT',
  secrets: 'XC_SECRETS_PORT',
  s3: 'XC_S3_PORT',
};

export const USAGE = `usage: npm start -- [--memory] [--port-base N] [--data-dir DIR] [--tick-ms N] [--crowd N]

  --memory        keep no state on disk (default: persist under .x-channel/)
  --port-base N   API on N, simulated X N+10, DynamoDB N+20, SQS N+30, Secrets N+40,
                  S3 N+50 (default 4000)
  --data-dir DIR  where state and local.json live (default .x-channel)
  --tick-ms N     dispatcher schedule interval in ms (default 60000)
  --crowd N       simulated customers mention and DM the signed-in accounts N times a minute (default 0)

env: XC_API_PORT XC_X_PORT XC_DYNAMODB_PORT XC_SQS_PORT XC_SECRETS_PORT XC_S3_PORT XC_PORT_BASE XC_MEMORY
     XC_DATA_DIR XC_SCHEDULE_INTERVAL_MS XC_CROWD_PER_MINUTE AWS_REGION; X_CLIENT_ID + X_CLIENT_SECRET switch to real X.`;

function parsePort(name: string, raw: string, allowZero = true): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535 || (!allowZero && n === 0)) {
    throw new UsageError(`${name} must be a port number 0-65535, got "${raw}"`);
  }
  return n;
}

function parseUrl(name: string, raw: string): string {
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    return raw.replace(/\/+$/, '');
  } catch {
    throw new UsageError(`${name} must be an http(s) URL, got "${raw}"`);
  }
}

/** Parses argv (without node and script) and env into settings. */
export function parseCli(argv: string[], env: Record<string, string | undefined>): CliSettings {
  let memory = env.XC_MEMORY === '1' || env.XC_MEMORY === 'true';
  let dataDir = env.XC_DATA_DIR || '.x-channel';
  let portBase: number | undefined = env.XC_PORT_BASE
    ? parsePort('XC_PORT_BASE', env.XC_PORT_BASE)
    : undefined;
  let tick = env.XC_SCHEDULE_INTERVAL_MS;
  let tickName = 'XC_SCHEDULE_INTERVAL_MS';
  let crowd = env.XC_CROWD_PER_MINUTE;
  let crowdName = 'XC_CROWD_PER_MINUTE';
  let help = false;
  const value = (flag: string, i: number) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const take = () => (inline !== undefined ? inline : value(flag, i++));
    switch (flag) {
      case '--memory':
        memory = true;
        break;
      case '--port-base':
        portBase = parsePort('--port-base', take());
        break;
      case '--data-dir':
        dataDir = take();
        break;
      case '--tick-ms':
        tick = take();
        tickName = '--tick-ms';
        break;
      case '--crowd':
        crowd = take();
        crowdName = '--crowd';
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        throw new UsageError(`unknown option ${flag} (see --help)`);
    }
  }
  if (portBase !== undefined && portBase !== 0 && portBase + 50 > 65535) {
    throw new UsageError(`--port-base/XC_PORT_BASE must leave room for +50, got ${portBase}`);
  }
  const ports = {} as PortSettings;
  for (const key of Object.keys(PORT_OFFSETS) as Array<keyof PortSettings>) {
    const raw = env[PORT_ENV[key]];
    ports[key] = raw
      ? parsePort(PORT_ENV[key], raw)
      : portBase === 0
        ? 0
        : (portBase ?? DEFAULT_PORT_BASE) + PORT_OFFSETS[key];
  }
  let scheduleIntervalMs = 60_000;
  if (tick !== undefined && tick !== '') {
    scheduleIntervalMs = Number(tick);
    if (!/^\d+$/.test(tick) || scheduleIntervalMs < 100) {
      throw new UsageError(`${tickName} must be a whole number of milliseconds ≥ 100, got "${tick}"`);
    }
  }
  let crowdPerMinute = 0;
  if (crowd !== undefined && crowd !== '') {
    crowdPerMinute = Number(crowd);
    if (!/^\d+$/.test(crowd) || crowdPerMinute > 6000) {
      throw new UsageError(`${crowdName} must be a whole number of events per minute 0–6000, got "${crowd}"`);
    }
  }
  const region = env.AWS_REGION || 'us-east-1';
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    throw new UsageError(`AWS_REGION is not a region name: "${region}"`);

  const clientId = env.X_CLIENT_ID;
  const clientSecret = env.X_CLIENT_SECRET;
  let realX: CliSettings['realX'];
  if (clientId || clientSecret) {
    if (!clientId) throw new UsageError('X_CLIENT_ID is required when X_CLIENT_SECRET is set');
    if (!clientSecret) throw new UsageError('X_CLIENT_SECRET is required when X_CLIENT_ID is set');
    realX = {
      clientId,
      clientSecret,
      baseUrl: parseUrl('X_API_BASE_URL', env.X_API_BASE_URL || 'https://api.x.com'),
      authorizeUrl: parseUrl('X_AUTHORIZE_URL', env.X_AUTHORIZE_URL || 'https://x.com/i/oauth2/authorize'),
    };
  }
  return { memory, dataDir, ports, scheduleIntervalMs, crowdPerMinute, region, realX, help };
}
