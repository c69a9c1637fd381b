import { LIMIT_DEFAULTS, MAX_FRAME_BYTES } from '../protocol/limits.js';
import { ConfigError } from './errors.js';
import { checkAllowlist } from './domain/web-push-endpoint.js';
import { TABLES, type TableId } from './store/schema.js';

/** Settings shared by the handlers, read once per Lambda instance from the environment. */
export interface Config {
  /** Physical table names by logical id. */
  readonly tables: Readonly<Record<TableId, string>>;
  /** How long a delivery waits for msg_data_ack before it is sent again (TeamTalk: 15 s). */
  readonly ackTimeoutMs: number;
  /** Deliveries of one message to one connection, first included, before the sweeper gives up. */
  readonly maxDeliveryAttempts: number;
  /** Largest msg_data in UTF-8 bytes (TeamTalk's varchar(4096)). */
  readonly maxMsgBytes: number;
  /** msg_data frames a user may send in one second, across its connections (TeamTalk MAX_MSG_CNT_PER_SECOND). */
  readonly rateLimitPerSecond: number;
  /** Other writing requests a user may make in one second (group and session changes, read acks, device tokens). */
  readonly writeRateLimitPerSecond: number;
  /** Requests that read (protocol/frames.ts READ_ACTIONS) a user may make in one second. */
  readonly readRateLimitPerSecond: number;
  /** Receivers of a user's msg_data in one second: one per single-chat message, the members but the sender per group message. */
  readonly memberDeliveriesPerSecond: number;
  /** Group members a user may add or remove in one minute, across its requests (each member costs writes). */
  readonly groupMemberChangesPerMinute: number;
  /** Open connections per user; a new one past it closes the oldest. */
  readonly maxConnectionsPerUser: number;
  /** Groups one user may own. */
  readonly maxGroupsOwned: number;
  /** Groups one user may be a member of. */
  readonly maxGroupsJoined: number;
  /** Push tokens one user keeps (newest first). */
  readonly maxDeviceTokensPerUser: number;
  /** How often the sweeper runs: on AWS the EventBridge rate, locally SWEEP_INTERVAL_MS. */
  readonly sweepIntervalMs: number;
  /** Partitions per minute slot of the pending-delivery table; more spreads write load, each adds sweep reads. */
  readonly pendingShards: number;
  /** @connections endpoint (https://{api}.execute-api.{region}.amazonaws.com/{stage}, or the local emulator). */
  readonly connectionsEndpoint: string;
  /** Most @connections posts (and per-item writes) in flight at once for one fan-out, notice or sweep. */
  readonly fanoutConcurrency: number;
  /** Most members a group may hold. */
  readonly maxGroupMembers: number;
  /** A 410 this soon after a connection started means it is still opening, not gone (see dropGoneConnection). */
  readonly connectingGraceMs: number;
  /** Days a message is kept (DynamoDB TTL); 0 keeps messages for ever. */
  readonly messageRetentionDays: number;
  /** EventBridge bus for undelivered-message events (offline push hook); empty: no events. */
  readonly eventBusName: string;
  /** Whether undelivered-message events carry msg_data (off by default: push providers see no content). */
  readonly pushIncludesBody: boolean;
  /** Tries of one push (first included) while its provider answers 429/5xx. */
  readonly pushMaxAttempts: number;
  /** Longest wait between tries of a push; a longer Retry-After gives the push up. */
  readonly pushMaxRetryWaitMs: number;
  /** A receiver gets at most one push per conversation in this window; the messages in between are collapsed. */
  readonly pushCollapseWindowMs: number;
  /** Receivers one sender's messages may push per minute (all conversations together). */
  readonly pushSenderBudgetPerMinute: number;
  /**
   * Web Push services allowed besides the browsers' (core/domain/web-push-endpoint.ts): host patterns, or in local mode
   * the fake's exact origin. Checked at registration and at send.
   */
  readonly webPushEndpointAllowlist: readonly string[];
  /** S3 bucket of pictures and voice notes; empty: attachments are off (requests and references refused). */
  readonly attachmentBucket: string;
  /** SQS FIFO queue of account deletion pages (the account and account-jobs functions); empty: none. */
  readonly deletionQueueUrl: string;
  /** Cognito user pool the stack owns, whose users a finished account deletion removes; empty: none to remove. */
  readonly userPoolId: string;
  /** SQS standard queue of presence checks (the connect function queues, presence-jobs reads); empty: none. */
  readonly presenceChecksQueueUrl: string;
  /** Seconds an offline check waits after a user's last connection closed: a reconnect sooner announces nothing. */
  readonly presenceHoldbackSeconds: number;
  /** Largest picture an upload URL is signed for, in bytes. */
  readonly maxImageBytes: number;
  /** Largest voice note an upload URL is signed for, in bytes. */
  readonly maxAudioBytes: number;
  /** Lifetime of the presigned upload and download URLs, in seconds. */
  readonly attachmentUrlTtlSeconds: number;
  /** Bytes of attachments one user may store (per quota period: for ever, or retention + 1 day). */
  readonly maxAttachmentBytesPerUser: number;
  /** Users one user may block (user_block past it: `limit_exceeded`). */
  readonly maxBlocksPerUser: number;
  /** Reports one user may file per UTC day. */
  readonly maxReportsPerDay: number;
  /** Seconds after create_time a sender may recall a message (msg_recall). */
  readonly recallWindowSeconds: number;
  /** Seconds after create_time a sender may edit a text message (msg_edit). */
  readonly editWindowSeconds: number;
  /** `typing`: a user's `start` in one conversation is forwarded at most once in this many ms. */
  readonly typingIntervalMs: number;
  /** Words a text message may not contain (case-insensitive, whole words; core/domain/content-filter.ts); empty: off. */
  readonly contentFilterWords: readonly string[];
  /** A team's own check of each message before it is stored (the `contentCheck` prop); undefined: none. */
  readonly contentCheck: ContentCheckSettings | undefined;
}

