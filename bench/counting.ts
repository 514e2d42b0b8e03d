/**
 * Counting AWS clients: the real SDK v3 clients with one extra middleware that records every request
 * a handler makes, so the benchmark can price them (bench/prices.ts). DynamoDB requests ask for
 * `ReturnConsumedCapacity: TOTAL` (DynamoDB Local answers it like DynamoDB does), so read and write
 * units are measured, not guessed; a failed conditional write is charged one write unit, as DynamoDB
 * does. SQS requests are counted per 64 KiB chunk of payload, as SQS bills them. DynamoDB requests that
 * touch spend items only (bench/dynamo-keys.ts) are counted apart: the spend meter's own requests.
 */
import { createAwsClients, type AwsClientOptions, type AwsClients } from '../adapters/aws/clients';
import { isMeterOnly, keysOf } from './dynamo-keys';
import { AWS_PRICES, gbSeconds } from './prices';

/** What one meter saw. */
export interface AwsUsage {
  /** Requests by `service:Command`. */
  requests: Record<string, number>;
  dynamodbRru: number;
  dynamodbWru: number;
  /** DynamoDB requests on spend items alone (counters, budgets, billed-today markers): the meter's own. */
  meterDynamodbRequests: number;
  /** Billable SQS requests (64 KiB chunks), standard and FIFO queues apart. */
  sqsStandardRequests: number;
  sqsFifoRequests: number;
  secretsManagerCalls: number;
  /** Secret reads (GetSecretValue) alone, for "Secrets Manager reads per poll". */
  secretReads: number;
  lambdaInvocations: number;
  /** Sum of invocation wall times rounded up to 1 ms (what Lambda bills), per function memory. */
  lambdaBilledMs: Record<string, number>;
}

const emptyUsage = (): AwsUsage => ({
  requests: {},
  dynamodbRru: 0,
  dynamodbWru: 0,
  meterDynamodbRequests: 0,
  sqsStandardRequests: 0,
  sqsFifoRequests: 0,
  secretsManagerCalls: 0,
  secretReads: 0,
  lambdaInvocations: 0,
  lambdaBilledMs: {},
});

const READS = /^(GetItem|BatchGetItem|Query|Scan|TransactGetItems)Command$/;
const WRITES = /^(PutItem|UpdateItem|DeleteItem|BatchWriteItem|TransactWriteItems)Command$/;
const CHUNK = 64 * 1024;

interface ConsumedCapacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

/** A resettable usage meter. */
export class AwsMeter {
  private usage = emptyUsage();

  /** Usage so far (a copy). */
  snapshot(): AwsUsage {
    return structuredClone(this.usage);
  }

  reset(): void {
    this.usage = emptyUsage();
  }

  count(key: string): void {
    this.usage.requests[key] = (this.usage.requests[key] ?? 0) + 1;
  }

  meterOnly(): void {
    this.usage.meterDynamodbRequests++;
  }

  dynamo(command: string, consumed: ConsumedCapacity | ConsumedCapacity[] | undefined, failed: boolean) {
    const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
    let units = 0;
    for (const c of list)
      units += c.CapacityUnits ?? (c.ReadCapacityUnits ?? 0) + (c.WriteCapacityUnits ?? 0);
    // A rejected conditional write is still charged (1 WRU for items up to 1 KB).
    if (failed && WRITES.test(command)) units = Math.max(units, 1);
    if (READS.test(command)) this.usage.dynamodbRru += units;
    else if (WRITES.test(command) || command.startsWith('Transact')) this.usage.dynamodbWru += units;
  }

  sqs(queueUrl: string | undefined, payloadBytes: number) {
    const chunks = Math.max(1, Math.ceil(payloadBytes / CHUNK));
    if (queueUrl?.endsWith('.fifo')) this.usage.sqsFifoRequests += chunks;
    else this.usage.sqsStandardRequests += chunks;
  }

  secrets(command: string) {
    this.usage.secretsManagerCalls++;
    if (command === 'GetSecretValueCommand') this.usage.secretReads++;
  }

  invocation(functionName: string, wallMs: number) {
    this.usage.lambdaInvocations++;
    this.usage.lambdaBilledMs[functionName] =
      (this.usage.lambdaBilledMs[functionName] ?? 0) + Math.ceil(wallMs);
  }
}

