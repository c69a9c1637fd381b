/**
 * Everything a handler needs, built once per Lambda instance (or once per local stack) from an environment:
 * config, the DynamoDB table modules, the @connections gateway and the clock. Use-cases take the parts they use.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Attachments } from './blob/s3-attachments.js';
import { loadConfig, type Config } from './config.js';
import { ConnectionsApiGateway } from './gateway/connections-api.js';
import { EventBridgePublisher, noEventPublisher } from './gateway/event-bus.js';
import type { ChallengePublisher, EventPublisher } from './ports/events.js';
import type { Clock } from './ports/clock.js';
import type { Gateway } from './ports/gateway.js';
import type { Stores } from './ports/stores.js';
import type { AttachmentBlobs } from './ports/attachments.js';
import { AttachmentRecordTable } from './store/attachment-records.js';
import { ConnectionTable } from './store/connections.js';
import { ConversationTable } from './store/conversations.js';
import type { CapacityMeter } from './store/consumed-capacity.js';
import { DeviceTokenTable } from './store/device-tokens.js';
import { createDocumentClient } from './store/document-client.js';
import { GroupMuteTable } from './store/group-mutes.js';
import { GroupTables } from './store/groups.js';
import { MessageTable } from './store/messages.js';
import { PendingDeliveryTable } from './store/pending-deliveries.js';
import { PresenceTable } from './store/presence.js';
import { SharedProviderTokenTable } from './store/provider-tokens.js';
import { PushThrottleTable } from './store/push-throttle.js';
import { RateLimitTable } from './store/rate-limits.js';
import { SentMessageTable } from './store/sent-messages.js';
import { SessionTable, UserQuotaTable } from './store/sessions.js';

export interface Runtime extends Stores {
  readonly config: Config;
  readonly gateway: Gateway;
  readonly clock: Clock;
  readonly events: EventPublisher;
  /** Where device_token puts its challenge pushes: the same bus as `events`. */
  readonly pushChallenges: ChallengePublisher;
  /** The attachment bucket; undefined when ATTACHMENT_BUCKET is unset. */
  readonly attachments: AttachmentBlobs | undefined;
}

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
}

/** One EventBridge client for both kinds of push event, or none without a bus. */
function publishers(busName: string, region: string | undefined): Pick<Runtime, 'events' | 'pushChallenges'> {
  const bus = busName ? new EventBridgePublisher(busName, { region }) : noEventPublisher;
  return { events: bus, pushChallenges: bus };
}

export function createRuntime(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: RuntimeOptions = {},
): Runtime {
  const config = loadConfig(env);
  const local = Boolean(env[DYNAMODB_ENDPOINT_ENV]);
  // Explicit keys only locally: on Lambda the role's credentials include a session token the SDK finds itself.
  const credentials =
    local && env['AWS_ACCESS_KEY_ID'] && env['AWS_SECRET_ACCESS_KEY']
      ? { accessKeyId: env['AWS_ACCESS_KEY_ID'], secretAccessKey: env['AWS_SECRET_ACCESS_KEY'] }
      : undefined;
  const region = env['AWS_REGION'];
  const db = createDocumentClient({ endpoint: env[DYNAMODB_ENDPOINT_ENV] || undefined, region, credentials });
  options.capacityMeter?.attach(db);
  for (const plugin of options.dynamoPlugins ?? []) plugin.attach(db);
  const { tables } = config;
  return {
    config,
    clock: systemClock,
    gateway: new ConnectionsApiGateway({ endpoint: config.connectionsEndpoint, region, credentials }),
    connections: new ConnectionTable(db, tables.Connections),
    conversations: new ConversationTable(db, tables.Conversations),
    messages: new MessageTable(db, tables.Messages, config.messageRetentionDays),
    sessions: new SessionTable(db, tables.Sessions),
    quotas: new UserQuotaTable(db, tables.Sessions),
    attachmentRecords: new AttachmentRecordTable(db, tables.Sessions),
    pending: new PendingDeliveryTable(db, tables.PendingDeliveries, {
      ackTimeoutMs: config.ackTimeoutMs,
      maxDeliveryAttempts: config.maxDeliveryAttempts,
      sweepIntervalMs: config.sweepIntervalMs,
      shards: config.pendingShards,
    }),
    rateLimits: new RateLimitTable(db, tables.RateLimits, {
      msg: config.rateLimitPerSecond,
      deliveries: config.memberDeliveriesPerSecond,
      write: config.writeRateLimitPerSecond,
      read: config.readRateLimitPerSecond,
      members: config.groupMemberChangesPerMinute,
    }),
    presence: new PresenceTable(db, tables.Presence),
    groups: new GroupTables(db, tables.Groups, tables.GroupMembers),
    sentMessages: new SentMessageTable(db, tables.SentMessages),
    deviceTokens: new DeviceTokenTable(db, tables.DeviceTokens),
    groupMutes: new GroupMuteTable(db, tables.GroupMembers),
    providerTokens: new SharedProviderTokenTable(db, tables.DeviceTokens),
    pushThrottle: new PushThrottleTable(db, tables.RateLimits),
    ...publishers(config.eventBusName, region),
    attachments: config.attachmentBucket
      ? new S3Attachments({
          bucket: config.attachmentBucket,
          endpoint: env[S3_ENDPOINT_ENV] || undefined,
          region,
          credentials,
          plugins: options.s3Plugins,
        })
      : undefined,
  };
}
