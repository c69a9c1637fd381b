/**
 * What each Lambda function of the stack is — entry, memory, timeout, which settings it gets — and how every one is
 * bundled, in one module without CDK imports: the ChatBackend construct (lib/functions.ts) builds the functions from
 * it, and the benchmark (bench/specs.ts) prices and bundles the handlers with the same values.
 */
import type { FunctionId } from '../core/routes.js';

export interface FunctionSpec {
  /** The function's Lambda entry (its `handler` export), relative to the package root. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  /** Gets the handler settings (ACK_TIMEOUT_MS, MAX_MSG_BYTES, ...). */
  readonly config: boolean;
  /** Gets SWEEP_INTERVAL_MS. */
  readonly sweepInterval: boolean;
  /** Invoked asynchronously (EventBridge schedule): gets a dead-letter queue for failed invocations, no retries. */
  readonly asyncInvoked: boolean;
}

/** API Gateway gives up on an integration after 29 s; nothing behind a route should run longer. */
export const ROUTE_TIMEOUT_SECONDS = 29;

export const FUNCTION_SPECS: Readonly<Record<FunctionId, FunctionSpec>> = {
  authorizer: {
    entry: 'lambdas/authorizer/entry.ts',
    description: '$connect authorizer: verifies ?token= against the configured issuer',
    memorySize: 256,
    timeoutSeconds: 10,
    config: false,
    sweepInterval: false,
    asyncInvoked: false,
  },
  connect: {
    entry: 'lambdas/connect/entry.ts',
    description: '$connect / $disconnect: registers and removes connections',
    memorySize: 256,
    timeoutSeconds: 10,
    config: true,
    sweepInterval: true,
    asyncInvoked: false,
  },
  send: {
    entry: 'lambdas/send/entry.ts',
    description: 'msg_data: stores, numbers and fans out a message',
    memorySize: 256,
    timeoutSeconds: ROUTE_TIMEOUT_SECONDS,
    config: true,
    sweepInterval: true,
    asyncInvoked: false,
  },
  ack: {
    entry: 'lambdas/ack/entry.ts',
    description: 'msg_data_ack: clears a pending delivery',
    memorySize: 256,
    timeoutSeconds: 10,
    config: true,
    sweepInterval: true,
    asyncInvoked: false,
  },
  sync: {
    entry: 'lambdas/sync/entry.ts',
    description: 'Read side: history, recent sessions, unread counts, read receipts',
    memorySize: 256,
    timeoutSeconds: ROUTE_TIMEOUT_SECONDS,
    config: true,
    sweepInterval: false,
    asyncInvoked: false,
  },
  groups: {
    entry: 'lambdas/groups/entry.ts',
    description: 'Groups: create, change members, list, info',
    memorySize: 256,
    timeoutSeconds: ROUTE_TIMEOUT_SECONDS,
    config: true,
    sweepInterval: false,
    asyncInvoked: false,
  },
  devices: {
    entry: 'lambdas/devices/entry.ts',
    description: 'device_token: registers push tokens',
    memorySize: 256,
    timeoutSeconds: 10,
    config: true,
    sweepInterval: false,
    asyncInvoked: false,
  },
  default: {
    entry: 'lambdas/default/entry.ts',
    description: '$default: frames that match no route',
    memorySize: 128,
    timeoutSeconds: 10,
    config: true,
    sweepInterval: false,
    asyncInvoked: false,
  },
  attachments: {
    entry: 'lambdas/attachments/entry.ts',
    description: 'attachment_upload / attachment_url: presigned S3 URLs for pictures and voice notes',
    memorySize: 256,
    timeoutSeconds: 10,
    config: true,
    sweepInterval: false,
    asyncInvoked: false,
  },
  blocks: {
    entry: 'lambdas/blocks/entry.ts',
    description: 'user_block / user_unblock / block_list: who a user blocks',
    memorySize: 256,
    timeoutSeconds: 10,
    config: true,
    sweepInterval: false,
    asyncInvoked: false,
  },
  reports: {
    entry: 'lambdas/reports/entry.ts',
    description: "report / account_export: stores reports, claims the day's export and hands it to the worker",
    memorySize: 256,
    timeoutSeconds: 10,
    config: true,
    sweepInterval: false,
    asyncInvoked: false,
  },
  exports: {
    entry: 'lambdas/exports/entry.ts',
    description: "Account exports: writes a user's data as JSON to the bucket and sends its download URL",
    // Room for MAX_EXPORT_MESSAGES (20,000 messages of up to 4 KB) in memory, twice (records and their JSON).
    memorySize: 1024,
    timeoutSeconds: 900,
    config: true,
    sweepInterval: false,
    asyncInvoked: true,
  },
  account: {
    entry: 'lambdas/account/entry.ts',
    description: 'account_delete: marks the account deleted, starts its deletion job, kicks its connections',
    memorySize: 256,
    timeoutSeconds: 10,
    config: true,
    sweepInterval: false,
    asyncInvoked: false,
  },
  'account-jobs': {
    entry: 'lambdas/account-jobs/entry.ts',
    description: 'Account deletion pages (from the deletion queue): tombstones, group hand-over, rows, Cognito user',
    memorySize: 256,
    // A page: ≤ 100 tombstones and their attachments, or a group hand-over and its notice; well within a minute.
    timeoutSeconds: 60,
    config: true,
    sweepInterval: false,
    asyncInvoked: false,
  },
  presence: {
    entry: 'lambdas/presence/entry.ts',
    description: 'users_stat / presence_subscribe / presence_set: statuses, subscriptions, away',
    memorySize: 256,
    timeoutSeconds: 10,
    config: true,
    sweepInterval: false,
    asyncInvoked: false,
  },
  'presence-jobs': {
    entry: 'lambdas/presence-jobs/entry.ts',
    description: 'Presence checks (from the presence checks queue): announces a status change to its subscribers',
    memorySize: 256,
    // A batch of 10 checks, each ≤ 1,000 posts (MAX_PRESENCE_ANNOUNCEMENTS) at FANOUT_CONCURRENCY.
    timeoutSeconds: 60,
    config: true,
    sweepInterval: false,
    asyncInvoked: false,
  },
  edits: {
    entry: 'lambdas/edits/entry.ts',
    description: 'msg_recall / msg_edit: recalls or edits a stored message and tells the live members',
    memorySize: 256,
    timeoutSeconds: ROUTE_TIMEOUT_SECONDS,
    config: true,
    sweepInterval: false,
    asyncInvoked: false,
  },
  typing: {
    entry: 'lambdas/typing/entry.ts',
    description: "typing: forwards start/stop to the conversation's live connections (throttled; never stored)",
    memorySize: 256,
    timeoutSeconds: 10,
    config: true,
    sweepInterval: false,
    asyncInvoked: false,
  },
  sweeper: {
    entry: 'lambdas/sweeper/entry.ts',
    description: 'Scheduled: redelivers unacked messages',
    memorySize: 256,
    timeoutSeconds: 50,
    config: true,
    sweepInterval: true,
    asyncInvoked: true,
  },
};

