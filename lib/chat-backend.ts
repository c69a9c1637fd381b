/**
 * ChatBackend: TeamTalk's IM message path on API Gateway WebSocket + Lambda + DynamoDB, as one L3 construct composed
 * of one sub-construct per concept: ChatTables, ChatIdentity, ChatWebSocketApi, ChatFunctions, ChatSweeper and
 * ChatMonitoring. Tables come from core/store/schema.ts, function specs from lib/function-specs.ts, env var names
 * and defaults from core/config.ts and core/auth/verify-token.ts, and IAM access from lib/grants.ts, so nothing
 * here repeats a key name or a grant.
 */
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  CONTENT_CHECK_TIMEOUT_MS,
  DEFAULTS,
  ENV,
  MAX_ATTACHMENT_BYTES_LIMIT,
  MAX_ATTACHMENT_URL_TTL_SECONDS,
  MAX_PRESENCE_HOLDBACK_SECONDS,
  MAX_MSG_BYTES_LIMIT,
} from '../core/config.js';
import { isWebPushHostPattern } from '../core/domain/web-push-endpoint.js';
import type { TableId } from '../core/store/schema.js';
import type { ApiGatewayLogsRoleMode } from './api-gateway-logs-role.js';
import { ChatFunctions, LOG_LEVELS, type ChatLogLevel, type TokenIssuerSettings } from './functions.js';
import { FUNCTION_IDS, type FunctionId } from './grants.js';
import { ChatIdentity, type ChatBackendAuth } from './identity.js';
import { ChatAttachments } from './attachments.js';
import { nameInstance } from './instance-names.js';
import {
  allowCloudWatchAlarms,
  ChatAlarmTopic,
  ChatMonitoring,
  MONITORING_LEVELS,
  resolveAlarmThresholds,
  type AlarmThresholds,
  type MonitoringLevel,
} from './monitoring.js';
import { AccountDeletionQueue } from './account-jobs.js';
import { PresenceChecksQueue } from './presence-jobs.js';
import { PushNotifications, type ChatPushProps } from './push-notifications.js';
import { ChatExportJobs } from './exports.js';
import { ChatSweeper, sweepIntervalMinutes } from './sweeper.js';
import { ChatTables } from './tables.js';
import { ChatWebSocketApi, DEFAULT_STAGE_THROTTLE } from './websocket-api.js';
import { ConfigError } from '../core/errors.js';

export type { AlarmThresholds, MonitoringLevel } from './monitoring.js';
export type { ApnsPushProps, ChatPushProps, FcmPushProps, WebPushProps } from './push-notifications.js';
export type { ChatBackendAuth, ExistingUserPoolAuthProps, OidcAuthProps } from './identity.js';
export { LAMBDA_RUNTIME } from './bundling.js';
export type { ChatLogLevel } from './functions.js';
export type { ApiGatewayLogsRoleMode } from './api-gateway-logs-role.js';

