/**
 * What a function's adapters are built from: its settings (core/config.ts), the region, and — in local mode and
 * tests only — endpoints, explicit keys and middleware for the clients. Reading it builds no client: each function's
 * composition (lambdas/<fn>/handler.ts) calls the builders of core/compose/ for the ports it uses, and only those.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadConfig, type Config } from '../config.js';
import type { AccountEventPublisher, DeletionJobQueue } from '../ports/accounts.js';
import type { ChallengePublisher, EventPublisher } from '../ports/events.js';
import type { Clock } from '../ports/clock.js';
import type { ContentCheck, ModerationPublisher } from '../ports/moderation.js';
import type { PresenceCheckQueue } from '../ports/presence.js';
import type { CapacityMeter } from '../store/consumed-capacity.js';

export const systemClock: Clock = { now: () => Date.now() };

/** Local mode only: DynamoDB Local's endpoint. On AWS it is unset and the SDK uses the role's credentials. */
export const DYNAMODB_ENDPOINT_ENV = 'DYNAMODB_ENDPOINT';

/** Local mode only: the S3-compatible server's endpoint (path-style). On AWS it is unset. */
export const S3_ENDPOINT_ENV = 'S3_ENDPOINT';

/** Something that adds middleware to the DynamoDB client, e.g. local mode's IAM grant guard. */
export interface DynamoClientPlugin {
  attach(client: DynamoDBDocumentClient): void;
}

/** Something that adds middleware to the attachment bucket's S3 client, e.g. local mode's S3 grant guard. */
export interface S3ClientPlugin {
  attach(client: S3Client): void;
}

export interface RuntimeOptions {
  /** Records every DynamoDB call and its consumed capacity (tests and benchmarks). */
  readonly capacityMeter?: CapacityMeter;
  /** Added to the DynamoDB client after the capacity meter (local mode: lib/grants.ts enforced per function). */
  readonly dynamoPlugins?: readonly DynamoClientPlugin[];
  /** Added to the attachment bucket's S3 client (local mode: lib/grants.ts `attachments` enforced per function). */
  readonly s3Plugins?: readonly S3ClientPlugin[];
  /** Where push events go instead of EventBridge (local mode: its push sender). */
  readonly events?: EventPublisher & ChallengePublisher;
  /** Where report events and export jobs go instead of EventBridge (local mode: the export worker in-process). */
  readonly moderation?: ModerationPublisher;
  /** Where deletion pages go instead of SQS (local mode: its in-process job runner). */
  readonly deletionJobs?: DeletionJobQueue;
  /** Where presence checks go instead of SQS (local mode: its in-process queue with timers). */
  readonly presenceChecks?: PresenceCheckQueue;
  /** Where `Account Deleted` goes instead of EventBridge (local mode: the runner's record). */
  readonly accountEvents?: AccountEventPublisher;
  /** A content check in place of the team's Lambda (local mode and tests). */
  readonly contentCheck?: ContentCheck;
  /** Lambda's Invoke endpoint for the content check (tests: a local server). */
  readonly contentCheckEndpoint?: string;
  /** The handlers' clock instead of the system's (tests: windows such as recall and edit's, without waiting). */
  readonly clock?: Clock;
}

export interface Adapters {
  readonly config: Config;
  readonly clock: Clock;
  /** AWS_REGION; the SDK's own resolution when unset. */
  readonly region: string | undefined;
  /** Explicit keys, local mode only: on Lambda the role's credentials include a session token the SDK finds itself. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  /** DynamoDB Local's endpoint (DYNAMODB_ENDPOINT); undefined on AWS. */
  readonly dynamoEndpoint: string | undefined;
  /** The local S3's endpoint (S3_ENDPOINT); undefined on AWS. */
  readonly s3Endpoint: string | undefined;
  readonly options: RuntimeOptions;
}

/** Reads the environment (ConfigError for a bad setting); builds nothing. */
export function adaptersFrom(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: RuntimeOptions = {},
): Adapters {
  const dynamoEndpoint = env[DYNAMODB_ENDPOINT_ENV] || undefined;
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  return {
    config: loadConfig(env),
    clock: options.clock ?? systemClock,
    region: env['AWS_REGION'],
    credentials: dynamoEndpoint && accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    dynamoEndpoint,
    s3Endpoint: env[S3_ENDPOINT_ENV] || undefined,
    options,
  };
}
