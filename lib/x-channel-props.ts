/**
 * The props of {@link XChannel} and the rules they are checked against. The rules are a table of
 * `{ condition, message }` entries (the shape of aws-cdk's `aws-sqs/lib/validate-queue-props.ts`): a
 * rule whose condition holds is a problem, and every problem is reported at once, naming the prop, the
 * bad value and what is allowed (STYLE.md §5, §7).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Token, type Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { HANDLERS, X_TIERS, type HandlerName, type XTier } from './handlers';

/** Secrets Manager name of the X app credentials when no other is given. */
export const DEFAULT_X_APP_SECRET_NAME = 'x-channel/x-app';

/** Properties of {@link XChannel}. Every one is optional; the defaults deploy a working system. */
export interface XChannelProps {
  /**
   * How often the dispatcher runs and enqueues a poll job per due channel. Whole minutes, 1–1440.
   * @default - the `xTier` preset: 1 minute for `pay-per-use`, `pro` and `enterprise`, 2 for `basic`, 15 for `free`
   */
  readonly pollInterval?: Duration;
  /**
   * The X API access level of the app; sets the poll interval default and how many pollers and
   * senders may call X at once, and is passed to the functions as `X_TIER`.
   * @default 'pay-per-use' (X's default plan since 2026-02)
   */
  readonly xTier?: XTier;
  /**
   * Secret holding the X app's OAuth 2.0 credentials as JSON `{ "clientId", "clientSecret" }`.
   * Give at most one of `xAppSecret`, `xAppSecretName`, `xAppSecretArn`.
   * @default - the secret named `xAppSecretName`
   */
  readonly xAppSecret?: secretsmanager.ISecret;
  /**
   * Name of an existing secret with the X app credentials.
   * @default 'x-channel/x-app'
   */
  readonly xAppSecretName?: string;
  /**
   * Complete ARN of an existing secret with the X app credentials.
   * @default - the secret named `xAppSecretName`
   */
  readonly xAppSecretArn?: string;
  /**
   * E-mail addresses of the admins to create in the stack's user pool; each gets an invitation with a
   * temporary password.
   * @default - no admin users (add them in the Cognito console)
   */
  readonly adminEmails?: string[];
  /**
   * An existing user pool whose users may use the admin API and console. Requires `userPoolClient`
   * and `hostedUiDomain`.
   * @default - a user pool created by the construct (self sign-up off, MFA required)
   */
  readonly userPool?: cognito.IUserPool;
  /**
   * The console's app client in `userPool` (public client, authorization code grant with PKCE, the
   * admin console URL as callback).
   * @default - a client created in the construct's user pool
   */
  readonly userPoolClient?: cognito.IUserPoolClient;
  /**
   * Base URL of `userPool`'s hosted UI, e.g. `https://example.auth.eu-west-1.amazoncognito.com`.
   * @default - the domain created with the construct's user pool
   */
  readonly hostedUiDomain?: string;
  /**
   * A Cognito group whose members alone are admins: the admin routes require it in the token's
   * `cognito:groups` claim (checked by the api function: API Gateway's JWT authorizer checks the token,
   * not its groups) and answer 403 `not_an_admin` otherwise. With the construct's own user pool the group
   * is created and every `adminEmails` user is put in it; with `userPool` it must exist there.
   * @default - every user of the user pool is an admin
   */
  readonly adminGroup?: string;
  /**
   * Prefix of the Cognito hosted UI domain created with the construct's user pool (must be unique in
   * the region; lowercase letters, digits and hyphens; no `aws`, `amazon` or `cognito`).
   * @default - `xc-<account id>-<8 characters derived from the construct path>`
   */
  readonly cognitoDomainPrefix?: string;
  /**
   * Whether the inbound queue is FIFO, grouped by conversation (message order per conversation kept).
   * @default true
   */
  readonly inboundFifo?: boolean;
  /**
   * Whether the outbound queue is FIFO, grouped by conversation (replies sent in order).
   * @default true
   */
  readonly outboundFifo?: boolean;
  /**
   * How long the inbound, outbound and results queues keep an unread message (60 s to 14 days).
   * Dead-letter queues always keep 14 days.
   * @default - per queue from `adapters/aws/queues.ts`: inbound and results 14 days, outbound 4 days
   */
  readonly retention?: Duration;
  /**
   * How long the media bucket keeps an object (inbound DM media, outbound media the case system put)
   * before S3's lifecycle deletes it; also the access logs' bucket keeps its logs a year. Whole days,
   * 1–3650.
   * @default Duration.days(30)
   */
  readonly mediaExpiration?: Duration;
  /**
   * Lifetime of the presigned GET URLs of inbound DM media (`attachments[].url`), 1 hour to 7 days,
   * at most `mediaExpiration`. A URL signed with the poller's temporary credentials stops working when
   * they expire, whatever this says (docs/deploy.md "Media").
   * @default Duration.hours(6)
   */
  readonly mediaUrlLifetime?: Duration;
  /**
   * `https://` origins (scheme, host and optional port, no path) whose URLs outbound `mediaUrls` may name
   * besides `s3://<media bucket>/outbound/<key>`; passed to the sender as `OUTBOUND_MEDIA_ALLOWED_ORIGINS`.
   * The sender resolves each host itself and refuses private, loopback and link-local addresses and
   * redirects (docs/result-codes.md `media_source_not_allowed`). Empty: only the bucket.
   * @default - none
   */
  readonly outboundMediaAllowedOrigins?: readonly string[];
  /**
   * What happens to the table, the KMS keys, the media bucket and the user pool when the stack is
   * deleted (a bucket that still holds objects is not deleted).
   * With `RETAIN` the table also has deletion protection.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Topic every alarm notifies.
   * @default - alarms are created without actions (they still show on the dashboard)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The EventBridge bus the alerts go to (source `x-channel.alerts`, docs/alerts.md): credits depleted,
   * budgets at 80 %/100 %, re-auth needed, real time lost, no inbound for hours, DLQ not empty.
   * @default - the account's default bus
   */
  readonly alertEventBus?: events.IEventBus;
  /**
   * A topic that gets every alert of this deployment (opened and cleared) as a short text: a rule on
   * {@link alertEventBus} targets it. An encrypted topic's key must let `events.amazonaws.com` use it.
   * @default - none (unless `alertEmail` is given: then a topic of the construct)
   */
  readonly alertTopic?: sns.ITopic;
  /**
   * An address subscribed to the alert topic (it must confirm the subscription e-mail). Without
   * `alertTopic` the construct creates the topic, encrypted with a key of its own.
   * @default - no e-mail
   */
  readonly alertEmail?: string;
  /**
   * Retention of the functions' and the API's log groups.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Active X-Ray tracing on every function.
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * Name prefix of the per-channel token secrets; the functions' permissions are scoped to it.
   * @default - `x-channel/<stack name>/tokens/`
   */
  readonly tokenSecretPrefix?: string;
  /**
   * IAM role ARNs (besides x-channel's own functions) that may decrypt the token secrets, through
   * Secrets Manager only: the break-glass readers (docs/deploy.md "Break-glass: reading a token"). Each
   * also needs `secretsmanager:GetSecretValue` on the secrets in its own IAM policy. Everyone else,
   * administrators included, is denied by the token key's policy.
   * @default - none: only the functions that hold tokens can read them
   */
  readonly tokenReaderRoleArns?: string[];
  /**
   * Steady-state and burst request limits (requests per second) of each admin route of the HTTP API,
   * and the stage default.
   * @default - 20 requests per second, bursts of 40 (an admin console, not a public API)
   */
  readonly apiThrottle?: ThrottleSettings;
  /**
   * Limits of each anonymous console route (`GET /`, `GET /assets/{proxy+}`, `GET /oauth/callback`),
   * a bucket apart from the admins'.
   * @default - 10 requests per second, bursts of 20
   */
  readonly consoleThrottle?: ThrottleSettings;
  /**
   * Limits of each `/x/webhook` route (X's deliveries), a bucket apart from the admins'.
   * @default - 100 requests per second, bursts of 200 (X delivers in bursts)
   */
  readonly webhookThrottle?: ThrottleSettings;
  /**
   * Alarm when the oldest message on the inbound queue is older than this (the case system is not
   * reading).
   * @default Duration.minutes(15)
   */
  readonly inboundAgeAlarmThreshold?: Duration;
  /**
   * Already-built code per function (an asset from a CI build, say), used instead of bundling the
   * function's entry from `lib/handlers.ts` with esbuild. The handler is `index.<export name>`; the
   * `api` asset must also hold the admin console in `console/dist/` (`npx tsx lib/bundle-cli.ts api <dir>`
   * builds exactly that).
   * @default - every function is bundled from its entry with the local esbuild
   */
  readonly prebuiltCode?: Partial<Record<HandlerName, lambda.Code>>;
  /**
   * Bundle the pinned AWS SDK v3 into every function instead of using the copy the Node.js 22 Lambda
   * runtime provides: 0.7–0.9 MB per function instead of 140–300 KiB. A way out should a runtime SDK
   * update ever break x-channel (it uses only long-stable client APIs).
   * @default false
   */
  readonly bundleAwsSdk?: boolean;
  /**
   * Root of the x-channel source tree (holding `node_modules/` and the entries).
   * @default - the directory above this file's `lib/`
   */
  readonly projectRoot?: string;
}

