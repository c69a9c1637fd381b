/** The DynamoDB document client every table module shares: one per Lambda instance, created at init. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export interface DocumentClientOptions {
  /** DynamoDB Local's endpoint in local mode and tests; AWS's regional endpoint when omitted. */
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
}

export function createDocumentClient(options: DocumentClientOptions = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials: options.credentials,
    // Throttles (ProvisionedThroughputExceeded, ThrottlingException) are retried with backoff by the SDK.
    maxAttempts: 5,
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** True for a failed ConditionExpression, which the table modules turn into a domain answer. */
export function isConditionFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * The item that failed a condition, from a write sent with ReturnValuesOnConditionCheckFailure ALL_OLD (the document
 * client does not unmarshall exceptions); undefined when there was none.
 */
export function conditionFailure(error: unknown): Record<string, unknown> | undefined {
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  return item ? unmarshall(item) : undefined;
}