/** Properties of {@link ChatBackend}; all optional. */
export interface ChatBackendProps {
  /**
   * Who issues the connection tokens (`?token=<jwt>`, `sub` = user id).
   * @default - a Cognito user pool and app client are created; issuer
   *   `https://cognito-idp.<region>.amazonaws.com/<poolId>`, audience = the client id
   */
  readonly auth?: ChatBackendAuth;
  /** How far ahead of the authorizer's clock a token's `iat` and `nbf` may be (whole seconds). @default Duration.seconds(60) */
  readonly tokenClockSkew?: Duration;
  /** Oldest token (by `iat`) the authorizer accepts, whatever its `exp` (whole seconds). @default - no maximum: `exp` alone bounds a token */
  readonly maxTokenAge?: Duration;
  /** Removal policy of the tables, the user pool, the log groups and the alarm topic's key. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Deletion protection of the tables (DeletionProtectionEnabled), the created user pool (DeletionProtection ACTIVE)
   * and the attachment bucket (a bucket-policy Deny of s3:DeleteBucket): refused deletes by hand, by a mistaken stack
   * change or by CloudFormation. RETAIN covers only the stack's deletion; this covers the rest.
   * @default - true with RemovalPolicy.RETAIN, false otherwise (a DESTROY stack must be deletable)
   */
  readonly deletionProtection?: boolean;
  /**
   * How the created user pool sends its mail (invitations, password resets), e.g.
   * `cognito.UserPoolEmail.withSES({ fromEmail: 'no-reply@example.com', sesRegion: 'eu-west-1' })`. Cognito's own
   * sender has a low daily quota meant for testing; production sign-up and recovery mail needs SES.
   * @default - Cognito's own sender
   */
  readonly userPoolEmail?: cognito.UserPoolEmail;
  /**
   * OAuth of the created app client (hosted UI, authorization code flow, callback URLs).
   * @default - OAuth disabled: apps sign in through the Cognito API (SRP)
   */
  readonly userPoolOAuth?: cognito.OAuthSettings;
  /**
   * A second app client of the created user pool that allows USER_PASSWORD_AUTH, for `npm run smoke` and the CLI
   * sign-in of docs/deploy.md (the apps' client allows SRP only). Its tokens connect like the apps'; remove it when
   * the check is done.
   * @default false
   */
  readonly smokeTestClient?: boolean;
  /** How long a delivery waits for msg_data_ack before it is sent again. @default Duration.seconds(15) */
  readonly ackTimeout?: Duration;
  /** Deliveries of one message to one connection, the first included. @default 5 */
  readonly maxDeliveryAttempts?: number;
  /** Largest msg_data in UTF-8 bytes. @default 4096 */
  readonly maxMessageBytes?: number;
  /** msg_data frames one user may send per second, across all of its connections. @default 20 */
  readonly rateLimitPerSecond?: number;
  /** Other writing requests (group and session changes, read acks, device tokens) one user may make per second. @default 10 */
  readonly writeRateLimitPerSecond?: number;
  /** Requests that read (history, sessions, groups, attachment URLs) one user may make per second. @default 20 */
  readonly readRateLimitPerSecond?: number;
  /**
   * Receivers of one user's msg_data per second: one per single-chat message, the members but the sender per group
   * message. At least `maxGroupMembers` − 1. @default 1000
   */
  readonly memberDeliveriesPerSecond?: number;
  /** Group members one user may add or remove per minute, across its requests. @default 1000 */
  readonly groupMemberChangesPerMinute?: number;
  /** Open connections per user; a new one past it closes the oldest (`kick`, `too_many_connections`). @default 10 */
  readonly maxConnectionsPerUser?: number;
  /** Groups one user may own. @default 100 */
  readonly maxGroupsOwned?: number;
  /** Groups one user may be a member of. @default 500 */
  readonly maxGroupsJoined?: number;
  /** Push tokens one user keeps; registering another drops the oldest. @default 10 */
  readonly maxDeviceTokensPerUser?: number;
  /** Users one user may block (`user_block` past it: `limit_exceeded`; MAX_BLOCKS_PER_USER). @default 1000 */
  readonly maxBlocksPerUser?: number;
  /**
   * How long an offline is held back after a user's last connection closed (PRESENCE_HOLDBACK_SECONDS): a reconnect
   * sooner announces nothing. Whole seconds, at most 12 (the contract announces a change within 15 s).
   * @default Duration.seconds(10)
   */
  readonly presenceHoldback?: Duration;
  /** Seconds after create_time a sender may recall a message (`msg_recall`; RECALL_WINDOW_SECONDS). @default 120 */
  readonly recallWindowSeconds?: number;
  /** Seconds after create_time a sender may edit a text message (`msg_edit`; EDIT_WINDOW_SECONDS). @default 900 */
  readonly editWindowSeconds?: number;
  /**
   * `typing`: a user's `start` in one conversation is forwarded at most once in this many ms, and one `stop` after it
   * (TYPING_INTERVAL_MS; 100–60,000). @default 3000
   */
  readonly typingIntervalMs?: number;
  /** Partitions per minute slot of the PendingDeliveries table (docs/capacity.md row 2). @default 4 */
  readonly pendingShards?: number;
  /** Most members a group may hold (MAX_GROUP_MEMBERS). @default 1000 */
  readonly maxGroupMembers?: number;
  /**
   * How long messages are kept: whole days, set as each new message's TTL (MESSAGE_RETENTION_DAYS). Messages stored
   * before a retention was set keep no TTL.
   * @default - messages are kept for ever
   */
  readonly messageRetention?: Duration;
  /** WebSocket stage name. @default 'prod' */
  readonly stageName?: string;
  /** How often the sweeper redelivers unacked messages; whole minutes, at least one. @default Duration.minutes(1) */
  readonly sweepInterval?: Duration;
  /**
   * Default route throttling of the stage (steady requests per second and burst), shared by every client: the cap
   * on what all users together can cost (README "What one user can cost"; per-user rates sit far below it), and the
   * first ceiling of the defaults: a one-to-one message is two inbound frames, so ≈ 500 messages a second
   * (docs/capacity.md). API Gateway's account quota (10,000 a second) bounds it in turn.
   * @default { rateLimit: 1000, burstLimit: 2000 }
   */
  readonly throttle?: apigwv2.ThrottleSettings;
  /**
   * Reserved concurrency per function (e.g. `{ send: 50 }`): a floor for that function and a ceiling on it. Opt-in
   * only: it takes from the account's regional pool (1,000 by default, far less in a new account), which every other
   * function shares; synth refuses a sum that leaves fewer than 100 unreserved (see `accountConcurrencyLimit`).
   * @default - none (functions use the account's unreserved pool)
   */
  readonly reservedConcurrency?: Partial<Readonly<Record<FunctionId, number>>>;
  /**
   * The account's Lambda concurrency quota in this region (`aws lambda get-account-settings`:
   * AccountLimit.ConcurrentExecutions). Synth refuses a `reservedConcurrency` whose sum leaves Lambda fewer than the
   * 100 unreserved executions it keeps; new accounts start with a quota far below the default.
   * @default 1000
   */
  readonly accountConcurrencyLimit?: number;
  /** Log retention of the function and access log groups. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Level of the handlers' logs: each function's application log level (Lambda JSON logging), which Powertools obeys;
   * the platform START/END/REPORT lines stay (system log level INFO).
   * @default 'INFO'
   */
  readonly logLevel?: ChatLogLevel;
  /** Active X-Ray tracing on every function. @default false */
  readonly tracing?: boolean;
  /**
   * Node applies the bundles' source maps to stack traces (`NODE_OPTIONS=--enable-source-maps`): readable traces in
   * the logs, at ≈ 20–30 ms more init per cold start (docs/benchmarks.md). The maps ship with the code either way.
   * @default false
   */
  readonly sourceMaps?: boolean;
  /**
   * Bus of the offline push hook: send and sweeper put a `Message Undelivered` event (source `teamtalk-serverless`,
   * core/domain/push.ts) there for every message a receiver could not get live, devices its `Device Token Challenge`
   * events, and the push sender's rule reads them.
   * Give each ChatBackend its own bus: a rule matches by source and detail-type, so two backends on one bus consume
   * each other's events (docs/deploy.md §5).
   * @default - a bus of this construct's own
   */
  readonly eventBus?: events.IEventBus;
  /** Whether the push events carry the message body (`msg_data`); off, push providers see no content. @default false */
  readonly pushIncludesBody?: boolean;
  /**
   * Push notifications for offline receivers through FCM, APNs and Web Push (lib/push-notifications.ts): a rule on
   * the push-hook bus, a queue with a DLQ and a sender function; credentials from Secrets Manager.
   * @default - no pushes are sent (the events are still published for a sender of your own)
   */
  readonly push?: ChatPushProps;
  /**
   * Alarms notify this topic (ALARM and OK). A topic of this app gets a policy statement letting this account's
   * CloudWatch alarms publish; an imported topic's policy must allow `cloudwatch.amazonaws.com` `sns:Publish` itself.
   * @default - no notification (alarms still show on the dashboard)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Creates a KMS-encrypted topic with an email subscription for the alarms (or, with `alarmTopic`, subscribes the
   * address to that topic). The address must confirm the subscription.
   * @default - no email
   */
  readonly alarmEmail?: string;
  /** When the alarms fire. @default - see AlarmThresholds (5 Lambda errors or throttles / 5 min, 5 WebSocket errors / 5 min, 10 throttle events / 5 min per table, 10 give-ups / 15 min, push queue age 300 s) */
  readonly alarmThresholds?: AlarmThresholds;
  /**
   * `'full'`: every alarm (per table throttles too) and the dashboard; `'minimal'`: the alarms that say messages are
   * failing or waiting, no dashboard, for a small team's bill (docs/deploy.md "Fixed monthly cost").
   * @default 'full'
   */
  readonly monitoring?: MonitoringLevel;
  /**
   * The handlers' service name: the `service` field of their logs and the `service` dimension of their metrics,
   * which the dashboard and alarms read. Two backends in one account and region need different names.
   * @default - the stack name for the stack's first ChatBackend, `<stack name>-<path in the stack>` for the others
   */
  readonly serviceName?: string;
  /**
   * Name of the CloudWatch dashboard (names are unique per account).
   * @default - `<stack name>-<region>` for the stack's first ChatBackend, `<stack name>-<path in the stack>-<region>` for the others
   */
  readonly dashboardName?: string;
  /**
   * The region's API Gateway CloudWatch Logs role, which WebSocket access logging needs. It is one setting per
   * account and region, shared by every API there: `'ifMissing'` sets the stack's role at deploy time only where
   * none is set (and deletes that role with the stack only if the region no longer uses it); `'overwrite'` replaces
   * the region's setting (AWS::ApiGateway::Account); `'leave'` touches nothing (the account must have a role).
   * @default 'ifMissing'
   */
  readonly apiGatewayLogsRole?: ApiGatewayLogsRoleMode;
  /** Largest picture `attachment_upload` signs an upload for, in bytes (MAX_IMAGE_BYTES). @default 10485760 (10 MiB) */
  readonly maxImageBytes?: number;
  /** Largest voice note `attachment_upload` signs an upload for, in bytes (MAX_AUDIO_BYTES). @default 2097152 (2 MiB) */
  readonly maxAudioBytes?: number;
  /**
   * Bytes of attachments one user may store (MAX_ATTACHMENT_BYTES_PER_USER): for ever, or with `messageRetention` per
   * retention + 1 day. A message past it is refused `limit_exceeded`. @default 10737418240 (10 GiB)
   */
  readonly maxAttachmentBytesPerUser?: number;
  /** Lifetime of the presigned upload and download URLs, at most an hour (ATTACHMENT_URL_TTL_SECONDS). @default Duration.seconds(300) */
  readonly attachmentUrlTtl?: Duration;
  /** Origins browsers may upload attachments from (the bucket's CORS); the signed URLs are what grant access. @default ['*'] */
  readonly attachmentCorsOrigins?: readonly string[];
  /** Reports one user may file per UTC day (MAX_REPORTS_PER_DAY; docs/moderation.md). @default 20 */
  readonly maxReportsPerDay?: number;
  /**
   * Words a text message may not contain (CONTENT_FILTER_WORDS): case-insensitive, whole words; a message with one is
   * refused `content_rejected` and not stored (docs/moderation.md "Content filter"). @default - no filter
   */
  readonly contentFilterWords?: readonly string[];
  /**
   * A team's own check of every message before it is counted or stored: the send function invokes this Lambda
   * function synchronously with `{from_user_id, to_session_id, msg_type, msg_data}` and refuses the message
   * `content_rejected` when it answers `{"allow": false}` (docs/moderation.md "Content filter"). @default - no check
   */
  readonly contentCheck?: ContentCheckProps;
}