export interface ContentCheckSettings {
  /** The Lambda function's name or ARN. */
  readonly functionName: string;
  readonly timeoutMs: number;
  /** A failed, slow or unreadable check lets the message through (true) or refuses it (false). */
  readonly failOpen: boolean;
}

/** The content check's timeout when CONTENT_CHECK_TIMEOUT_MS is unset, and the most it may be (it holds the send). */
export const CONTENT_CHECK_TIMEOUT_MS = { default: 1_000, max: 5_000 } as const;

/** Names of the environment variables, shared with the stack and the local mode. */
export const ENV = {
  ackTimeoutMs: 'ACK_TIMEOUT_MS',
  maxDeliveryAttempts: 'MAX_DELIVERY_ATTEMPTS',
  maxMsgBytes: 'MAX_MSG_BYTES',
  rateLimitPerSecond: 'RATE_LIMIT_PER_SECOND',
  writeRateLimitPerSecond: 'WRITE_RATE_LIMIT_PER_SECOND',
  readRateLimitPerSecond: 'READ_RATE_LIMIT_PER_SECOND',
  memberDeliveriesPerSecond: 'MEMBER_DELIVERIES_PER_SECOND',
  groupMemberChangesPerMinute: 'GROUP_MEMBER_CHANGES_PER_MINUTE',
  maxConnectionsPerUser: 'MAX_CONNECTIONS_PER_USER',
  maxGroupsOwned: 'MAX_GROUPS_OWNED',
  maxGroupsJoined: 'MAX_GROUPS_JOINED',
  maxDeviceTokensPerUser: 'MAX_DEVICE_TOKENS_PER_USER',
  sweepIntervalMs: 'SWEEP_INTERVAL_MS',
  pendingShards: 'PENDING_SHARDS',
  connectionsEndpoint: 'CONNECTIONS_ENDPOINT',
  fanoutConcurrency: 'FANOUT_CONCURRENCY',
  maxGroupMembers: 'MAX_GROUP_MEMBERS',
  connectingGraceMs: 'CONNECTING_GRACE_MS',
  messageRetentionDays: 'MESSAGE_RETENTION_DAYS',
  eventBusName: 'EVENT_BUS_NAME',
  pushIncludesBody: 'PUSH_INCLUDES_BODY',
  pushMaxAttempts: 'PUSH_MAX_ATTEMPTS',
  pushMaxRetryWaitMs: 'PUSH_MAX_RETRY_WAIT_MS',
  webPushEndpointAllowlist: 'WEB_PUSH_ENDPOINT_ALLOWLIST',
  pushCollapseWindowMs: 'PUSH_COLLAPSE_WINDOW_MS',
  pushSenderBudgetPerMinute: 'PUSH_SENDER_BUDGET_PER_MINUTE',
  attachmentBucket: 'ATTACHMENT_BUCKET',
  deletionQueueUrl: 'DELETION_QUEUE_URL',
  userPoolId: 'USER_POOL_ID',
  presenceChecksQueueUrl: 'PRESENCE_CHECKS_QUEUE_URL',
  presenceHoldbackSeconds: 'PRESENCE_HOLDBACK_SECONDS',
  maxImageBytes: 'MAX_IMAGE_BYTES',
  maxAudioBytes: 'MAX_AUDIO_BYTES',
  attachmentUrlTtlSeconds: 'ATTACHMENT_URL_TTL_SECONDS',
  maxAttachmentBytesPerUser: 'MAX_ATTACHMENT_BYTES_PER_USER',
  maxBlocksPerUser: 'MAX_BLOCKS_PER_USER',
  maxReportsPerDay: 'MAX_REPORTS_PER_DAY',
  recallWindowSeconds: 'RECALL_WINDOW_SECONDS',
  editWindowSeconds: 'EDIT_WINDOW_SECONDS',
  typingIntervalMs: 'TYPING_INTERVAL_MS',
  contentFilterWords: 'CONTENT_FILTER_WORDS',
  contentCheckFunction: 'CONTENT_CHECK_FUNCTION',
  contentCheckTimeoutMs: 'CONTENT_CHECK_TIMEOUT_MS',
  contentCheckFailOpen: 'CONTENT_CHECK_FAIL_OPEN',
} as const;

