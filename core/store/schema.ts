/**
 * The DynamoDB tables, defined once. The CDK stack (lib/) turns these into TableV2 constructs and the
 * local mode and tests turn them into CreateTable calls, so the two can never drift.
 */

export type KeyType = 'S' | 'N';

export interface KeyAttribute {
  /** Attribute name. */
  readonly name: string;
  /** DynamoDB scalar type of the key. */
  readonly type: KeyType;
}

export interface TableSpec {
  /** Logical id: the CDK construct id and the suffix of the table name in local mode. */
  readonly id: TableId;
  /** Environment variable through which handlers learn the table's physical name. */
  readonly envVar: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Attribute holding a unix-seconds expiry; DynamoDB TTL deletes the item some time after it. */
  readonly ttlAttribute?: string;
  /** Why the table exists, for the stack's description and the docs. */
  readonly description: string;
}

export type TableId =
  | 'Connections'
  | 'Conversations'
  | 'Messages'
  | 'Sessions'
  | 'PendingDeliveries'
  | 'RateLimits'
  | 'Presence'
  | 'Groups'
  | 'GroupMembers'
  | 'SentMessages'
  | 'DeviceTokens'
  | 'Blocks'
  | 'Reports'
  | 'Accounts'
  | 'PresenceWatchers';

export const TABLES: Readonly<Record<TableId, TableSpec>> = {
  Connections: {
    id: 'Connections',
    envVar: 'CONNECTIONS_TABLE',
    partitionKey: { name: 'user_id', type: 'S' },
    sortKey: { name: 'connection_id', type: 'S' },
    ttlAttribute: 'expires_at',
    description: 'Live WebSocket connections by user: all connections of a user are one Query.',
  },
  Conversations: {
    id: 'Conversations',
    envVar: 'CONVERSATIONS_TABLE',
    partitionKey: { name: 'conversation_id', type: 'S' },
    description: 'One head item per relation (pair of users) or group: the msg_id counter and per-member sent counts.',
  },
  Messages: {
    id: 'Messages',
    envVar: 'MESSAGES_TABLE',
    partitionKey: { name: 'conversation_id', type: 'S' },
    sortKey: { name: 'msg_id', type: 'N' },
    // Set only when a message retention is configured (MESSAGE_RETENTION_DAYS); otherwise messages are kept.
    ttlAttribute: 'expires_at',
    description: 'Every stored message, numbered per conversation.',
  },
  Sessions: {
    id: 'Sessions',
    envVar: 'SESSIONS_TABLE',
    partitionKey: { name: 'user_id', type: 'S' },
    sortKey: { name: 'session_key', type: 'S' },
    // Set on attachment references and quota periods only when a message retention is configured.
    ttlAttribute: 'expires_at',
    description:
      "Per user: session rows (TeamTalk IMRecentSession), the session index by activity day, the quota counters, and the user's attachment references.",
  },
  PendingDeliveries: {
    id: 'PendingDeliveries',
    envVar: 'PENDING_TABLE',
    partitionKey: { name: 'slot', type: 'S' },
    sortKey: { name: 'delivery_key', type: 'S' },
    ttlAttribute: 'expires_at',
    description:
      'Unacked deliveries, fan-outs in progress and token expiries, partitioned by minute so the sweeper reads only recent slots.',
  },
  RateLimits: {
    id: 'RateLimits',
    envVar: 'RATE_LIMITS_TABLE',
    partitionKey: { name: 'bucket', type: 'S' },
    ttlAttribute: 'expires_at',
    description:
      'Fixed one-second windows per user: msg_data (TeamTalk MAX_MSG_CNT_PER_SECOND) and other writing requests.',
  },
  Presence: {
    id: 'Presence',
    envVar: 'PRESENCE_TABLE',
    partitionKey: { name: 'user_id', type: 'S' },
    description: "One item per user with the set of its connection ids: a group's connections are a few BatchGetItems.",
  },
  Groups: {
    id: 'Groups',
    envVar: 'GROUPS_TABLE',
    partitionKey: { name: 'group_id', type: 'S' },
    description: 'Groups: name and owner.',
  },
  GroupMembers: {
    id: 'GroupMembers',
    envVar: 'GROUP_MEMBERS_TABLE',
    partitionKey: { name: 'group_id', type: 'S' },
    sortKey: { name: 'user_id', type: 'S' },
    description: 'Members of each group: membership checks are one GetItem, the member list one Query.',
  },
  SentMessages: {
    id: 'SentMessages',
    envVar: 'SENT_MESSAGES_TABLE',
    partitionKey: { name: 'sender_key', type: 'S' },
    ttlAttribute: 'expires_at',
    description:
      'Idempotency: (sender, conversation, client_msg_id) → the msg_id and content hash it was numbered with, kept 48 h, so a resend is acked, not stored again.',
  },
  DeviceTokens: {
    id: 'DeviceTokens',
    envVar: 'DEVICE_TOKENS_TABLE',
    partitionKey: { name: 'user_id', type: 'S' },
    sortKey: { name: 'token_key', type: 'S' },
    description:
      "Push tokens (TeamTalk CID_LOGIN_REQ_DEVICETOKEN): one item per token under its user, and each token's owner, so a token belongs to one user.",
  },
  Blocks: {
    id: 'Blocks',
    envVar: 'BLOCKS_TABLE',
    partitionKey: { name: 'user_id', type: 'S' },
    sortKey: { name: 'entry', type: 'S' },
    description:
      "Blocks: the users a user blocks (block_list, the cap's counter) and, under the blocked user, who blocks it (one Query per group message flags the blockers' copies).",
  },
  Reports: {
    id: 'Reports',
    envVar: 'REPORTS_TABLE',
    partitionKey: { name: 'report_id', type: 'S' },
    description:
      'User reports of messages and users (docs/moderation.md): one item per reporter and target, with a snapshot of what was reported and its status.',
  },
  Accounts: {
    id: 'Accounts',
    envVar: 'ACCOUNTS_TABLE',
    partitionKey: { name: 'user_id', type: 'S' },
    description:
      'Account status: one item per suspended or deleted user (an active user has none), read by $connect to refuse them.',
  },
  PresenceWatchers: {
    id: 'PresenceWatchers',
    envVar: 'PRESENCE_WATCHERS_TABLE',
    partitionKey: { name: 'user_id', type: 'S' },
    sortKey: { name: 'watcher', type: 'S' },
    ttlAttribute: 'expires_at',
    description:
      "Presence subscriptions under the watched user (one Query finds whom a status change goes to) and each subscribing connection's list.",
  },
};

export const ALL_TABLES: readonly TableSpec[] = Object.values(TABLES);