/** The team's content check function and how a send waits for it. */
export interface ContentCheckProps {
  /** Answers `{"allow": true|false}`; the send function alone is granted lambda:InvokeFunction on it. */
  readonly function: lambda.IFunction;
  /** How long a send waits for the answer, 100 ms to 5 s (CONTENT_CHECK_TIMEOUT_MS). @default Duration.seconds(1) */
  readonly timeout?: Duration;
  /**
   * What a failed, slow or unreadable check does: true lets the message through (chat stays up while the check is
   * down), false refuses it `content_rejected` (CONTENT_CHECK_FAIL_OPEN). @default true
   */
  readonly failOpen?: boolean;
}

/** A retention in whole days (DynamoDB TTL granularity of the handlers). */
function wholeDays(retention: Duration): number {
  const days = retention.toDays({ integral: false });
  if (!Number.isInteger(days) || days <= 0)
    throw new ConfigError(
      `ChatBackend: messageRetention must be a whole number of days, at least one, got ${retention.toHumanString()}`,
    );
  return days;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new ConfigError(`ChatBackend: ${name} must be a positive integer, got ${value}`);
  return value;
}

/** msg_data must fit a 128 KB frame JSON-escaped (core/config.ts MAX_MSG_BYTES_LIMIT). */
function maxMessageBytes(value: number): number {
  positiveInteger('maxMessageBytes', value);
  if (value > MAX_MSG_BYTES_LIMIT)
    throw new ConfigError(
      `ChatBackend: maxMessageBytes must be at most ${MAX_MSG_BYTES_LIMIT} (a message must fit one 128 KB frame), got ${value}`,
    );
  return value;
}