export const DEFAULTS = {
  ackTimeoutMs: 15_000,
  maxDeliveryAttempts: 5,
  maxMsgBytes: LIMIT_DEFAULTS.maxMsgBytes,
  rateLimitPerSecond: LIMIT_DEFAULTS.rateLimitPerSecond,
  writeRateLimitPerSecond: LIMIT_DEFAULTS.writeRateLimitPerSecond,
  readRateLimitPerSecond: LIMIT_DEFAULTS.readRateLimitPerSecond,
  memberDeliveriesPerSecond: LIMIT_DEFAULTS.memberDeliveriesPerSecond,
  groupMemberChangesPerMinute: LIMIT_DEFAULTS.groupMemberChangesPerMinute,
  maxConnectionsPerUser: LIMIT_DEFAULTS.maxConnectionsPerUser,
  maxGroupsOwned: LIMIT_DEFAULTS.maxGroupsOwned,
  maxGroupsJoined: LIMIT_DEFAULTS.maxGroupsJoined,
  maxDeviceTokensPerUser: LIMIT_DEFAULTS.maxDeviceTokensPerUser,
  sweepIntervalMs: 60_000,
  pendingShards: 4,
  fanoutConcurrency: 16,
  maxGroupMembers: LIMIT_DEFAULTS.maxGroupMembers,
  connectingGraceMs: 10_000,
  messageRetentionDays: 0,
  pushMaxAttempts: 3,
  pushMaxRetryWaitMs: 10_000,
  pushCollapseWindowMs: 30_000,
  pushSenderBudgetPerMinute: 1_000,
  maxImageBytes: LIMIT_DEFAULTS.maxImageBytes,
  maxAudioBytes: LIMIT_DEFAULTS.maxAudioBytes,
  attachmentUrlTtlSeconds: 300,
  maxAttachmentBytesPerUser: LIMIT_DEFAULTS.maxAttachmentBytesPerUser,
  maxBlocksPerUser: LIMIT_DEFAULTS.maxBlocksPerUser,
  maxReportsPerDay: LIMIT_DEFAULTS.maxReportsPerDay,
  presenceHoldbackSeconds: 10,
  recallWindowSeconds: LIMIT_DEFAULTS.recallWindowSeconds,
  editWindowSeconds: LIMIT_DEFAULTS.editWindowSeconds,
  typingIntervalMs: LIMIT_DEFAULTS.typingIntervalMs,
} as const;

/** S3's largest single PUT (5 GiB): no upload URL can be signed for more. */
export const MAX_ATTACHMENT_BYTES_LIMIT = 5 * 1024 ** 3;

