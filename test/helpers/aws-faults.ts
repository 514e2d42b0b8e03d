/**
 * AWS faults at the edge of the real SDK v3 clients, for the reliability world: middleware added to a
 * client's own stack, so the SDK's retry strategy, error deserialization and the product's handling of
 * the resulting exception all run as they would against AWS.
 *
 * - `error` faults answer a call with an HTTP error response (status, `__type`, message) below the
 *   deserializer and inside the retry loop: the SDK parses it into its modeled exception
 *   (`ProvisionedThroughputExceededException`, `RequestThrottled`, `InternalServerError`, …) and retries
 *   it (3 attempts) like a real one; a fault that fires more often than the SDK retries reaches the product.
 * - `slow` delays a call (real milliseconds) before it goes out.
 * - `batch_partial` lets a `SendMessageBatch` call succeed while SQS refuses some of its entries
 *   (`Failed` with `SenderFault: false`): the refused entries are not sent, the rest are.
 */
import type { AwsClients } from '../../adapters/aws/clients';
import { Readable } from 'node:stream';

export type AwsService = 'dynamodb' | 'sqs' | 'secrets';

/** One armed AWS fault: fires on the next `remaining` matching calls. */
export interface AwsFault {
  service: AwsService;
  kind: 'error' | 'slow' | 'batch_partial';
  /** For `error`: the HTTP status and the error type AWS answers with. */
  status?: number;
  errorType?: string;
  /** For `slow`: real milliseconds. */
  delayMs?: number;
  /** For `batch_partial`: only batches to this queue. */
  queueUrl?: string;
  /** Only these commands (e.g. `UpdateItemCommand`); any when absent. */
  commands?: string[];
  remaining: number;
  /** Called once per firing. */
  onFire: () => void;
  /** For `batch_partial`: which entry ids SQS refuses (at least one). */
  pickFailed?: (ids: string[]) => string[];
}

/** Error types and content types of the services' JSON protocols. */
const CONTENT_TYPE: Record<AwsService, string> = {
  dynamodb: 'application/x-amz-json-1.0',
  sqs: 'application/x-amz-json-1.0',
  secrets: 'application/x-amz-json-1.1',
};

/** The armed faults of a run (shared by every client it decorates). */
export class AwsFaultTable {
  private faults: AwsFault[] = [];

  arm(fault: AwsFault): void {
    this.faults.push(fault);
  }

  clear(): void {
    this.faults = [];
  }

  get armed(): readonly AwsFault[] {
    return this.faults;
  }

  /** Takes one use of the first fault matching this call. */
  take(service: AwsService, kinds: AwsFault['kind'][], command: string, input: any): AwsFault | undefined {
    const i = this.faults.findIndex(
      (f) =>
        f.service === service &&
        kinds.includes(f.kind) &&
        (!f.commands || f.commands.includes(command)) &&
        (f.kind !== 'batch_partial' ||
          (command === 'SendMessageBatchCommand' && (!f.queueUrl || input?.QueueUrl === f.queueUrl))),
    );
    if (i < 0) return undefined;
    const f = this.faults[i];
    if (--f.remaining <= 0) this.faults.splice(i, 1);
    f.onFire();
    return f;
  }

  /** Adds the fault middleware to each client's stack (`doc` shares `dynamodb`'s stack). */
  decorate(clients: AwsClients): AwsClients {
    const services: Array<[AwsService, { middlewareStack: any }]> = [
      ['dynamodb', clients.dynamodb],
      ['sqs', clients.sqs],
      ['secrets', clients.secrets],
    ];
    for (const [service, client] of services) {
      // before serialization: slow calls and SendMessageBatch partial failures
      client.middlewareStack.add(
        (next: any, context: any) => async (args: any) => {
          const command = String(context.commandName);
          const fault = this.take(service, ['slow', 'batch_partial'], command, args.input);
          if (fault?.kind === 'slow') {
            await new Promise((r) => setTimeout(r, fault.delayMs ?? 100));
            return next(args);
          }
          if (fault?.kind === 'batch_partial') return partialBatch(next, args, fault);
          return next(args);
        },
        { step: 'initialize', priority: 'low', name: 'xcFaultInitialize' },
      );
      // inside the retry loop, below the deserializer: an error answer the SDK parses and retries
      client.middlewareStack.add(
        (next: any, context: any) => async (args: any) => {
          const fault = this.take(service, ['error'], String(context.commandName), args.input);
          if (!fault) return next(args);
          const type = fault.errorType ?? 'InternalServerError';
          const body = JSON.stringify({ __type: type, message: `injected ${type}` });
          return {
            response: {
              statusCode: fault.status ?? 500,
              reason: type,
              headers: {
                'content-type': CONTENT_TYPE[service],
                'x-amzn-requestid': `fault-${Math.random().toString(36).slice(2)}`,
                'x-amzn-errortype': type,
                'content-length': String(Buffer.byteLength(body)),
              },
              body: Readable.from([Buffer.from(body)]),
            },
          };
        },
        { step: 'deserialize', priority: 'low', name: 'xcFaultDeserialize' },
      );
    }
    return clients;
  }
}

async function partialBatch(next: any, args: any, fault: AwsFault) {
  const entries: Array<{ Id: string }> = args.input.Entries ?? [];
  const ids = entries.map((e) => e.Id);
  const failedIds = new Set(fault.pickFailed ? fault.pickFailed(ids) : ids.slice(0, 1));
  const rest = entries.filter((e) => !failedIds.has(e.Id));
  const failed = entries
    .filter((e) => failedIds.has(e.Id))
    .map((e) => ({
      Id: e.Id,
      SenderFault: false,
      Code: 'InternalError',
      Message: 'injected partial failure',
    }));
  if (!rest.length) {
    return { output: { $metadata: { httpStatusCode: 200 }, Successful: [], Failed: failed }, response: {} };
  }
  const result = await next({ ...args, input: { ...args.input, Entries: rest } });
  result.output = { ...result.output, Failed: [...(result.output.Failed ?? []), ...failed] };
  return result;
}
