/**
 * The Secrets Manager stand-in through clients we did not write: Debian's boto3 1.26 (python3-boto3)
 * and AWS CLI 2.9 (awscli), both signing with botocore's own SigV4. A protocol, signing or
 * error-code divergence that our SDK-based tests cannot see fails here. `.ci/run` installs both
 * packages; without them these tests fail and say what to install.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { startSecretsManager, type SecretsManagerStandIn } from '../../../stand-ins/secrets-manager';

// Python start-up is slow on a busy machine: several seconds per CLI call.
jest.setTimeout(180_000);

const credentials = {
  accessKeyId: 'AKIDBOTOCONFORMANCE',
  secretAccessKey: randomBytes(30).toString('base64url'),
};
const uid = () => randomBytes(4).toString('hex');

/** Debian's interpreter and CLI first (their boto3/awscli are the ones pinned by the OS), else PATH. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const AWS = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';

let stand: SecretsManagerStandIn;
beforeAll(async () => {
  stand = await startSecretsManager({ port: 0, credentials });
});
afterAll(() => stand.stop());

/** The environment of a botocore client: our key pair, no config or credential files of the machine. */
const botoEnv = () => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/tmp',
  AWS_ACCESS_KEY_ID: credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  AWS_DEFAULT_REGION: 'eu-west-1',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_MAX_ATTEMPTS: '1',
  AWS_PAGER: '',
});

/**
 * Runs a command without blocking this process (the stand-in answers from its event loop), killed
 * after 150 s (a loaded 2-core machine needs seconds per CLI start).
 */
function run(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; input?: string },
): Promise<{ status: number | null; stdout: string; stderr: string; error?: Error }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ status: null, stdout, stderr, error });
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

const BOTO_SCRIPT = `
import json, os, sys
import boto3
from botocore.exceptions import ClientError
from botocore.config import Config

sm = boto3.client("secretsmanager", endpoint_url=os.environ["ENDPOINT"],
                  config=Config(retries={"max_attempts": 1}))
prefix = os.environ["PREFIX"]
t0, t1 = "a" * 8 + "-0000-0000-0000-" + "0" * 12, "b" * 8 + "-0000-0000-0000-" + "1" * 12
out = {"boto3": boto3.__version__}

def code(call):
    try:
        call()
        return None
    except ClientError as e:
        return [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]

created = sm.create_secret(Name=prefix + "app", SecretString="v0", ClientRequestToken=t0,
                           Description="X app credentials", Tags=[{"Key": "team", "Value": "care"}])
out["createdVersion"] = created["VersionId"]
out["createRetryVersion"] = sm.create_secret(Name=prefix + "app", SecretString="v0", ClientRequestToken=t0)["VersionId"]
sm.create_secret(Name=prefix + "other", SecretString="o")
put = sm.put_secret_value(SecretId=prefix + "app", SecretString="v1", ClientRequestToken=t1)
retry = sm.put_secret_value(SecretId=prefix + "app", SecretString="v1", ClientRequestToken=t1)
out["put"] = [put["VersionId"], put["VersionStages"], retry["VersionId"]]
got = sm.get_secret_value(SecretId=prefix + "app")
out["get"] = [got["SecretString"], got["VersionStages"]]
listed = sm.list_secrets(Filters=[{"Key": "name", "Values": [prefix]}, {"Key": "tag-key", "Values": ["team"]}])
out["listed"] = [s["Name"][len(prefix):] for s in listed["SecretList"]]
negated = sm.list_secrets(Filters=[{"Key": "name", "Values": [prefix]}, {"Key": "description", "Values": ["!app"]}],
                          SortOrder="desc")
out["negated"] = [s["Name"][len(prefix):] for s in negated["SecretList"]]
described = sm.describe_secret(SecretId=prefix + "app")
out["described"] = {"stages": described["VersionIdsToStages"], "description": described["Description"],
                    "tags": described["Tags"]}
out["errors"] = {
    "missing": code(lambda: sm.get_secret_value(SecretId=prefix + "missing")),
    "tokenClash": code(lambda: sm.put_secret_value(SecretId=prefix + "app", SecretString="x", ClientRequestToken=t1)),
    "nextToken": code(lambda: sm.list_secrets(NextToken="not-a-token")),
    "unknownOp": code(lambda: sm.list_secret_version_ids(SecretId=prefix + "app")),
}
bad = boto3.client("secretsmanager", endpoint_url=os.environ["ENDPOINT"],
                   aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="wrong",
                   config=Config(retries={"max_attempts": 1}))
out["errors"]["wrongSecret"] = code(lambda: bad.list_secrets())
json.dump(out, sys.stdout)
`;

