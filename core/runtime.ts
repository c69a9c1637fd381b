/**
 * Every port of the system on one environment: for tests and tools (set-up, reads, the benchmark's cost model) that
 * need more than one function's ports. A function builds only its own (lambdas/<fn>/handler.ts, from
 * core/compose/); nothing here runs at import.
 */
import type { Config } from './config.js';
import { adaptersFrom, type RuntimeOptions } from './compose/adapters.js';
import { attachmentBucket } from './compose/attachments.js';
import * as dynamo from './compose/dynamo.js';
import { eventBus } from './compose/events.js';
import { connectionsGateway } from './compose/gateway.js';
import * as moderation from './compose/moderation.js';
import type { ExportClaimStore, ModerationPublisher, ReportStore } from './ports/moderation.js';
import type { ChallengePublisher, EventPublisher } from './ports/events.js';
import type { Clock } from './ports/clock.js';
import type { Gateway } from './ports/gateway.js';
import type { Stores } from './ports/stores.js';
import type { AttachmentBlobs } from './ports/attachments.js';
import type { AccountStore, DeletionJobQueue } from './ports/accounts.js';
import { deletionQueue } from './compose/deletion-queue.js';
import { presenceChecks } from './compose/presence-checks.js';
import type { PresenceCheckQueue, PresenceWatcherStore } from './ports/presence.js';
import type { MessageEditStore } from './ports/edits.js';
import { MessageEditTable } from './store/message-edits.js';
import type { TypingThrottle } from './ports/typing.js';

export interface Runtime extends Stores {
  readonly config: Config;
  readonly gateway: Gateway;
  readonly clock: Clock;
  readonly events: EventPublisher;
  /** Where device_token puts its challenge pushes: the same bus as `events`. */
  readonly pushChallenges: ChallengePublisher;
  /** The attachment bucket; undefined when ATTACHMENT_BUCKET is unset. */
  readonly attachments: AttachmentBlobs | undefined;
  readonly reports: ReportStore;
  readonly exportClaims: ExportClaimStore;
  /** Report events and export jobs: the same bus as `events` (local mode: its own publisher). */
  readonly moderation: ModerationPublisher;
  /** Account status (suspended, deleted): read by $connect. */
  readonly accounts: AccountStore;
  /** The account deletion jobs' queue (SQS FIFO; local mode's runner). */
  readonly jobs: DeletionJobQueue;
  /** Presence subscriptions (PresenceWatchers). */
  readonly watchers: PresenceWatcherStore;
  /** The presence checks' queue (SQS standard; local mode's in-process queue). */
  readonly presenceChecks: PresenceCheckQueue;
  /** Recall and edit on the Messages table. */
  readonly edits: MessageEditStore;
  /** The typing throttle's items (on RateLimits). */
  readonly typingThrottle: TypingThrottle;
}

export function createRuntime(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: RuntimeOptions = {},
): Runtime {
  const adapters = adaptersFrom(env, options);
  const { config } = adapters;
  const db = dynamo.documentClient(adapters);
  const bus = eventBus(adapters);
  return {
    config,
    clock: adapters.clock,
    gateway: connectionsGateway(adapters),
    connections: dynamo.connectionTable(db, config),
    conversations: dynamo.conversationTable(db, config),
    messages: dynamo.messageTable(db, config),
    sessions: dynamo.sessionTable(db, config),
    quotas: dynamo.userQuotaTable(db, config),
    attachmentRecords: dynamo.attachmentRecordTable(db, config),
    pending: dynamo.pendingDeliveryTable(db, config),
    rateLimits: dynamo.rateLimitTable(db, config),
    presence: dynamo.presenceTable(db, config),
    groups: dynamo.groupTables(db, config),
    sentMessages: dynamo.sentMessageTable(db, config),
    deviceTokens: dynamo.deviceTokenTable(db, config),
    groupMutes: dynamo.groupMuteTable(db, config),
    providerTokens: dynamo.providerTokenTable(db, config),
    pushThrottle: dynamo.pushThrottleTable(db, config),
    blocks: dynamo.blockTable(db, config),
    events: bus,
    pushChallenges: bus,
    attachments: attachmentBucket(adapters),
    reports: moderation.reportTable(db, config),
    exportClaims: moderation.exportClaimTable(db, config),
    moderation: moderation.moderationBus(adapters),
    accounts: dynamo.accountTable(db, config),
    jobs: deletionQueue(adapters),
    watchers: dynamo.presenceWatcherTable(db, config),
    presenceChecks: presenceChecks(adapters),
    edits: new MessageEditTable(db, config.tables.Messages),
    typingThrottle: dynamo.typingThrottleTable(db, config),
  };
}