/** Longest URL lifetime: an hour, so that a URL never outlives the Lambda role's session credentials that signed it. */
export const MAX_ATTACHMENT_URL_TTL_SECONDS = 3600;

/**
 * The largest msg_data a frame can carry: JSON escapes a control character as six bytes (`\u0001`), and a msg_data
 * frame must fit API Gateway's 128 KB with its other fields.
 */
export const MAX_MSG_BYTES_LIMIT = Math.floor((MAX_FRAME_BYTES - 2048) / 6);

function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

/** The longest hold-back that still announces an offline within the contract's 15 s (a check takes well under 3 s). */
export const MAX_PRESENCE_HOLDBACK_SECONDS = 12;

/** A comma-separated list, each entry checked now (ConfigError at start rather than a refusal per push). */
function webPushAllowlist(raw: string | undefined): readonly string[] {
  const entries = (raw ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  checkAllowlist(entries);
  return entries;
}

/** CONTENT_FILTER_WORDS: words separated by newlines or commas, blanks dropped. */
function parseWordList(raw: string | undefined): readonly string[] {
  return (raw ?? '')
    .split(/[\n,]/)
    .map((w) => w.trim())
    .filter((w) => w !== '');
}

const positiveInt = (env: NodeJS.ProcessEnv, name: string, fallback: number) => integer(env, name, fallback, 1);

/** A full group must be reachable: its message takes maxGroupMembers − 1 member deliveries. */
function checkMemberDeliveries(memberDeliveriesPerSecond: number, maxGroupMembers: number): void {
  if (memberDeliveriesPerSecond < maxGroupMembers - 1) {
    throw new ConfigError(
      `${ENV.memberDeliveriesPerSecond} (${memberDeliveriesPerSecond}) must be at least ${ENV.maxGroupMembers} − 1 (${maxGroupMembers - 1}): a message to a full group takes that many`,
    );
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const tables = {} as Record<TableId, string>;
  for (const spec of Object.values(TABLES)) {
    tables[spec.id] = env[spec.envVar] ?? spec.id;
  }
  const config = readConfig(env, tables);
  checkMemberDeliveries(config.memberDeliveriesPerSecond, config.maxGroupMembers);
  return config;
}

function readConfig(env: NodeJS.ProcessEnv, tables: Record<TableId, string>): Config {
  return {
    tables,
    ackTimeoutMs: positiveInt(env, ENV.ackTimeoutMs, DEFAULTS.ackTimeoutMs),
    maxDeliveryAttempts: positiveInt(env, ENV.maxDeliveryAttempts, DEFAULTS.maxDeliveryAttempts),
    maxMsgBytes: integer(env, ENV.maxMsgBytes, DEFAULTS.maxMsgBytes, 1, MAX_MSG_BYTES_LIMIT),
    rateLimitPerSecond: positiveInt(env, ENV.rateLimitPerSecond, DEFAULTS.rateLimitPerSecond),
    writeRateLimitPerSecond: positiveInt(env, ENV.writeRateLimitPerSecond, DEFAULTS.writeRateLimitPerSecond),
    readRateLimitPerSecond: positiveInt(env, ENV.readRateLimitPerSecond, DEFAULTS.readRateLimitPerSecond),
    memberDeliveriesPerSecond: positiveInt(env, ENV.memberDeliveriesPerSecond, DEFAULTS.memberDeliveriesPerSecond),
    groupMemberChangesPerMinute: positiveInt(
      env,
      ENV.groupMemberChangesPerMinute,
      DEFAULTS.groupMemberChangesPerMinute,
    ),
    maxConnectionsPerUser: positiveInt(env, ENV.maxConnectionsPerUser, DEFAULTS.maxConnectionsPerUser),
    maxGroupsOwned: positiveInt(env, ENV.maxGroupsOwned, DEFAULTS.maxGroupsOwned),
    maxGroupsJoined: positiveInt(env, ENV.maxGroupsJoined, DEFAULTS.maxGroupsJoined),
    maxDeviceTokensPerUser: positiveInt(env, ENV.maxDeviceTokensPerUser, DEFAULTS.maxDeviceTokensPerUser),
    sweepIntervalMs: positiveInt(env, ENV.sweepIntervalMs, DEFAULTS.sweepIntervalMs),
    pendingShards: positiveInt(env, ENV.pendingShards, DEFAULTS.pendingShards),
    connectionsEndpoint: env[ENV.connectionsEndpoint] ?? '',
    fanoutConcurrency: positiveInt(env, ENV.fanoutConcurrency, DEFAULTS.fanoutConcurrency),
    maxGroupMembers: positiveInt(env, ENV.maxGroupMembers, DEFAULTS.maxGroupMembers),
    connectingGraceMs: integer(env, ENV.connectingGraceMs, DEFAULTS.connectingGraceMs, 0),
    messageRetentionDays: integer(env, ENV.messageRetentionDays, DEFAULTS.messageRetentionDays, 0),
    eventBusName: env[ENV.eventBusName] ?? '',
    pushIncludesBody: env[ENV.pushIncludesBody] === 'true',
    pushMaxAttempts: integer(env, ENV.pushMaxAttempts, DEFAULTS.pushMaxAttempts, 1, 10),
    pushMaxRetryWaitMs: integer(env, ENV.pushMaxRetryWaitMs, DEFAULTS.pushMaxRetryWaitMs, 0, 60_000),
    webPushEndpointAllowlist: webPushAllowlist(env[ENV.webPushEndpointAllowlist]),
    pushCollapseWindowMs: integer(env, ENV.pushCollapseWindowMs, DEFAULTS.pushCollapseWindowMs, 0, 3_600_000),
    pushSenderBudgetPerMinute: positiveInt(env, ENV.pushSenderBudgetPerMinute, DEFAULTS.pushSenderBudgetPerMinute),
    attachmentBucket: env[ENV.attachmentBucket] ?? '',
    deletionQueueUrl: env[ENV.deletionQueueUrl] ?? '',
    userPoolId: env[ENV.userPoolId] ?? '',
    presenceChecksQueueUrl: env[ENV.presenceChecksQueueUrl] ?? '',
    presenceHoldbackSeconds: integer(
      env,
      ENV.presenceHoldbackSeconds,
      DEFAULTS.presenceHoldbackSeconds,
      0,
      MAX_PRESENCE_HOLDBACK_SECONDS,
    ),
    maxImageBytes: integer(env, ENV.maxImageBytes, DEFAULTS.maxImageBytes, 1, MAX_ATTACHMENT_BYTES_LIMIT),
    maxAudioBytes: integer(env, ENV.maxAudioBytes, DEFAULTS.maxAudioBytes, 1, MAX_ATTACHMENT_BYTES_LIMIT),
    attachmentUrlTtlSeconds: integer(
      env,
      ENV.attachmentUrlTtlSeconds,
      DEFAULTS.attachmentUrlTtlSeconds,
      1,
      MAX_ATTACHMENT_URL_TTL_SECONDS,
    ),
    maxAttachmentBytesPerUser: positiveInt(env, ENV.maxAttachmentBytesPerUser, DEFAULTS.maxAttachmentBytesPerUser),
    maxBlocksPerUser: positiveInt(env, ENV.maxBlocksPerUser, DEFAULTS.maxBlocksPerUser),
    maxReportsPerDay: positiveInt(env, ENV.maxReportsPerDay, DEFAULTS.maxReportsPerDay),
    recallWindowSeconds: integer(env, ENV.recallWindowSeconds, DEFAULTS.recallWindowSeconds, 1),
    editWindowSeconds: integer(env, ENV.editWindowSeconds, DEFAULTS.editWindowSeconds, 1),
    typingIntervalMs: integer(env, ENV.typingIntervalMs, DEFAULTS.typingIntervalMs, 100, 60_000),
    contentFilterWords: parseWordList(env[ENV.contentFilterWords]),
    contentCheck: env[ENV.contentCheckFunction]
      ? {
          functionName: env[ENV.contentCheckFunction]!,
          timeoutMs: integer(
            env,
            ENV.contentCheckTimeoutMs,
            CONTENT_CHECK_TIMEOUT_MS.default,
            100,
            CONTENT_CHECK_TIMEOUT_MS.max,
          ),
          failOpen: env[ENV.contentCheckFailOpen] !== 'false',
        }
      : undefined,
  };
}
