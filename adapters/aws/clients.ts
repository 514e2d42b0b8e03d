/**
 * The one factory for the real AWS SDK v3 clients. Locally it takes endpoint overrides for the
 * stand-ins; in Lambda it takes none. Always pass the SQS endpoint explicitly: without it the SDK
 * sends each call to the QueueUrl's host (LOCAL-STACK.md §2, "Queue URL trap").
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export interface AwsClientOptions {
  region: string;
  endpoints?: { dynamodb?: string; sqs?: string; secretsManager?: string };
  /**
   * Local runs: the stand-ins' key pair (`local.json` `credentials`). Without it, a local run uses
   * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (what `startLocal` gives the handlers, as Lambda
   * does), else {@link LOCAL_CREDENTIALS}. In AWS the default provider chain is used.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface AwsClients {
  dynamodb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  secrets: SecretsManagerClient;
}

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** What a local run signs stand-in calls with: the key pair `startLocal` gives the handlers, else {@link LOCAL_CREDENTIALS}. */
export function standInCredentials(): { accessKeyId: string; secretAccessKey: string } {
  return process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY
    ? { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY }
    : LOCAL_CREDENTIALS;
}

export function createAwsClients(options: AwsClientOptions): AwsClients {
  const { region, endpoints = {} } = options;
  const local = Boolean(endpoints.dynamodb || endpoints.sqs || endpoints.secretsManager);
  const given = options.credentials ?? (local ? standInCredentials() : undefined);
  // A copy: the SDK marks the object it is given (a `$source` property), and callers pass local.json's.
  const credentials = given && { accessKeyId: given.accessKeyId, secretAccessKey: given.secretAccessKey };
  const common = { region, ...(credentials ? { credentials } : {}), maxAttempts: 3 };
  const dynamodb = new DynamoDBClient({
    ...common,
    ...(endpoints.dynamodb ? { endpoint: endpoints.dynamodb } : {}),
  });
  const doc = DynamoDBDocumentClient.from(dynamodb, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const sqs = new SQSClient({
    ...common,
    ...(endpoints.sqs ? { endpoint: endpoints.sqs, useQueueUrlAsEndpoint: false } : {}),
  });
  const secrets = new SecretsManagerClient({
    ...common,
    ...(endpoints.secretsManager ? { endpoint: endpoints.secretsManager } : {}),
  });
  return { dynamodb, doc, sqs, secrets };
}

/** Builds clients from a validated base config (see lambdas/shared/config.ts). */
export function awsClientsFromConfig(config: {
  AWS_REGION: string;
  XC_DYNAMODB_ENDPOINT?: string;
  XC_SQS_ENDPOINT?: string;
  XC_SECRETS_ENDPOINT?: string;
}): AwsClients {
  return createAwsClients({
    region: config.AWS_REGION,
    endpoints: {
      dynamodb: config.XC_DYNAMODB_ENDPOINT,
      sqs: config.XC_SQS_ENDPOINT,
      secretsManager: config.XC_SECRETS_ENDPOINT,
    },
  });
}