/** Thrown when {@link XChannelProps} are invalid; lists every problem at once. */
export class XChannelPropsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid XChannel props:\n - ${problems.join('\n - ')}`);
    this.name = 'XChannelPropsError';
  }
}

/** What a rule sees: the props and the facts of the place the construct is built in. */
export interface PropsContext {
  readonly props: XChannelProps;
  /** The stack's region, possibly an unresolved token. */
  readonly region: string;
  /** Where the function entries are looked up. */
  readonly projectRoot: string;
}

/** One check: when `condition` holds, `message` is a problem (naming the prop, the value, the rule). */
export interface PropsRule {
  readonly condition: (c: PropsContext) => boolean;
  readonly message: (c: PropsContext) => string;
}

const MIN_RETENTION_S = 60;
const MAX_RETENTION_S = 14 * 86400;
const SECRET_NAME_RE = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN_RE = /^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/;
const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const DOMAIN_PREFIX_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const HTTPS_ORIGIN_RE = /^https:\/\/[^/\s]+$/;
/** An IAM role ARN, path included (what `aws:PrincipalArn` holds for a session of the role). */
const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** A literal (not a token) that fails `test`. */
const badLiteral = (value: string | undefined, test: (v: string) => boolean) =>
  value !== undefined && !Token.isUnresolved(value) && !test(value);

/** The literal entries of an origin list that are not a lowercase `https://host[:port]` (the sender's rule). */
const badOrigins = (origins: readonly string[] | undefined) =>
  (origins ?? []).filter((o) =>
    badLiteral(o, (v) => HTTPS_ORIGIN_RE.test(v) && !/[?#@,]/.test(v) && v === v.toLowerCase()),
  );

const seconds = (d: Duration | undefined) => d?.toSeconds() ?? 0;

/** The rules on single props, in the order their problems are listed. */
const SCALAR_RULES: readonly PropsRule[] = [
  {
    // TableV2 renders its customer-managed key per replica region, which needs a concrete region.
    condition: (c) => Token.isUnresolved(c.region),
    message: () =>
      'the stack needs a concrete region (env: { region }); an XChannel cannot be region-agnostic',
  },
  {
    condition: ({ props: { pollInterval } }) => {
      if (pollInterval === undefined) return false;
      const minutes = pollInterval.toSeconds() / 60;
      return !Number.isInteger(minutes) || minutes < 1 || minutes > 1440;
    },
    message: ({ props }) =>
      `pollInterval must be whole minutes from 1 to 1440, got ${seconds(props.pollInterval)} seconds`,
  },
  {
    condition: ({ props }) => props.xTier !== undefined && !X_TIERS.includes(props.xTier),
    message: ({ props }) => `xTier must be one of ${X_TIERS.join(', ')}, got "${String(props.xTier)}"`,
  },
  {
    condition: ({ props }) =>
      [props.xAppSecret, props.xAppSecretName, props.xAppSecretArn].filter((v) => v !== undefined).length > 1,
    message: () => 'give at most one of xAppSecret, xAppSecretName and xAppSecretArn',
  },
  {
    condition: ({ props }) => badLiteral(props.xAppSecretName, (v) => SECRET_NAME_RE.test(v)),
    message: ({ props }) =>
      `xAppSecretName must be 1-512 characters of letters, digits and /_+=.@-, got "${props.xAppSecretName}"`,
  },
  {
    condition: ({ props }) => badLiteral(props.xAppSecretArn, (v) => SECRET_ARN_RE.test(v)),
    message: ({ props }) =>
      `xAppSecretArn must be a complete Secrets Manager secret ARN (ending in the 6-character suffix), got "${props.xAppSecretArn}"`,
  },
];

/** One rule per admin e-mail (each bad address is its own problem), then the duplicate check. */
const adminEmailRules = ({ props }: PropsContext): PropsRule[] => {
  const emails = props.adminEmails ?? [];
  return [
    ...emails.map((email, i): PropsRule => ({
      condition: () => !EMAIL_RE.test(email),
      message: () => `adminEmails[${i}] is not an e-mail address: "${email}"`,
    })),
    {
      condition: () => new Set(emails.map((e) => e.toLowerCase())).size !== emails.length,
      message: () => 'adminEmails contains the same address twice',
    },
  ];
};

/** A Cognito group name (what `cognito:groups` carries); the api function's config checks the same. */
const GROUP_NAME_RE = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u;

/** Bring-your-own Cognito comes as a set: pool, client and hosted UI, and no domain prefix. */
const USER_POOL_RULES: readonly PropsRule[] = [
  {
    condition: ({ props }) => badLiteral(props.adminGroup, (v) => GROUP_NAME_RE.test(v)),
    message: ({ props }) =>
      `adminGroup must be a Cognito group name (1-128 letters, digits, marks, symbols or punctuation, no spaces), got "${props.adminGroup}"`,
  },
  {
    condition: ({ props }) => !!props.userPool && !props.userPoolClient,
    message: () => 'userPoolClient is required with userPool',
  },
  {
    condition: ({ props }) => !!props.userPoolClient && !props.userPool,
    message: () => 'userPoolClient needs its userPool',
  },
  {
    condition: ({ props }) => !!props.userPool && !props.hostedUiDomain,
    message: () => 'hostedUiDomain is required with userPool',
  },
  {
    condition: ({ props }) => props.hostedUiDomain !== undefined && !props.userPool,
    message: () => 'hostedUiDomain is only used with userPool',
  },
  {
    condition: ({ props }) => badLiteral(props.hostedUiDomain, (v) => HTTPS_ORIGIN_RE.test(v)),
    message: ({ props }) =>
      `hostedUiDomain must be an https origin without a path, got "${props.hostedUiDomain}"`,
  },
  {
    condition: ({ props }) => props.cognitoDomainPrefix !== undefined && !!props.userPool,
    message: () => 'cognitoDomainPrefix cannot be combined with userPool',
  },
  {
    condition: ({ props }) =>
      badLiteral(props.cognitoDomainPrefix, (p) => DOMAIN_PREFIX_RE.test(p) && !/aws|amazon|cognito/.test(p)),
    message: ({ props }) =>
      `cognitoDomainPrefix must be 1-63 lowercase letters, digits or inner hyphens without "aws", "amazon" or "cognito", got "${props.cognitoDomainPrefix}"`,
  },
];

const LIMIT_RULES: readonly PropsRule[] = [
  {
    condition: ({ props: { retention } }) =>
      retention !== undefined &&
      (retention.toSeconds() < MIN_RETENTION_S || retention.toSeconds() > MAX_RETENTION_S),
    message: ({ props }) =>
      `retention must be from 60 seconds to 14 days, got ${seconds(props.retention)} seconds`,
  },
  {
    condition: ({ props }) =>
      props.tokenSecretPrefix !== undefined && !SECRET_NAME_RE.test(props.tokenSecretPrefix),
    message: ({ props }) =>
      `tokenSecretPrefix must be letters, digits and /_+=.@- only, got "${props.tokenSecretPrefix}"`,
  },
  {
    condition: ({ props: { mediaExpiration } }) => {
      if (mediaExpiration === undefined) return false;
      const days = mediaExpiration.toSeconds() / 86400;
      return !Number.isInteger(days) || days < 1 || days > 3650;
    },
    message: ({ props }) =>
      `mediaExpiration must be whole days from 1 to 3650, got ${seconds(props.mediaExpiration)} seconds`,
  },
  {
    condition: ({ props: { mediaUrlLifetime } }) =>
      mediaUrlLifetime !== undefined &&
      (!Number.isInteger(mediaUrlLifetime.toSeconds()) ||
        mediaUrlLifetime.toSeconds() < 3600 ||
        mediaUrlLifetime.toSeconds() > 7 * 86400),
    message: ({ props }) =>
      `mediaUrlLifetime must be whole seconds from 1 hour to 7 days (S3's presigned URL limit), got ${seconds(props.mediaUrlLifetime)} seconds`,
  },
  {
    condition: ({ props: { mediaUrlLifetime, mediaExpiration } }) =>
      mediaUrlLifetime !== undefined &&
      mediaUrlLifetime.toSeconds() > (mediaExpiration?.toSeconds() ?? 30 * 86400),
    message: ({ props }) =>
      `mediaUrlLifetime (${seconds(props.mediaUrlLifetime)} seconds) must not exceed mediaExpiration (${props.mediaExpiration ? seconds(props.mediaExpiration) : 30 * 86400} seconds): a URL would outlive its object`,
  },
  {
    condition: ({ props }) => badOrigins(props.outboundMediaAllowedOrigins).length > 0,
    message: ({ props }) =>
      `outboundMediaAllowedOrigins must be lowercase https origins without a path (https://host[:port]), got ${JSON.stringify(badOrigins(props.outboundMediaAllowedOrigins))}`,
  },
  {
    condition: ({ props }) => badLiteral(props.alertEmail, (v) => EMAIL_RE.test(v)),
    message: ({ props }) => `alertEmail must be an e-mail address, got "${props.alertEmail}"`,
  },
  {
    condition: ({ props }) =>
      props.inboundAgeAlarmThreshold !== undefined && props.inboundAgeAlarmThreshold.toSeconds() < 60,
    message: ({ props }) =>
      `inboundAgeAlarmThreshold must be at least 1 minute, got ${seconds(props.inboundAgeAlarmThreshold)} seconds`,
  },
];

/** One rule per break-glass reader (each bad ARN is its own problem). */
const tokenReaderRules = ({ props }: PropsContext): PropsRule[] =>
  (props.tokenReaderRoleArns ?? []).map((arn, i) => ({
    condition: () => badLiteral(arn, (v) => ROLE_ARN_RE.test(v)),
    message: () =>
      `tokenReaderRoleArns[${i}] must be an IAM role ARN (arn:aws:iam::<account>:role/<path and name>), got "${arn}"`,
  }));

/** Each throttle prop: a positive rate and a positive whole burst. */
const THROTTLE_PROPS = ['apiThrottle', 'consoleThrottle', 'webhookThrottle'] as const;
const THROTTLE_RULES: readonly PropsRule[] = THROTTLE_PROPS.flatMap((name): PropsRule[] => [
  {
    condition: ({ props }) => props[name]?.rateLimit !== undefined && !(props[name].rateLimit > 0),
    message: ({ props }) => `${name}.rateLimit must be > 0, got ${props[name]?.rateLimit}`,
  },
  {
    condition: ({ props }) => {
      const burst = props[name]?.burstLimit;
      return burst !== undefined && !(Number.isInteger(burst) && burst > 0);
    },
    message: ({ props }) => `${name}.burstLimit must be a positive integer, got ${props[name]?.burstLimit}`,
  },
]);

/** Every function needs its code: an entry to bundle, or a prebuilt asset. */
const entryRules = (): PropsRule[] =>
  Object.values(HANDLERS).map((spec) => ({
    condition: ({ props, projectRoot }) =>
      !props.prebuiltCode?.[spec.name] && !fs.existsSync(path.join(projectRoot, spec.entry)),
    message: () =>
      `function "${spec.name}": entry ${spec.entry} does not exist under projectRoot; add it or pass prebuiltCode.${spec.name}`,
  }));

/** Every rule, in the order their problems are listed. */
export function propsRules(c: PropsContext): PropsRule[] {
  return [
    ...SCALAR_RULES,
    ...adminEmailRules(c),
    ...USER_POOL_RULES,
    ...LIMIT_RULES,
    ...tokenReaderRules(c),
    ...THROTTLE_RULES,
    ...entryRules(),
  ];
}

/** Every problem with the props (empty when they are valid), not just the first. */
export function validateXChannelProps(c: PropsContext): string[] {
  return propsRules(c)
    .filter((rule) => rule.condition(c))
    .map((rule) => rule.message(c));
}
