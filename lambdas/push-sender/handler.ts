/**
 * The push sender, fed by the push queue (lib/push-notifications.ts: the undelivered-message rule's target): each
 * record is one event; its pushes go out through sendPushes, RECORD_CONCURRENCY records at once, so a slow token
 * delays only its own record. A record whose reads failed is reported in batchItemFailures, so SQS tries it again
 * later (and after maxReceiveCount, the DLQ keeps it), and so is a record the invocation has no time left to begin;
 * a record that is not an undelivered-message event is logged and dropped, since no retry would change it.
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { forEachWithConcurrency } from '../../core/concurrency.js';
import { count, logger, observed, PUSH_METRIC } from '../../core/observability.js';
import { MalformedPushEventError } from '../../core/errors.js';
import { parsePushEvent } from '../../core/domain/push-event.js';
import {
  pushSenderPorts,
  PUSH_ATTEMPT_RESERVE_MS,
  sendChallenge,
  sendExportReady,
  sendPushes,
  type PushSenderPorts,
} from '../../core/usecases/send-pushes.js';
import type { Adapters } from '../../core/compose/adapters.js';
import {
  conversationTable,
  deviceTokenTable,
  documentClient,
  groupMuteTable,
  providerTokenTable,
  pushThrottleTable,
  sessionTable,
} from '../../core/compose/dynamo.js';
import type { Runtime } from '../../core/runtime.js';
import { MessageEditTable } from '../../core/store/message-edits.js';

/** Records of a batch handled at once; each sends up to FANOUT_CONCURRENCY pushes at once. */
export const RECORD_CONCURRENCY = 5;

/** A record is begun only with time for its reads (a few DynamoDB calls) and one round of tries. */
export const RECORD_RESERVE_MS = PUSH_ATTEMPT_RESERVE_MS + 4_000;

/** The function's ports: the sender's tables, and the APNs provider token its instances share. */
export type PushSenderHandlerPorts = Pick<
  Runtime,
  | 'config'
  | 'clock'
  | 'deviceTokens'
  | 'groupMutes'
  | 'sessions'
  | 'conversations'
  | 'pushThrottle'
  | 'providerTokens'
  | 'edits'
>;

/** DynamoDB only (the providers' clients come with their secrets): no @connections, no S3, no EventBridge. */
export function pushSenderHandlerPorts(adapters: Adapters): PushSenderHandlerPorts {
  const { config } = adapters;
  const db = documentClient(adapters);
  return {
    config,
    clock: adapters.clock,
    deviceTokens: deviceTokenTable(db, config),
    groupMutes: groupMuteTable(db, config),
    sessions: sessionTable(db, config),
    conversations: conversationTable(db, config),
    pushThrottle: pushThrottleTable(db, config),
    providerTokens: providerTokenTable(db, config),
    edits: new MessageEditTable(db, config.tables.Messages),
  };
}

export function createPushSenderHandler(
  runtime: Parameters<typeof pushSenderPorts>[0],
  loadProviders: () => Promise<PushSenderPorts['providers']>,
  options: { sleep?: (ms: number) => Promise<void> } = {},
) {
  let providers: Promise<PushSenderPorts['providers']> | undefined;
  return observed(
    async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
      // Loaded once per instance; a failed load (a secret unreadable) is tried again by the next invocation.
      providers ??= loadProviders().catch((error: unknown) => {
        providers = undefined;
        throw error;
      });
      const remainingMs = context ? () => context.getRemainingTimeInMillis() : () => Number.POSITIVE_INFINITY;
      const ports = pushSenderPorts(runtime, await providers, { ...options, remainingMs });
      const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
      await forEachWithConcurrency(event.Records, RECORD_CONCURRENCY, async (record) => {
        if (remainingMs() < RECORD_RESERVE_MS) {
          batchItemFailures.push({ itemIdentifier: record.messageId }); // nothing sent: SQS hands it over again
          return;
        }
        if (!(await handleRecord(ports, record))) batchItemFailures.push({ itemIdentifier: record.messageId });
      });
      return { batchItemFailures };
    },
    () => ({ route: 'push-sender' }),
  );
}

/** Sends one record's pushes; false when SQS should hand it over again (its reads failed, nothing was sent). */
async function handleRecord(ports: PushSenderPorts, record: SQSRecord): Promise<boolean> {
  try {
    const event = parsePushEvent(record.body);
    if (event.kind === 'challenge') {
      const outcome = await sendChallenge(ports, event.detail);
      count(outcome?.kind === 'sent' ? PUSH_METRIC.pushesSent : PUSH_METRIC.pushesFailed, 1);
      return true;
    }
    const tally =
      event.kind === 'export_ready'
        ? await sendExportReady(ports, event.detail)
        : await sendPushes(ports, event.detail);
    count(PUSH_METRIC.pushesSent, tally.sent);
    count(PUSH_METRIC.pushesFailed, tally.failed);
    count(PUSH_METRIC.pushTokensRemoved, tally.tokensRemoved);
    count(PUSH_METRIC.pushesCollapsed, tally.collapsed);
    count(PUSH_METRIC.pushesOverBudget, tally.overBudget);
    if (tally.failed > 0) logger.warn('pushes failed', { messageId: record.messageId, ...tally });
    if (tally.overBudget > 0)
      logger.info('sender over its push budget', { messageId: record.messageId, overBudget: tally.overBudget });
    return true;
  } catch (error) {
    if (error instanceof MalformedPushEventError) {
      logger.error('push queue record dropped', { messageId: record.messageId, error });
      return true;
    }
    logger.warn('push event failed before sending; SQS will retry it', {
      messageId: record.messageId,
      error: error as Error,
    });
    return false;
  }
}
