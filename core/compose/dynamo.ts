/**
 * The DynamoDB side of a function: its one document client and a builder per table module, so that a function's
 * composition names the tables it uses and its bundle carries only their modules.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PRESENCE_SUBSCRIPTION_CHANGES_PER_MINUTE } from '../../protocol/limits.js';
import type { Config } from '../config.js';
import { AccountTable } from '../store/accounts.js';
import { AttachmentRecordTable } from '../store/attachment-records.js';
import { BlockTable } from '../store/blocks.js';
import { ConnectionTable } from '../store/connections.js';
import { ConversationTable } from '../store/conversations.js';
import { DeviceTokenTable } from '../store/device-tokens.js';
import { createDocumentClient } from '../store/document-client.js';
import { GroupMuteTable } from '../store/group-mutes.js';
import { GroupHandoverTables } from '../store/group-handover.js';
import { GroupTables } from '../store/groups.js';
import { MessageTable } from '../store/messages.js';
import { PendingDeliveryTable } from '../store/pending-deliveries.js';
import { PresenceTable } from '../store/presence.js';
import { PresenceWatcherTable } from '../store/presence-watchers.js';
import { SharedProviderTokenTable } from '../store/provider-tokens.js';
import { PushThrottleTable } from '../store/push-throttle.js';
import { RateLimitTable } from '../store/rate-limits.js';
import { SentMessageTable } from '../store/sent-messages.js';
import { TypingThrottleTable } from '../store/typing-throttle.js';
import { SessionTable, UserQuotaTable } from '../store/sessions.js';
import { MessageTombstoneTable } from '../store/tombstones.js';
import { UserRowTable } from '../store/user-rows.js';
import type { Adapters } from './adapters.js';

/** The function's DynamoDB client (every table module of the function shares it), with the meter and plugins on. */
export function documentClient(adapters: Adapters): DynamoDBDocumentClient {
  const { region, credentials, dynamoEndpoint, options } = adapters;
  const db = createDocumentClient({ endpoint: dynamoEndpoint, region, credentials });
  options.capacityMeter?.attach(db);
  for (const plugin of options.dynamoPlugins ?? []) plugin.attach(db);
  return db;
}

export const connectionTable = (db: DynamoDBDocumentClient, { tables }: Config) =>
  new ConnectionTable(db, tables.Connections);

export const conversationTable = (db: DynamoDBDocumentClient, { tables }: Config) =>
  new ConversationTable(db, tables.Conversations);

export const messageTable = (db: DynamoDBDocumentClient, config: Config) =>
  new MessageTable(db, config.tables.Messages, config.messageRetentionDays);

export const sessionTable = (db: DynamoDBDocumentClient, { tables }: Config) => new SessionTable(db, tables.Sessions);

export const userQuotaTable = (db: DynamoDBDocumentClient, { tables }: Config) =>
  new UserQuotaTable(db, tables.Sessions);

export const attachmentRecordTable = (db: DynamoDBDocumentClient, { tables }: Config) =>
  new AttachmentRecordTable(db, tables.Sessions);

export const pendingDeliveryTable = (db: DynamoDBDocumentClient, config: Config) =>
  new PendingDeliveryTable(db, config.tables.PendingDeliveries, {
    ackTimeoutMs: config.ackTimeoutMs,
    maxDeliveryAttempts: config.maxDeliveryAttempts,
    sweepIntervalMs: config.sweepIntervalMs,
    shards: config.pendingShards,
  });

export const rateLimitTable = (db: DynamoDBDocumentClient, config: Config) =>
  new RateLimitTable(db, config.tables.RateLimits, {
    msg: config.rateLimitPerSecond,
    deliveries: config.memberDeliveriesPerSecond,
    write: config.writeRateLimitPerSecond,
    read: config.readRateLimitPerSecond,
    members: config.groupMemberChangesPerMinute,
    reports: config.maxReportsPerDay,
    // Typing frames' receivers a second: the number of msg_data's member deliveries (one frame a second to a full group).
    typing: config.memberDeliveriesPerSecond,
    subscriptions: PRESENCE_SUBSCRIPTION_CHANGES_PER_MINUTE,
  });

export const presenceTable = (db: DynamoDBDocumentClient, { tables }: Config) => new PresenceTable(db, tables.Presence);

export const groupTables = (db: DynamoDBDocumentClient, { tables }: Config) =>
  new GroupTables(db, tables.Groups, tables.GroupMembers);

export const sentMessageTable = (db: DynamoDBDocumentClient, { tables }: Config) =>
  new SentMessageTable(db, tables.SentMessages);

export const deviceTokenTable = (db: DynamoDBDocumentClient, { tables }: Config) =>
  new DeviceTokenTable(db, tables.DeviceTokens);

export const groupMuteTable = (db: DynamoDBDocumentClient, { tables }: Config) =>
  new GroupMuteTable(db, tables.GroupMembers);

export const providerTokenTable = (db: DynamoDBDocumentClient, { tables }: Config) =>
  new SharedProviderTokenTable(db, tables.DeviceTokens);

export const pushThrottleTable = (db: DynamoDBDocumentClient, { tables }: Config) =>
  new PushThrottleTable(db, tables.RateLimits);

export const blockTable = (db: DynamoDBDocumentClient, { tables }: Config) =>
  new BlockTable(db, tables.Blocks, tables.Conversations);

export const typingThrottleTable = (db: DynamoDBDocumentClient, { tables }: Config) =>
  new TypingThrottleTable(db, tables.RateLimits);

export const accountTable = (db: DynamoDBDocumentClient, { tables }: Config) => new AccountTable(db, tables.Accounts);

export const tombstoneTable = (db: DynamoDBDocumentClient, { tables }: Config) =>
  new MessageTombstoneTable(db, tables.Messages);

export const userRowTable = (db: DynamoDBDocumentClient, { tables }: Config) => new UserRowTable(db, tables.Sessions);

export const groupHandoverTables = (db: DynamoDBDocumentClient, { tables }: Config) =>
  new GroupHandoverTables(db, tables.Groups, tables.GroupMembers, tables.Sessions);

export const presenceWatcherTable = (db: DynamoDBDocumentClient, { tables }: Config) =>
  new PresenceWatcherTable(db, tables.PresenceWatchers);
