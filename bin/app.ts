/**
 * CDK app: `npx cdk synth` / `npx cdk deploy -c xAppSecretName=... -c adminEmail=...`.
 * The stack is account-agnostic and does no lookups, so it synthesizes offline and without
 * credentials. Its region is `-c region=...`, else the AWS profile's region, else us-east-1; `cdk deploy`
 * puts it in the account of the current AWS credentials.
 */
import { App, Duration } from 'aws-cdk-lib';
import { XChannelStack, addNagChecks } from '../lib/x-channel-stack';
import { X_TIERS, type XTier } from '../lib/handlers';

const app = new App();
const ctx = (key: string): string | undefined => {
  const v: unknown = app.node.tryGetContext(key);
  return v === undefined || v === null || v === '' ? undefined : String(v);
};

const problems: string[] = [];
const minutesText = ctx('pollIntervalMinutes');
const minutes = minutesText === undefined ? undefined : Number(minutesText);
if (minutes !== undefined && !(Number.isInteger(minutes) && minutes >= 1)) {
  problems.push(`context pollIntervalMinutes must be a whole number of minutes >= 1, got "${minutesText}"`);
}
const tier = ctx('xTier');
if (tier !== undefined && !X_TIERS.includes(tier as XTier)) {
  problems.push(`context xTier must be one of ${X_TIERS.join(', ')}, got "${tier}"`);
}
if (problems.length > 0) throw new Error(problems.join('\n'));

new XChannelStack(app, ctx('stackName') ?? 'XChannel', {
  // Region only: the account stays a deploy-time value, so synth output does not depend on credentials.
  env: { region: ctx('region') ?? process.env.CDK_DEFAULT_REGION ?? 'us-east-1' },
  alarmEmail: ctx('alarmEmail'),
  channel: {
    xAppSecretName: ctx('xAppSecretName'),
    alertEmail: ctx('alertEmail'),
    adminEmails: ctx('adminEmail')
      ?.split(',')
      .map((e) => e.trim())
      .filter(Boolean),
    pollInterval: minutes === undefined ? undefined : Duration.minutes(minutes),
    xTier: tier as XTier | undefined,
    adminGroup: ctx('adminGroup'),
    tokenReaderRoleArns: ctx('tokenReaderRoleArn')
      ?.split(',')
      .map((a) => a.trim())
      .filter(Boolean),
    // `-c outboundMediaAllowedOrigins=https://cdn.example.com,https://files.example.com`
    outboundMediaAllowedOrigins: ctx('outboundMediaAllowedOrigins')
      ?.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
  },
});
addNagChecks(app);