/** A message to a full group must fit the member-delivery budget (core/config.ts checks the same at run time). */
function memberDeliveries(props: ChatBackendProps): number {
  const value = positiveInteger(
    'memberDeliveriesPerSecond',
    props.memberDeliveriesPerSecond ?? DEFAULTS.memberDeliveriesPerSecond,
  );
  const maxGroupMembers = props.maxGroupMembers ?? DEFAULTS.maxGroupMembers;
  if (value < maxGroupMembers - 1)
    throw new ConfigError(
      `ChatBackend: memberDeliveriesPerSecond must be at least maxGroupMembers − 1 (${maxGroupMembers - 1}): a message to a full group takes that many, got ${value}`,
    );
  return value;
}

/** Handler settings (core/config.ts env vars) from the props, with core/config.ts's defaults. */
function handlerSettings(props: ChatBackendProps): Record<string, string> {
  const ackTimeout = props.ackTimeout ?? Duration.millis(DEFAULTS.ackTimeoutMs);
  return {
    [ENV.ackTimeoutMs]: String(positiveInteger('ackTimeout', ackTimeout.toMilliseconds())),
    [ENV.maxDeliveryAttempts]: String(
      positiveInteger('maxDeliveryAttempts', props.maxDeliveryAttempts ?? DEFAULTS.maxDeliveryAttempts),
    ),
    [ENV.maxMsgBytes]: String(maxMessageBytes(props.maxMessageBytes ?? DEFAULTS.maxMsgBytes)),
    [ENV.rateLimitPerSecond]: String(
      positiveInteger('rateLimitPerSecond', props.rateLimitPerSecond ?? DEFAULTS.rateLimitPerSecond),
    ),
    [ENV.pendingShards]: String(positiveInteger('pendingShards', props.pendingShards ?? DEFAULTS.pendingShards)),
    [ENV.fanoutConcurrency]: String(DEFAULTS.fanoutConcurrency),
    [ENV.maxGroupMembers]: String(
      positiveInteger('maxGroupMembers', props.maxGroupMembers ?? DEFAULTS.maxGroupMembers),
    ),
    [ENV.writeRateLimitPerSecond]: String(
      positiveInteger('writeRateLimitPerSecond', props.writeRateLimitPerSecond ?? DEFAULTS.writeRateLimitPerSecond),
    ),
    [ENV.readRateLimitPerSecond]: String(
      positiveInteger('readRateLimitPerSecond', props.readRateLimitPerSecond ?? DEFAULTS.readRateLimitPerSecond),
    ),
    [ENV.memberDeliveriesPerSecond]: String(memberDeliveries(props)),
    [ENV.groupMemberChangesPerMinute]: String(
      positiveInteger(
        'groupMemberChangesPerMinute',
        props.groupMemberChangesPerMinute ?? DEFAULTS.groupMemberChangesPerMinute,
      ),
    ),
    [ENV.maxConnectionsPerUser]: String(
      positiveInteger('maxConnectionsPerUser', props.maxConnectionsPerUser ?? DEFAULTS.maxConnectionsPerUser),
    ),
    [ENV.maxGroupsOwned]: String(positiveInteger('maxGroupsOwned', props.maxGroupsOwned ?? DEFAULTS.maxGroupsOwned)),
    [ENV.maxGroupsJoined]: String(
      positiveInteger('maxGroupsJoined', props.maxGroupsJoined ?? DEFAULTS.maxGroupsJoined),
    ),
    [ENV.maxDeviceTokensPerUser]: String(
      positiveInteger('maxDeviceTokensPerUser', props.maxDeviceTokensPerUser ?? DEFAULTS.maxDeviceTokensPerUser),
    ),
    [ENV.maxBlocksPerUser]: String(
      positiveInteger('maxBlocksPerUser', props.maxBlocksPerUser ?? DEFAULTS.maxBlocksPerUser),
    ),
    [ENV.recallWindowSeconds]: String(
      positiveInteger('recallWindowSeconds', props.recallWindowSeconds ?? DEFAULTS.recallWindowSeconds),
    ),
    [ENV.editWindowSeconds]: String(
      positiveInteger('editWindowSeconds', props.editWindowSeconds ?? DEFAULTS.editWindowSeconds),
    ),
    ...attachmentSettings(props),
    ...webPushAllowlist(props.push?.webPush?.endpointHosts ?? []),
    [ENV.maxReportsPerDay]: String(
      positiveInteger('maxReportsPerDay', props.maxReportsPerDay ?? DEFAULTS.maxReportsPerDay),
    ),
    ...contentFilter(props.contentFilterWords ?? []),
    [ENV.presenceHoldbackSeconds]: String(presenceHoldbackSeconds(props)),
    [ENV.typingIntervalMs]: String(typingInterval(props.typingIntervalMs ?? DEFAULTS.typingIntervalMs)),
  };
}