describe('Secrets Manager stand-in through boto3 (Debian python3-boto3)', () => {
  it('creates, puts with a token (retry included), gets, lists with filters, describes, and answers AWS error codes', async () => {
    const prefix = `conf-${uid()}/`;
    const boto = await run(PYTHON, ['-'], {
      input: BOTO_SCRIPT,
      env: { ...botoEnv(), ENDPOINT: stand.endpoint, PREFIX: prefix },
    });
    if (boto.error || boto.status !== 0) {
      throw new Error(
        `boto3 run failed (${boto.error?.message ?? `exit ${boto.status}`}); install python3-boto3 (apt), as .ci/run does:
${boto.stderr}`,
      );
    }
    const out = JSON.parse(boto.stdout);

    expect(out.createdVersion).toMatch(/^a{8}-/);
    expect(out.createRetryVersion).toBe(out.createdVersion);
    expect(out.put).toEqual([expect.stringMatching(/^b{8}-/), ['AWSCURRENT'], out.put[0]]);
    expect(out.get).toEqual(['v1', ['AWSCURRENT']]);
    expect(out.listed).toEqual(['app']);
    expect(out.negated).toEqual(['other']);
    expect(out.described).toEqual({
      stages: { [out.createdVersion]: ['AWSPREVIOUS'], [out.put[0]]: ['AWSCURRENT'] },
      description: 'X app credentials',
      tags: [{ Key: 'team', Value: 'care' }],
    });
    expect(out.errors).toEqual({
      missing: ['ResourceNotFoundException', 400],
      tokenClash: ['ResourceExistsException', 400],
      nextToken: ['InvalidNextTokenException', 400],
      unknownOp: ['UnknownOperationException', 400],
      wrongSecret: ['InvalidSignatureException', 400],
    });
  });
});

describe('Secrets Manager stand-in through the AWS CLI (Debian awscli)', () => {
  const aws = async (args: string[]) => {
    const cli = await run(
      AWS,
      ['secretsmanager', ...args, '--endpoint-url', stand.endpoint, '--output', 'json'],
      { env: botoEnv() },
    );
    if (cli.error)
      throw new Error(`aws CLI not runnable (${cli.error.message}); install awscli (apt), as .ci/run does`);
    return cli;
  };

  it('creates with a token, lists with a filter, removes AWSPREVIOUS with update-secret-version-stage, and fails a missing secret with ResourceNotFoundException', async () => {
    const name = `cli-${uid()}/app`;
    const token = `${uid()}${uid()}-cli-0000-0000-000000000000`;
    const created = await aws([
      'create-secret',
      '--name',
      name,
      '--secret-string',
      'v0',
      '--client-request-token',
      token,
    ]);
    expect(created.stderr).toBe('');
    expect(JSON.parse(created.stdout)).toMatchObject({ Name: name, VersionId: token });

    const listed = await aws(['list-secrets', '--filters', `Key=name,Values=${name}`]);
    expect(JSON.parse(listed.stdout).SecretList.map((s: { Name: string }) => s.Name)).toEqual([name]);

    // The token vault's hygiene step: a new value, then AWSPREVIOUS removed from the old version.
    const put = await aws(['put-secret-value', '--secret-id', name, '--secret-string', 'v1']);
    expect(put.stderr).toBe('');
    const removed = await aws([
      'update-secret-version-stage',
      '--secret-id',
      name,
      '--version-stage',
      'AWSPREVIOUS',
      '--remove-from-version-id',
      token,
    ]);
    expect(removed.stderr).toBe('');
    const described = await aws(['describe-secret', '--secret-id', name]);
    expect(JSON.parse(described.stdout).VersionIdsToStages).toEqual({
      [JSON.parse(put.stdout).VersionId]: ['AWSCURRENT'],
    });

    const missing = await aws(['get-secret-value', '--secret-id', `${name}-missing`]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/\(ResourceNotFoundException\) when calling the GetSecretValue operation/);
  });
});