/** The push sender (lib/push-notifications.ts), outside FUNCTION_SPECS: it exists only when ChatBackend's `push` is set. */
export const PUSH_SENDER_SPEC: FunctionSpec = {
  entry: 'lambdas/push-sender/entry.ts',
  description: 'Push notifications: FCM, APNs and Web Push for undelivered messages (from the push queue)',
  memorySize: 256,
  // Room for a batch of events with retries (PUSH_MAX_RETRY_WAIT_MS per wait, PUSH_MAX_ATTEMPTS tries).
  timeoutSeconds: 120,
  config: true,
  sweepInterval: false,
  asyncInvoked: false,
};

/**
 * Node.js major of the Lambda runtime (lib/bundling.ts LAMBDA_RUNTIME, nodejs24.x); esbuild targets the same. nodejs22.x
 * is deprecated on 30 April 2027 (updates blocked from 1 July 2027).
 */
export const NODE_MAJOR = 24;

/** esbuild settings of every function (NodejsFunction's `bundling`), shared with the benchmark's bundle figures. */
export const BUNDLING = {
  target: `node${NODE_MAJOR}`,
  format: 'esm',
  platform: 'node',
  minify: true,
  sourceMap: true,
  mainFields: ['module', 'main'],
  // Some bundled dependencies still call require(); give ESM output one.
  banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  /** Nothing external: the SDK v3 clients are bundled (smaller and faster to load than the runtime's copy). */
  externalModules: [] as string[],
  /** Package → this package's module bundled in its place (path from the package root). */
  alias: { '@aws-sdk/credential-provider-node': 'core/lambda-credentials.ts' } as Readonly<Record<string, string>>,
} as const;
