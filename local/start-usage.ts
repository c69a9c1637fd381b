/**
 * `npm start --help`: the environment knobs of local mode, each handler setting with its env var and its default
 * taken from the code (core/config.ts DEFAULTS, local/stack.ts LOCAL_DEFAULTS), so the text cannot drift; a new
 * setting in DEFAULTS does not compile until it is described here.
 */
import { DEFAULT_PORT } from 'teamtalk-local';
import { DEFAULTS, ENV } from '../core/config.js';
import { DEFAULT_JWT_SECRET } from './token.js';
import { LOCAL_DEFAULTS } from './stack.js';

/** What each handler setting does. */
const SETTING_HELP: Readonly<Record<keyof typeof DEFAULTS, string>> = {
  ackTimeoutMs: 'redelivery after this long without msg_data_ack',
  maxDeliveryAttempts: 'deliveries of a message to a connection, the first included',
  maxMsgBytes: 'largest msg_data in UTF-8 bytes',
  rateLimitPerSecond: 'msg_data frames a user may send per second, across its connections',
  writeRateLimitPerSecond: 'other writing requests a user may make per second',
  readRateLimitPerSecond: 'requests that read a user may make per second',
  memberDeliveriesPerSecond: "receivers of a user's msg_data per second (a group message: its members)",
  groupMemberChangesPerMinute: 'group members a user may add or remove per minute',
  maxConnectionsPerUser: 'open connections per user (a new one past it kicks the oldest)',
  maxGroupsOwned: 'groups one user may own',
  maxGroupsJoined: 'groups one user may be a member of',
  maxDeviceTokensPerUser: 'push tokens one user keeps',
  sweepIntervalMs: 'how often the sweeper runs (on AWS: a one-minute EventBridge rate)',
  pendingShards: 'partitions per minute slot of the PendingDeliveries table',
  fanoutConcurrency: '@connections posts in flight at once for one fan-out',
  maxGroupMembers: 'most members of a group',
  connectingGraceMs: 'a 410 this soon after a connection started means still opening, not gone',
  messageRetentionDays: 'days a message is kept; 0 keeps messages for ever',
  pushMaxAttempts: 'tries of one push while its provider answers 429/5xx',
  pushMaxRetryWaitMs: 'longest wait between tries of a push (a longer Retry-After gives it up)',
  pushCollapseWindowMs: 'a receiver gets at most one push per conversation in this window',
  pushSenderBudgetPerMinute: "receivers one sender's messages may push per minute",
  maxImageBytes: 'largest picture attachment_upload signs, in bytes',
  maxAudioBytes: 'largest voice note attachment_upload signs, in bytes',
  attachmentUrlTtlSeconds: 'lifetime of presigned upload and download URLs, in seconds',
  maxAttachmentBytesPerUser: 'bytes of attachments one user may store',
  maxBlocksPerUser: 'users one user may block',
  maxReportsPerDay: 'reports one user may file per UTC day',
  presenceHoldbackSeconds: 'seconds an offline is held back (a reconnect sooner announces nothing)',
  recallWindowSeconds: 'seconds after create_time a sender may recall a message',
  editWindowSeconds: 'seconds after create_time a sender may edit a text message',
  typingIntervalMs: "a user's typing start in one conversation is forwarded at most once in this many ms",
};

const line = (name: string, help: string, fallback: string | number) =>
  `  ${name.padEnd(22)} ${help} (default ${fallback})`;

export const USAGE = [
  'usage: npm start [-- --in-memory | --data-dir <folder>]',
  '',
  '  --data-dir <folder>    keep DynamoDB Local and S3 data there (default .data/); one stack per folder',
  '  --in-memory            keep nothing on disk',
  '',
  'environment:',
  line('PORT', 'port of the WebSocket API, the @connections API and the page', DEFAULT_PORT),
  line('JWT_SECRET', 'HS256 secret of the tokens', DEFAULT_JWT_SECRET),
  line('CONTENT_FILTER_WORDS', 'words a text message may not contain, comma-separated', 'none'),
  ...(Object.keys(SETTING_HELP) as (keyof typeof DEFAULTS)[]).map((key) =>
    line(ENV[key], SETTING_HELP[key], (LOCAL_DEFAULTS as Partial<Record<string, number>>)[key] ?? DEFAULTS[key]),
  ),
].join('\n');
