/**
 * A small Secrets Manager stand-in: a real HTTP server speaking the AWS JSON 1.1 protocol
 * (`x-amz-target: secretsmanager.<Op>`), so the real `@aws-sdk/client-secrets-manager`, the AWS CLI
 * and boto3 talk to it unchanged. No emulator exists for this machine (LOCAL-STACK.md §3), hence our own.
 *
 * - Every request must be addressed to loopback and signed (SigV4) with `credentials`
 *   (stand-ins/request-guard.ts), as AWS refuses unsigned requests.
 * - Operations: CreateSecret, GetSecretValue, PutSecretValue, UpdateSecret, UpdateSecretVersionStage,
 *   DeleteSecret, RestoreSecret, DescribeSecret, ListSecrets, TagResource, UntagResource; any other answers
 *   `UnknownOperationException`. Their behaviour (version stages, `ClientRequestToken` idempotency)
 *   is in secrets-manager-store.ts, `ListSecrets` in secrets-manager-list.ts, and what still differs
 *   from AWS in stand-ins/README.md.
 * - Errors are `{"__type","message"}` bodies with HTTP 400, as AWS sends them.
 * - With `dataDir`, state is kept encrypted there (secrets-manager-file.ts); the key never sits beside
 *   it. Secret values are never logged and never appear in error messages.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkAwsRequest } from './request-guard';
import { EncryptedFile } from './secrets-manager-file';
import { listSecrets } from './secrets-manager-list';
import { AwsError, SecretStore, type Input } from './secrets-manager-store';

export {
  LEGACY_SECRETS_KEY_FILE,
  SECRETS_DATA_FILE,
  SECRETS_KEY_ENV,
  defaultKeysDir,
  keyId,
} from './secrets-manager-file';

/** Options for {@link startSecretsManager}. */
export interface SecretsManagerOptions {
  /** TCP port on 127.0.0.1; 0 or omitted picks a free one. */
  port?: number;
  /** Directory for the encrypted state; omitted keeps everything in memory. */
  dataDir?: string;
  /**
   * The state's 32-byte key as 64 hex digits or base64. @default process.env.XC_LOCAL_SECRETS_KEY,
   * else a key file in `keysDir`
   */
  key?: string;
  /** Directory of key files, outside `dataDir`. @default the user's config dir (secrets-manager-file.ts) */
  keysDir?: string;
  /** Region used in ARNs when a request does not name one in its signature. @default 'us-east-1' */
  region?: string;
  /**
   * The only key pair accepted: every request must carry a SigV4 signature by it and a loopback
   * `Host` (stand-ins/request-guard.ts), as AWS refuses unsigned requests.
   */
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** A running Secrets Manager stand-in. */
export interface SecretsManagerStandIn {
  /** `http://127.0.0.1:<port>` — pass it as the Secrets Manager client's `endpoint`. */
  endpoint: string;
  /** Set when an older data directory was migrated at start (its key moved out): tell the operator. */
  migration?: string;
  /** Closes the server (state is already on disk after each change). Safe to call twice. */
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

/** Reads the region from a SigV4 Authorization header (`Credential=AKID/date/<region>/service/...`). */
function regionOf(req: http.IncomingMessage): string | undefined {
  return /Credential=[^/]+\/\d+\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
}

/**
 * Starts the Secrets Manager stand-in on 127.0.0.1.
 *
 * @example
 * const credentials = { accessKeyId: 'LOCALKEYID', secretAccessKey: 'a random secret' };
 * const sm = await startSecretsManager({ port: 0, dataDir: '.x-channel/secrets', credentials });
 * const client = new SecretsManagerClient({ endpoint: sm.endpoint, region: 'us-east-1', credentials });
 * await sm.stop();
 */
export async function startSecretsManager(options: SecretsManagerOptions): Promise<SecretsManagerStandIn> {
  const file = options.dataDir
    ? new EncryptedFile({
        dataDir: options.dataDir,
        key: options.key ?? process.env.XC_LOCAL_SECRETS_KEY,
        keysDir: options.keysDir,
      })
    : undefined;
  const store: SecretStore = new SecretStore(options.region ?? 'us-east-1', () =>
    file?.save([...store.secrets.values()]),
  );
  for (const s of file?.load() ?? []) store.secrets.set(s.name, s);
  store.ops.ListSecrets = (input) =>
    listSecrets(store.liveSecrets(), input as Input, (s) => {
      const { VersionIdsToStages, ...rest } = store.describe(s);
      return { ...rest, SecretVersionsToStages: VersionIdsToStages };
    });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => void answer(req, res, size, Buffer.concat(chunks)));
  });
  const answer = async (req: http.IncomingMessage, res: http.ServerResponse, size: number, body: Buffer) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': randomUUID(),
      });
      res.end(JSON.stringify(body));
    };
    try {
      if (size > MAX_BODY_BYTES) throw new AwsError('InvalidRequestException', 'Request body too large.');
      const refused = await checkAwsRequest(req, body, { credentials: options.credentials });
      if (refused) throw new AwsError(refused.code, refused.message, refused.status);
      const target = String(req.headers['x-amz-target'] ?? '');
      const op = target.startsWith('secretsmanager.')
        ? store.ops[target.slice('secretsmanager.'.length)]
        : undefined;
      if (req.method !== 'POST' || !op) {
        throw new AwsError(
          'UnknownOperationException',
          `Unknown operation ${target || '(no x-amz-target)'}.`,
        );
      }
      let input: unknown;
      try {
        input = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        throw new AwsError('SerializationException', 'The request body is not valid JSON.');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new AwsError('SerializationException', 'The request body must be a JSON object.');
      }
      send(200, op(input as Input, regionOf(req)));
    } catch (e) {
      if (e instanceof AwsError) send(e.status, { __type: e.type, message: e.message });
      // Unexpected failures answer without detail: an internal message could quote a secret value.
      else
        send(500, {
          __type: 'InternalServiceError',
          message: 'An internal error occurred in the stand-in.',
        });
    }
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    ...(file?.migration ? { migration: file.migration } : {}),
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
