/**
 * The token key's policy (issue 19 item 1, lib/x-channel-token-key.ts): who can decrypt a channel's token
 * secret, evaluated over the synthesized template. The evaluator resolves the template's intrinsics for one
 * account and region and applies KMS's rules (an explicit deny wins; a statement naming the account's root
 * delegates to IAM, and every caller here is assumed to hold `kms:*` in IAM, like an administrator), so
 * each case reads as "this principal, this action, through this service: allowed or not".
 */
import { buildStack } from './build';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

type Json = unknown;
interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal: { AWS: Json } | '*';
  Action: string | string[];
  Condition?: Record<string, Record<string, Json>>;
}

function keyPolicyOf(props: Parameters<typeof buildStack>[0] = {}) {
  const { stack, template } = buildStack(props);
  const id = stack.getLogicalId(stack.channel.key.node.defaultChild as never);
  const roleIds = Object.fromEntries(
    (['api', 'dispatcher', 'poller', 'sender', 'webhook'] as const).map((fn) => [
      fn,
      stack.getLogicalId(stack.channel.functions[fn].role!.node.defaultChild as never),
    ]),
  );
  const policy = template.toJSON().Resources[id].Properties.KeyPolicy as { Statement: Statement[] };
  return { policy, roleIds };
}

/** Resolves the intrinsics a key policy uses; a role's ARN is `role/<logical id>`. */
function resolve(v: Json): Json {
  if (Array.isArray(v)) return v.map(resolve);
  if (v && typeof v === 'object') {
    const o = v as Record<string, Json>;
    if ('Ref' in o)
      return { 'AWS::Partition': 'aws', 'AWS::AccountId': ACCOUNT, 'AWS::Region': REGION }[o.Ref as string];
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, Json[]];
      return parts.map(resolve).join(sep);
    }
    if ('Fn::GetAtt' in o) {
      const [logicalId, attr] = o['Fn::GetAtt'] as [string, string];
      if (attr !== 'Arn') throw new Error(`unexpected GetAtt ${logicalId}.${attr}`);
      return roleArn(logicalId);
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolve(x)]));
  }
  return v;
}