/** TYPING_INTERVAL_MS as core/config.ts reads it: refused at synth rather than at the function's first start. */
function typingInterval(ms: number): number {
  if (!Number.isInteger(ms) || ms < 100 || ms > 60_000)
    throw new ConfigError(`ChatBackend: typingIntervalMs must be an integer from 100 to 60000, got ${ms}`);
  return ms;
}

function presenceHoldbackSeconds(props: ChatBackendProps): number {
  const seconds = (props.presenceHoldback ?? Duration.seconds(DEFAULTS.presenceHoldbackSeconds)).toSeconds();
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_PRESENCE_HOLDBACK_SECONDS) {
    throw new ConfigError(
      `ChatBackend: presenceHoldback must be whole seconds from 0 to ${MAX_PRESENCE_HOLDBACK_SECONDS}, got ${seconds}`,
    );
  }
  return seconds;
}

/** Push service hosts added to the browsers' (registration and the sender check endpoints against them). */
function webPushAllowlist(hosts: readonly string[]): Record<string, string> {
  const bad = hosts.find((h) => !isWebPushHostPattern(h));
  if (bad !== undefined)
    throw new ConfigError(
      `ChatBackend: push.webPush.endpointHosts entries must be host names (push.example.com, *.example.com), got "${bad}"`,
    );
  return hosts.length === 0 ? {} : { [ENV.webPushEndpointAllowlist]: hosts.join(',') };
}

/** The send function's settings for the team's check, and its permission to invoke exactly that function. */
function wireContentCheck(send: NodejsFunction, check: ContentCheckProps): void {
  const timeoutMs = (check.timeout ?? Duration.seconds(1)).toMilliseconds();
  if (timeoutMs < 100 || timeoutMs > CONTENT_CHECK_TIMEOUT_MS.max)
    throw new ConfigError(`ChatBackend: contentCheck.timeout must be 100 ms to 5 s, got ${timeoutMs} ms`);
  send.addEnvironment(ENV.contentCheckFunction, check.function.functionArn);
  send.addEnvironment(ENV.contentCheckTimeoutMs, String(timeoutMs));
  send.addEnvironment(ENV.contentCheckFailOpen, String(check.failOpen ?? true));
  send.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [check.function.functionArn] }),
  );
}

/** CONTENT_FILTER_WORDS, only when a word is given (a comma or newline would split a word: refused). */
function contentFilter(words: readonly string[]): Record<string, string> {
  for (const word of words) {
    if (word.trim() === '' || /[,\n]/.test(word))
      throw new ConfigError(
        `ChatBackend: contentFilterWords entries must be non-empty without commas or newlines, got "${word}"`,
      );
  }
  return words.length === 0 ? {} : { [ENV.contentFilterWords]: words.join(',') };
}

