/**
 * The admin API room of {@link XChannel}: the Cognito user pool of the admins (or the one given), the
 * HTTP API's stage with its throttle and access logs, and the routes: only those of the route table
 * (`lib/routes.ts`), with the JWT authorizer on every admin route; the public routes carry their reason
 * as a cdk-nag acknowledgement.
 */
import { Aws, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { createHash } from 'node:crypto';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import {
  CfnStage,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  type HttpApi,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { HandlerName } from './handlers';
import { ROUTES, routeKey, type Route } from './routes';
import type { XChannelProps } from './x-channel-props';
import { pascal } from './x-channel-queues';

/** Who may use the admin API and console, and how the console signs them in. */
export interface AdminAuth {
  readonly userPool: cognito.IUserPool;
  readonly client: cognito.IUserPoolClient;
  /** Base URL of the hosted UI. */
  readonly hostedUiDomain: string;
  /** The JWT authorizer every admin route requires. */
  readonly authorizer: HttpUserPoolAuthorizer;
}

/**
 * The user pool given in the props, or a new one (ids `UserPool`, `HostedUi`, `ConsoleClient`) with
 * the console's public client; plus one invited user per `adminEmails` entry (id `Admin<hash>`).
 */
export function createAdminAuth(
  scope: Construct,
  props: XChannelProps,
  options: { removalPolicy: RemovalPolicy; consoleUrl: string },
): AdminAuth {
  let userPool: cognito.IUserPool;
  let client: cognito.IUserPoolClient;
  let hostedUiDomain: string;
  if (props.userPool && props.userPoolClient && props.hostedUiDomain) {
    userPool = props.userPool;
    client = props.userPoolClient;
    hostedUiDomain = props.hostedUiDomain;
  } else {
    const pool = new cognito.UserPool(scope, 'UserPool', {
      // Admins are invited; nobody can sign themselves up to a console that controls X accounts.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      // Plus brings threat protection (compromised credentials, adaptive auth) for a few cents per admin.
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      removalPolicy: options.removalPolicy,
    });
    const prefix = props.cognitoDomainPrefix ?? `xc-${Aws.ACCOUNT_ID}-${scope.node.addr.slice(0, 8)}`;
    const domain = pool.addDomain('HostedUi', { cognitoDomain: { domainPrefix: prefix } });
    client = pool.addClient('ConsoleClient', {
      // A browser page cannot keep a secret: public client, authorization code grant with PKCE.
      generateSecret: false,
      authFlows: { userSrp: true },
      preventUserExistenceErrors: true,
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [options.consoleUrl],
        logoutUrls: [options.consoleUrl],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });
    userPool = pool;
    hostedUiDomain = domain.baseUrl();
  }
  // The admin group, when asked for, in the construct's own pool; a given pool must already have it.
  const group =
    props.adminGroup && !props.userPool
      ? new cognito.CfnUserPoolGroup(scope, 'AdminGroup', {
          userPoolId: userPool.userPoolId,
          groupName: props.adminGroup,
          description: 'x-channel admins: the admin API and console require this group',
        })
      : undefined;
  for (const email of props.adminEmails ?? []) {
    // Id from the address, not the list position: reordering the list must not recreate users.
    const hash = createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 10);
    const user = new cognito.CfnUserPoolUser(scope, `Admin${hash}`, {
      userPoolId: userPool.userPoolId,
      username: email,
      desiredDeliveryMediums: ['EMAIL'],
      userAttributes: [
        { name: 'email', value: email },
        { name: 'email_verified', value: 'true' },
      ],
    });
    if (group) {
      const member = new cognito.CfnUserPoolUserToGroupAttachment(scope, `Admin${hash}InGroup`, {
        userPoolId: userPool.userPoolId,
        groupName: props.adminGroup!,
        username: email,
      });
      member.node.addDependency(user, group);
    }
  }
  const authorizer = new HttpUserPoolAuthorizer('AdminAuthorizer', userPool, {
    userPoolClients: [client],
  });
  return { userPool, client, hostedUiDomain, authorizer };
}

/** The admin routes' limit and the stage default (an admin console, not a public API). */
export const DEFAULT_ADMIN_THROTTLE = { rateLimit: 20, burstLimit: 40 } as const;
/** The anonymous console routes: a page load is a handful of requests, a sign-in one callback. */
export const DEFAULT_CONSOLE_THROTTLE = { rateLimit: 10, burstLimit: 20 } as const;
/** X delivers account activity in bursts, and its retry of a refused delivery is undocumented. */
export const DEFAULT_WEBHOOK_THROTTLE = { rateLimit: 100, burstLimit: 200 } as const;

/** The limits of one route: the webhook's, the console's (other public routes) or the admins'. */
function throttleOf(route: Route, options: ApiRoutesOptions): Required<ThrottleSettings> {
  if (route.auth === 'admin') return { ...DEFAULT_ADMIN_THROTTLE, ...options.throttle };
  if (route.function === 'webhook') return { ...DEFAULT_WEBHOOK_THROTTLE, ...options.webhookThrottle };
  return { ...DEFAULT_CONSOLE_THROTTLE, ...options.consoleThrottle };
}

/** What the stage and routes need. */
export interface ApiRoutesOptions {
  /** The functions, by name; each route of `lib/routes.ts` goes to the one it names. */
  readonly functions: Readonly<Record<HandlerName, lambda.IFunction>>;
  readonly authorizer: HttpUserPoolAuthorizer;
  /** The stage default and every admin route. @default - 20 requests per second, bursts of 40 */
  readonly throttle?: ThrottleSettings;
  /** Each of `GET /`, `GET /assets/{proxy+}`, `GET /oauth/callback`. @default - {@link DEFAULT_CONSOLE_THROTTLE} */
  readonly consoleThrottle?: ThrottleSettings;
  /** Each `/x/webhook` route. @default - {@link DEFAULT_WEBHOOK_THROTTLE} */
  readonly webhookThrottle?: ThrottleSettings;
  readonly logRetention: logs.RetentionDays;
}

/**
 * Adds the `$default` stage (id `ApiStage`, access logs in `ApiAccessLogs`) and exactly the routes of
 * `lib/routes.ts` to `api`: `admin` ones behind the JWT authorizer, `public` ones acknowledged to
 * cdk-nag with their `publicBecause`.
 */
export function addApiStageAndRoutes(scope: Construct, api: HttpApi, options: ApiRoutesOptions): void {
  const accessLogs = new logs.LogGroup(scope, 'ApiAccessLogs', {
    retention: options.logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const stage = new HttpStage(scope, 'ApiStage', {
    httpApi: api,
    stageName: '$default',
    autoDeploy: true,
    throttle: { ...DEFAULT_ADMIN_THROTTLE, ...options.throttle },
    accessLogSettings: {
      destination: new LogGroupLogDestination(accessLogs),
      // JSON, one line per request; no headers or query strings (the callback's carries the code).
      format: apigateway.AccessLogFormat.custom(
        JSON.stringify({
          requestId: '$context.requestId',
          time: '$context.requestTime',
          ip: '$context.identity.sourceIp',
          method: '$context.httpMethod',
          route: '$context.routeKey',
          status: '$context.status',
          latencyMs: '$context.responseLatency',
          integrationError: '$context.integrationErrorMessage',
          authorizerError: '$context.authorizer.error',
          principal: '$context.authorizer.claims.sub',
        }),
      ),
    },
  });
  // One integration per function (id `<Function>Integration`).
  const integrations = new Map<HandlerName, HttpLambdaIntegration>();
  const integrationOf = (name: HandlerName) => {
    if (!integrations.has(name)) {
      integrations.set(
        name,
        new HttpLambdaIntegration(`${pascal(name)}Integration`, options.functions[name]),
      );
    }
    return integrations.get(name)!;
  };
  // CDK creates a function's integration under the first route bound to it, so that route's id is
  // in the integration's logical id: binding in a fixed order (admin first, then by path and method)
  // keeps it from being replaced when the table is merely reordered.
  const rank = (r: Route) => `${r.auth === 'admin' ? 0 : 1} ${r.path} ${r.method}`;
  const ordered = [...(ROUTES as readonly Route[])].sort((a, b) => (rank(a) < rank(b) ? -1 : 1));
  // Per-route limits (the L2 stage has only the stage-wide one): the anonymous routes get their own
  // buckets, so a flood of them cannot use up the admins' (and the reverse). API Gateway refuses route
  // settings for a route key that does not exist yet, so the stage waits for the routes.
  // `RouteSettings` is untyped JSON to CDK, so its keys are written as CloudFormation spells them.
  const routeSettings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> = {};
  const cfnStage = stage.node.defaultChild as CfnStage;
  for (const route of ordered) {
    const { rateLimit, burstLimit } = throttleOf(route, options);
    routeSettings[routeKey(route)] = { ThrottlingRateLimit: rateLimit, ThrottlingBurstLimit: burstLimit };
  }
  cfnStage.routeSettings = routeSettings;
  for (const route of ordered) {
    const added = api.addRoutes({
      path: route.path,
      methods: [HttpMethod[route.method]],
      integration: integrationOf(route.function),
      authorizer: route.auth === 'admin' ? options.authorizer : undefined,
    });
    for (const r of added) cfnStage.node.addDependency(r);
    if (route.auth === 'public') {
      for (const r of added) {
        Validations.of(r).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `public on purpose: ${route.publicBecause}`,
        });
      }
    }
  }
}
