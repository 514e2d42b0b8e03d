/**
 * SQS errors as the service names them. Each has the JSON protocol's shape name (`__type`), the query
 * protocol's code (also sent as `x-amzn-query-error` on JSON responses, which the AWS SDKs read in
 * query-compatible mode), the HTTP status and the fault side. Names and codes are those of the SQS
 * API model (2012-11-05) and its common errors.
 */
export interface SqsErrorKind {
  /** JSON protocol shape name, e.g. `QueueDoesNotExist`. */
  type: string;
  /** Query protocol code, e.g. `AWS.SimpleQueueService.NonExistentQueue`. */
  queryCode: string;
  status: number;
  fault: 'Sender' | 'Receiver';
}

const kind = (type: string, queryCode = type, status = 400, fault: 'Sender' | 'Receiver' = 'Sender') => ({
  type,
  queryCode,
  status,
  fault,
});

export const ERRORS = {
  QueueDoesNotExist: kind('QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue'),
  QueueNameExists: kind('QueueNameExists', 'QueueAlreadyExists'),
  QueueDeletedRecently: kind('QueueDeletedRecently', 'AWS.SimpleQueueService.QueueDeletedRecently'),
  ReceiptHandleIsInvalid: kind('ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', 404),
  MessageNotInflight: kind('MessageNotInflight', 'AWS.SimpleQueueService.MessageNotInflight'),
  InvalidAttributeName: kind('InvalidAttributeName'),
  InvalidAttributeValue: kind('InvalidAttributeValue'),
  InvalidMessageContents: kind('InvalidMessageContents'),
  InvalidAddress: kind('InvalidAddress', 'InvalidAddress', 404),
  EmptyBatchRequest: kind('EmptyBatchRequest', 'AWS.SimpleQueueService.EmptyBatchRequest'),
  TooManyEntriesInBatchRequest: kind(
    'TooManyEntriesInBatchRequest',
    'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  ),
  BatchEntryIdsNotDistinct: kind(
    'BatchEntryIdsNotDistinct',
    'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  ),
  InvalidBatchEntryId: kind('InvalidBatchEntryId', 'AWS.SimpleQueueService.InvalidBatchEntryId'),
  BatchRequestTooLong: kind('BatchRequestTooLong', 'AWS.SimpleQueueService.BatchRequestTooLong'),
  PurgeQueueInProgress: kind('PurgeQueueInProgress', 'AWS.SimpleQueueService.PurgeQueueInProgress', 403),
  UnsupportedOperation: kind('UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation'),
  // Common errors (not in the SQS model; the same code in both protocols).
  InvalidParameterValue: kind('InvalidParameterValue'),
  MissingParameter: kind('MissingParameter'),
  InvalidAction: kind('InvalidAction'),
  MissingAction: kind('MissingAction'),
  UnknownOperation: kind('UnknownOperationException'),
  InternalFailure: kind('InternalFailure', 'InternalFailure', 500, 'Receiver'),
} satisfies Record<string, SqsErrorKind>;

/** An error the stand-in answers with AWS's code for it; the message names what was wrong. */
export class SqsError extends Error {
  readonly kind: SqsErrorKind;
  constructor(kind: SqsErrorKind, message: string) {
    super(message);
    this.name = kind.type;
    this.kind = kind;
  }
}

export const sqsError = (k: keyof typeof ERRORS, message: string) => new SqsError(ERRORS[k], message);

/** `InvalidParameterValue` as SQS words it: "Value X for parameter Y is invalid. Reason: Z." */
export const invalidValue = (param: string, value: unknown, reason: string) =>
  sqsError(
    'InvalidParameterValue',
    `Value ${String(value)} for parameter ${param} is invalid. Reason: ${reason}.`,
  );

export const missing = (param: string) =>
  sqsError('MissingParameter', `The request must contain the parameter ${param}.`);