/** The attachment limits (core/config.ts bounds them the same way at run time). */
function attachmentSettings(props: ChatBackendProps): Record<string, string> {
  const bytes = (name: string, value: number) => {
    positiveInteger(name, value);
    if (value > MAX_ATTACHMENT_BYTES_LIMIT)
      throw new ConfigError(
        `ChatBackend: ${name} must be at most ${MAX_ATTACHMENT_BYTES_LIMIT} (S3's largest single PUT), got ${value}`,
      );
    return String(value);
  };
  const ttl = (props.attachmentUrlTtl ?? Duration.seconds(DEFAULTS.attachmentUrlTtlSeconds)).toSeconds();
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > MAX_ATTACHMENT_URL_TTL_SECONDS) {
    throw new ConfigError(
      `ChatBackend: attachmentUrlTtl must be whole seconds from 1 to ${MAX_ATTACHMENT_URL_TTL_SECONDS}, got ${ttl}`,
    );
  }
  return {
    [ENV.maxImageBytes]: bytes('maxImageBytes', props.maxImageBytes ?? DEFAULTS.maxImageBytes),
    [ENV.maxAudioBytes]: bytes('maxAudioBytes', props.maxAudioBytes ?? DEFAULTS.maxAudioBytes),
    [ENV.attachmentUrlTtlSeconds]: String(ttl),
    [ENV.maxAttachmentBytesPerUser]: String(
      positiveInteger(
        'maxAttachmentBytesPerUser',
        props.maxAttachmentBytesPerUser ?? DEFAULTS.maxAttachmentBytesPerUser,
      ),
    ),
  };
}

/** The authorizer's token-time settings (JWT_CLOCK_SKEW_SECONDS, JWT_MAX_TOKEN_AGE_SECONDS), in whole seconds. */
function tokenTimes(props: ChatBackendProps): Pick<TokenIssuerSettings, 'clockSkewSeconds' | 'maxTokenAgeSeconds'> {
  const times: { clockSkewSeconds?: number; maxTokenAgeSeconds?: number } = {};
  for (const [name, field, value] of [
    ['tokenClockSkew', 'clockSkewSeconds', props.tokenClockSkew],
    ['maxTokenAge', 'maxTokenAgeSeconds', props.maxTokenAge],
  ] as const) {
    if (value === undefined) continue;
    const seconds = value.toSeconds({ integral: false });
    if (!Number.isInteger(seconds) || seconds < 0)
      throw new ConfigError(`ChatBackend: ${name} must be whole seconds, got ${value.toHumanString()}`);
    times[field] = seconds;
  }
  return times;
}

/** Refuses bad props before any resource is created. */
function validate(props: ChatBackendProps): void {
  const logLevel = props.logLevel ?? 'INFO';
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError(`ChatBackend: logLevel must be one of ${LOG_LEVELS.join(', ')}, got ${String(logLevel)}`);
  if (
    props.alarmEmail !== undefined &&
    !Token.isUnresolved(props.alarmEmail) &&
    !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.alarmEmail)
  ) {
    throw new ConfigError(`ChatBackend: alarmEmail must be an email address, got "${props.alarmEmail}"`);
  }
  resolveAlarmThresholds(props.alarmThresholds);
  if (
    props.serviceName !== undefined &&
    !Token.isUnresolved(props.serviceName) &&
    !/^[\w.@/-]{1,250}$/.test(props.serviceName)
  ) {
    throw new ConfigError(
      `ChatBackend: serviceName must be 1-250 characters of A-Za-z0-9_.@/-, got "${props.serviceName}"`,
    );
  }
  sweepIntervalMinutes(props.sweepInterval ?? Duration.millis(DEFAULTS.sweepIntervalMs));
  if (props.messageRetention) wholeDays(props.messageRetention);
  reservedConcurrency(props);
  if (props.monitoring !== undefined && !MONITORING_LEVELS.includes(props.monitoring)) {
    throw new ConfigError(
      `ChatBackend: monitoring must be one of ${MONITORING_LEVELS.join(', ')}, got ${String(props.monitoring)}`,
    );
  }
  handlerSettings(props);
  tokenTimes(props);
}

/** Lambda keeps this many executions of the account's quota unreserved: reservations past it are refused. */
export const LAMBDA_UNRESERVED_MINIMUM = 100;

/** The reservations, refused at synth when Lambda would refuse them at deploy (the account's quota less 100). */
function reservedConcurrency(props: ChatBackendProps): void {
  const quota = positiveInteger('accountConcurrencyLimit', props.accountConcurrencyLimit ?? 1000);
  let total = 0;
  for (const [fnId, value] of Object.entries(props.reservedConcurrency ?? {})) {
    if (!FUNCTION_IDS.includes(fnId as FunctionId))
      throw new ConfigError(
        `ChatBackend: reservedConcurrency has no function ${fnId} (functions: ${FUNCTION_IDS.join(', ')})`,
      );
    total += positiveInteger(`reservedConcurrency.${fnId}`, value);
  }
  if (total > quota - LAMBDA_UNRESERVED_MINIMUM) {
    throw new ConfigError(
      `ChatBackend: reservedConcurrency reserves ${total} executions, but an account quota of ${quota} (accountConcurrencyLimit) lets at most ${quota - LAMBDA_UNRESERVED_MINIMUM} be reserved: Lambda keeps ${LAMBDA_UNRESERVED_MINIMUM} unreserved. ` +
        'New accounts start with a lower quota: see `aws lambda get-account-settings`, ask for an increase (Service Quotas), or reserve less.',
    );
  }
}