const payloadBytes = (input: Record<string, unknown>): number => {
  if (typeof input.MessageBody === 'string') return Buffer.byteLength(input.MessageBody);
  if (Array.isArray(input.Entries)) {
    let n = 0;
    for (const e of input.Entries as Array<{ MessageBody?: string }>)
      n += e.MessageBody ? Buffer.byteLength(e.MessageBody) : 0;
    return n;
  }
  return 0;
};

type Middleware = (
  next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>,
  context: { commandName?: string },
) => (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>;

/** Real AWS clients whose every request lands on `meter`. */
export function createCountingClients(options: AwsClientOptions, meter: AwsMeter): AwsClients {
  const clients = createAwsClients(options);
  const dynamo: Middleware = (next, context) => async (args) => {
    const command = context.commandName ?? 'Unknown';
    meter.count(`dynamodb:${command}`);
    if (isMeterOnly(keysOf(command, args.input))) meter.meterOnly();
    if (READS.test(command) || WRITES.test(command)) args.input.ReturnConsumedCapacity ??= 'TOTAL';
    try {
      const result = await next(args);
      meter.dynamo(command, result.output.ConsumedCapacity as ConsumedCapacity | undefined, false);
      return result;
    } catch (e) {
      meter.dynamo(command, undefined, true);
      throw e;
    }
  };
  const sqs: Middleware = (next, context) => async (args) => {
    meter.count(`sqs:${context.commandName ?? 'Unknown'}`);
    meter.sqs(args.input.QueueUrl as string | undefined, payloadBytes(args.input));
    return next(args);
  };
  const secrets: Middleware = (next, context) => async (args) => {
    meter.count(`secretsmanager:${context.commandName ?? 'Unknown'}`);
    meter.secrets(context.commandName ?? 'Unknown');
    return next(args);
  };
  // The document client shares the base client's middleware stack, so one registration counts both.
  const add = (
    stack: { add: (mw: never, o: { step: 'initialize'; name: string }) => void },
    mw: Middleware,
  ) => stack.add(mw as never, { step: 'initialize', name: 'benchCounter' });
  add(clients.dynamodb.middlewareStack as never, dynamo);
  add(clients.sqs.middlewareStack as never, sqs);
  add(clients.secrets.middlewareStack as never, secrets);
  return clients;
}

/** Closes the clients' sockets. */
export function destroyClients(clients: AwsClients): void {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
  clients.secrets.destroy();
}

/** Priced usage, USD. */
export interface AwsCost {
  lambdaCompute: number;
  lambdaRequests: number;
  sqs: number;
  dynamodb: number;
  secretsManager: number;
  kms: number;
  total: number;
}

/** Prices `usage`; `memoryMb` gives each function's memory (lib/handlers.ts). */
export function priceUsage(usage: AwsUsage, memoryMb: Record<string, number>): AwsCost {
  let gbs = 0;
  for (const [fn, ms] of Object.entries(usage.lambdaBilledMs)) gbs += gbSeconds(ms, memoryMb[fn] ?? 512);
  const cost = {
    lambdaCompute: gbs * AWS_PRICES.lambdaArmPerGbSecond,
    lambdaRequests: usage.lambdaInvocations * AWS_PRICES.lambdaPerRequest,
    sqs:
      usage.sqsStandardRequests * AWS_PRICES.sqsStandardPerRequest +
      usage.sqsFifoRequests * AWS_PRICES.sqsFifoPerRequest,
    dynamodb: usage.dynamodbRru * AWS_PRICES.dynamodbPerRru + usage.dynamodbWru * AWS_PRICES.dynamodbPerWru,
    secretsManager: usage.secretsManagerCalls * AWS_PRICES.secretsManagerPerCall,
    // each Secrets Manager read or write of a CMK-encrypted secret is one KMS request
    kms: usage.secretsManagerCalls * AWS_PRICES.kmsPerRequest,
    total: 0,
  };
  cost.total =
    cost.lambdaCompute + cost.lambdaRequests + cost.sqs + cost.dynamodb + cost.secretsManager + cost.kms;
  return cost;
}
