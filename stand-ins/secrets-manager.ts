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
import http from 'node:http';
import { EncryptedFile } from './secrets-manager-file';
import { listSecrets } from './secrets-manager-list';
import { serveAwsJson } from './aws-json-server';
import { SecretStore, type Input } from './secrets-manager-store';

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

  const server = await serveAwsJson({
    port: options.port,
    credentials: options.credentials,
    maxBodyBytes: MAX_BODY_BYTES,
    tooLargeCode: 'InvalidRequestException',
    internalErrorCode: 'InternalServiceError',
    operation: (target) => {
      const op = target.startsWith('secretsmanager.')
        ? store.ops[target.slice('secretsmanager.'.length)]
        : undefined;
      return op && ((input, req) => op(input as Input, regionOf(req)));
    },
  });
  return {
    endpoint: server.endpoint,
    ...(file?.migration ? { migration: file.migration } : {}),
    stop: () => server.stop(),
  };
}