export class ChatBackend extends Construct {
  public readonly webSocketApi: apigwv2.WebSocketApi;
  public readonly stage: apigwv2.WebSocketStage;
  /** DynamoDB tables by logical id (core/store/schema.ts). */
  public readonly tables: Readonly<Record<TableId, dynamodb.TableV2>>;
  /** Lambda functions by id (lib/grants.ts). */
  public readonly functions: Readonly<Record<FunctionId, NodejsFunction>>;
  /** The created user pool: only when `auth` is omitted. */
  public readonly userPool?: cognito.UserPool;
  /** Only when `auth` is omitted. */
  public readonly userPoolClient?: cognito.UserPoolClient;
  /** `wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}` */
  public readonly webSocketUrl: string;
  /** `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`: the @connections endpoint. */
  public readonly connectionsEndpoint: string;
  /** Token issuer the authorizer accepts. */
  public readonly issuer: string;
  /** Dead-letter queue of the sweeper's schedule (events EventBridge could not deliver). */
  public readonly sweeperDeadLetterQueue: sqs.Queue;
  /** Dead-letter queue of the sweeper function (asynchronous invocations that failed). */
  public readonly sweeperFunctionDeadLetterQueue: sqs.Queue;
  /** The account deletion jobs' FIFO queue (lib/account-jobs.ts): `npm run admin -- delete-user` queues to it. */
  public readonly accountDeletionQueue: sqs.Queue;
  /** The presence checks' queue (lib/presence-jobs.ts): $connect and $disconnect queue, presence-jobs reads. */
  public readonly presenceChecksQueue: sqs.Queue;
  /** Bus of the offline push hook (`Message Undelivered` and `Device Token Challenge` events). */
  public readonly eventBus: events.IEventBus;
  /** The push sender, its queue and DLQ, when `push` is set. */
  public readonly push?: PushNotifications;
  /** Where the alarms notify: `alarmTopic`, or the topic created for `alarmEmail`. */
  public readonly alarmTopic?: sns.ITopic;
  /** Lambda errors and throttles, WebSocket errors, DynamoDB throttles per table, delivery give-ups, dead-letter queue depths, push queue age. */
  public readonly alarms: readonly cloudwatch.Alarm[];
  /** The construct's CloudWatch dashboard: not with `monitoring: 'minimal'`. */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** The smoke run's app client: only with `smokeTestClient`. */
  public readonly smokeTestClient?: cognito.UserPoolClient;
  /** POWERTOOLS_SERVICE_NAME of the handlers and the `service` dimension of their metrics. */
  public readonly serviceName: string;
  /** Pictures and voice notes (lib/attachments.ts): private, reached only through URLs the stack signs. */
  public readonly attachmentBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ChatBackendProps = {}) {
    super(scope, id);
    validate(props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const deletionProtection = props.deletionProtection ?? removalPolicy === RemovalPolicy.RETAIN;
    const names = nameInstance(this, props);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const stageName = props.stageName ?? 'prod';
    const sweepInterval = props.sweepInterval ?? Duration.millis(DEFAULTS.sweepIntervalMs);
    const serviceName = (this.serviceName = names.serviceName);

    this.tables = new ChatTables(this, 'Tables', { removalPolicy, deletionProtection }).tables;
    const identity = this.identity(props, removalPolicy, deletionProtection);
    this.issuer = identity.issuer;
    this.userPool = identity.userPool;
    this.userPoolClient = identity.userPoolClient;
    this.smokeTestClient = identity.smokeTestClient;

    const api = new ChatWebSocketApi(this, 'WebSocket', {
      name: names.base,
      stageName,
      throttle: props.throttle ?? DEFAULT_STAGE_THROTTLE,
      logRetention,
      removalPolicy,
      apiGatewayLogsRole: props.apiGatewayLogsRole ?? 'ifMissing',
    });
    this.webSocketApi = api.api;
    this.stage = api.stage;
    this.webSocketUrl = api.url;
    this.connectionsEndpoint = api.connectionsEndpoint;

    // A bus per instance, not the account's default one: every rule on the default bus (staging's push sender,
    // another team's) would receive this stack's events, which name who wrote to whom (docs/architecture.md).
    this.eventBus =
      props.eventBus ??
      new events.EventBus(this, 'EventBus', {
        description: 'Offline push hook of one ChatBackend: undelivered messages, device-token challenges',
      });
    this.attachmentBucket = new ChatAttachments(this, 'Attachments', {
      removalPolicy,
      deletionProtection,
      corsOrigins: props.attachmentCorsOrigins ?? ['*'],
      ...(props.messageRetention ? { retentionDays: wholeDays(props.messageRetention) } : {}),
    }).bucket;
    const deletionQueue = new AccountDeletionQueue(this, 'AccountDeletion');
    this.accountDeletionQueue = deletionQueue.queue;
    const presenceChecks = new PresenceChecksQueue(this, 'PresenceChecks');
    this.presenceChecksQueue = presenceChecks.queue;
    const functions = new ChatFunctions(this, 'Functions', {
      tables: this.tables,
      deletionQueue: deletionQueue.queue,
      presenceChecksQueue: presenceChecks.queue,
      ...(identity.userPool ? { userPool: identity.userPool } : {}),
      attachmentBucket: this.attachmentBucket,
      connectionsEndpoint: api.connectionsEndpoint,
      manageConnectionsArn: api.manageConnectionsArn,
      eventBus: this.eventBus,
      pushIncludesBody: props.pushIncludesBody ?? false,
      handlerSettings: handlerSettings(props),
      sweepIntervalMs: sweepInterval.toMilliseconds(),
      ...(props.messageRetention ? { messageRetentionDays: wholeDays(props.messageRetention) } : {}),
      tokenIssuer: {
        issuer: identity.issuer,
        audiences: identity.audiences,
        ...(identity.jwksUrl ? { jwksUrl: identity.jwksUrl } : {}),
        ...tokenTimes(props),
      },
      serviceName,
      logLevel: props.logLevel ?? 'INFO',
      tracing: props.tracing ?? false,
      sourceMaps: props.sourceMaps ?? false,
      reservedConcurrency: props.reservedConcurrency ?? {},
      logRetention,
      removalPolicy,
    });
    this.functions = functions.functions;
    deletionQueue.addWorker(this.functions['account-jobs']);
    presenceChecks.addWorker(this.functions['presence-jobs']);
    if (props.contentCheck) {
      wireContentCheck(this.functions.send, props.contentCheck);
      wireContentCheck(this.functions.edits, props.contentCheck);
    }
    this.sweeperFunctionDeadLetterQueue = functions.deadLetterQueue;
    api.addRoutes(this.functions);
    if (props.push) {
      this.push = new PushNotifications(this, 'Push', {
        ...props.push,
        eventBus: this.eventBus,
        tables: this.tables,
        handlerSettings: handlerSettings(props),
        serviceName,
        logLevel: props.logLevel ?? 'INFO',
        sourceMaps: props.sourceMaps ?? false,
        logRetention,
        removalPolicy,
      });
    }
    new ChatExportJobs(this, 'ExportJobs', { eventBus: this.eventBus, worker: this.functions.exports });
    this.sweeperDeadLetterQueue = new ChatSweeper(this, 'Sweeper', {
      sweeper: this.functions.sweeper,
      interval: sweepInterval,
    }).deadLetterQueue;
    this.alarmTopic = this.alarmTopicOf(props, removalPolicy, names.base);
    const monitoring = this.monitor(props, stageName, serviceName, names.dashboardName);
    this.alarms = monitoring.alarms;
    this.dashboard = monitoring.dashboard;
    if (this.push) this.dashboard?.addWidgets(this.push.dashboardWidget(serviceName));
  }

  /** Who issues the tokens: the team's issuer or user pool, or a user pool (and its clients) created here. */
  private identity(props: ChatBackendProps, removalPolicy: RemovalPolicy, deletionProtection: boolean): ChatIdentity {
    return new ChatIdentity(this, 'Identity', {
      ...(props.auth ? { auth: props.auth } : {}),
      removalPolicy,
      deletionProtection,
      ...(props.userPoolEmail ? { email: props.userPoolEmail } : {}),
      ...(props.userPoolOAuth ? { oAuth: props.userPoolOAuth } : {}),
      smokeTestClient: props.smokeTestClient ?? false,
    });
  }

  /** The team's topic (CloudWatch allowed to publish to it), or one created for `alarmEmail`, subscribed to it. */
  private alarmTopicOf(props: ChatBackendProps, removalPolicy: RemovalPolicy, label: string): sns.ITopic | undefined {
    let topic = props.alarmTopic;
    if (topic) allowCloudWatchAlarms(topic);
    if (props.alarmEmail !== undefined) {
      topic ??= new ChatAlarmTopic(this, 'AlarmTopic', { removalPolicy, label }).topic;
      topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    return topic;
  }

  /** The dashboard and the alarms, over every function (the push sender's too), table and dead-letter queue. */
  private monitor(
    props: ChatBackendProps,
    stageName: string,
    serviceName: string,
    dashboardName: string,
  ): ChatMonitoring {
    return new ChatMonitoring(this, 'Monitoring', {
      level: props.monitoring ?? 'full',
      dashboardName,
      serviceName,
      functions: { ...this.functions, ...(this.push ? { pushSender: this.push.function } : {}) },
      tables: this.tables,
      apiId: this.webSocketApi.apiId,
      stageName,
      deadLetterQueues: {
        SweeperSchedule: this.sweeperDeadLetterQueue,
        SweeperFunction: this.sweeperFunctionDeadLetterQueue,
        // A deletion page that failed 5 times: an account not fully erased until an operator redrives it.
        AccountDeletion: this.accountDeletionQueue.deadLetterQueue!.queue,
        // A presence check that failed 5 times: one status change never announced (subscribers read it on subscribe).
        PresenceChecks: this.presenceChecksQueue.deadLetterQueue!.queue,
        ...(this.push ? { PushQueue: this.push.deadLetterQueue } : {}),
      },
      ...(this.push ? { pushQueue: this.push.queue } : {}),
      ...(this.alarmTopic ? { alarmTopic: this.alarmTopic } : {}),
      ...(props.alarmThresholds ? { thresholds: props.alarmThresholds } : {}),
    });
  }
}