const glob = (pattern: string, value: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(value);
const list = (v: Json) => (Array.isArray(v) ? v : [v]) as string[];

interface Request {
  principalArn: string;
  action: string;
  viaService?: string;
}

function conditionHolds(op: string, key: string, values: string[], req: Request): boolean {
  const actual = { 'kms:ViaService': req.viaService, 'aws:PrincipalArn': req.principalArn }[key];
  if (actual === undefined && !['kms:ViaService', 'aws:PrincipalArn'].includes(key))
    throw new Error(`the evaluator does not know ${key}`);
  const match = (v: string) => (op.startsWith('Arn') ? glob(v, actual ?? '') : v === actual);
  switch (op) {
    case 'StringEquals':
    case 'ArnEquals':
      return actual !== undefined && values.some(match);
    // IAM: a negated operator holds when the key is absent.
    case 'StringNotEquals':
    case 'ArnNotEquals':
      return actual === undefined || !values.some(match);
    default:
      throw new Error(`the evaluator does not know ${op}`);
  }
}

function applies(s: Statement, req: Request): boolean {
  const principals = s.Principal === '*' ? ['*'] : list(s.Principal.AWS);
  const principalOk = principals.some(
    (p) => p === '*' || p === req.principalArn || p === `arn:aws:iam::${ACCOUNT}:root`,
  );
  const actionOk = list(s.Action).some((a) => glob(a, req.action));
  const conditionsOk = Object.entries(s.Condition ?? {}).every(([op, byKey]) =>
    Object.entries(byKey).every(([key, values]) => conditionHolds(op, key, list(values), req)),
  );
  return principalOk && actionOk && conditionsOk;
}

function decide(policy: { Statement: Statement[] }, req: Request): 'allow' | 'deny' {
  const matching = (resolve(policy.Statement) as Statement[]).filter((s) => applies(s, req));
  if (matching.some((s) => s.Effect === 'Deny')) return 'deny';
  return matching.some((s) => s.Effect === 'Allow') ? 'allow' : 'deny';
}

const SECRETS_MANAGER = `secretsmanager.${REGION}.amazonaws.com`;
const BREAK_GLASS = roleArn('ops/BreakGlassTokenReader');

describe('token key policy: only the functions holding tokens decrypt, only through Secrets Manager', () => {
  // Prepare
  const { policy, roleIds } = keyPolicyOf();
  const fnArn = (fn: keyof typeof roleIds) => roleArn(roleIds[fn]);

  it.each(['api', 'poller', 'sender'] as const)(
    '%s: Decrypt and GenerateDataKey through Secrets Manager',
    (fn) => {
      // Act + Assess
      for (const action of ['kms:Decrypt', 'kms:GenerateDataKey']) {
        expect(decide(policy, { principalArn: fnArn(fn), action, viaService: SECRETS_MANAGER })).toBe(
          'allow',
        );
      }
    },
  );

  it.each(['api', 'poller', 'sender'] as const)(
    '%s: no Decrypt directly or through another service',
    (fn) => {
      expect(decide(policy, { principalArn: fnArn(fn), action: 'kms:Decrypt' })).toBe('deny');
      expect(
        decide(policy, {
          principalArn: fnArn(fn),
          action: 'kms:Decrypt',
          viaService: `sqs.${REGION}.amazonaws.com`,
        }),
      ).toBe('deny');
    },
  );

  it.each([
    ['an administrator role', roleArn('Admin')],
    ['the account root user', `arn:aws:iam::${ACCOUNT}:root`],
    ['the webhook function (never reads tokens)', 'webhook'],
    ['the dispatcher function (never reads tokens)', 'dispatcher'],
  ])('%s: no Decrypt or ReEncrypt, even through Secrets Manager', (_, who) => {
    const principalArn = who in roleIds ? fnArn(who as keyof typeof roleIds) : who;
    for (const action of ['kms:Decrypt', 'kms:ReEncryptFrom', 'kms:GenerateDataKey', 'kms:CreateGrant']) {
      expect(decide(policy, { principalArn, action, viaService: SECRETS_MANAGER })).toBe('deny');
    }
  });

  it.each([
    'kms:PutKeyPolicy',
    'kms:GetKeyPolicy',
    'kms:DescribeKey',
    'kms:EnableKeyRotation',
    'kms:ScheduleKeyDeletion',
    'kms:CancelKeyDeletion',
    'kms:TagResource',
    'kms:UpdateKeyDescription',
  ])(
    'the account keeps key administration (%s), so CloudFormation and admins are never locked out',
    (action) => {
      expect(decide(policy, { principalArn: roleArn('cdk-cfn-exec-role'), action })).toBe('allow');
    },
  );

  it('no statement allows kms:* or names a function role as a principal (they are conditions)', () => {
    const statements = resolve(policy.Statement) as Statement[];
    expect(statements.flatMap((s) => list(s.Action))).not.toContain('kms:*');
    // Principals are the account or everyone: a role named as a principal must exist when the key
    // policy is put, which a role created in the same deployment may not yet do for KMS.
    expect(statements.map((s) => JSON.stringify(s.Principal)).join()).not.toContain(':role/');
  });
});

describe('tokenReaderRoleArns: the break-glass allow-list', () => {
  const { policy } = keyPolicyOf({ channel: { tokenReaderRoleArns: [BREAK_GLASS] } });

  it('a listed role decrypts through Secrets Manager only, and cannot write tokens', () => {
    expect(
      decide(policy, { principalArn: BREAK_GLASS, action: 'kms:Decrypt', viaService: SECRETS_MANAGER }),
    ).toBe('allow');
    expect(decide(policy, { principalArn: BREAK_GLASS, action: 'kms:Decrypt' })).toBe('deny');
    expect(
      decide(policy, {
        principalArn: BREAK_GLASS,
        action: 'kms:GenerateDataKey',
        viaService: SECRETS_MANAGER,
      }),
    ).toBe('deny');
  });

  it('other administrators stay denied', () => {
    expect(
      decide(policy, { principalArn: roleArn('Admin'), action: 'kms:Decrypt', viaService: SECRETS_MANAGER }),
    ).toBe('deny');
  });

  it.each([
    ['an account id', '111122223333'],
    ['a user ARN', `arn:aws:iam::${ACCOUNT}:user/alice`],
    ['a role ARN of a short account', 'arn:aws:iam::1234:role/x'],
  ])('%s is refused by name', (_, arn) => {
    expect(() => buildStack({ channel: { tokenReaderRoleArns: [roleArn('Ok'), arn] } })).toThrow(
      `tokenReaderRoleArns[1] must be an IAM role ARN (arn:aws:iam::<account>:role/<path and name>), got "${arn}"`,
    );
  });
});
