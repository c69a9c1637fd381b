/**
 * The push sender, fed by the push queue (lib/push-notifications.ts: the undelivered-message rule's target): each
 * record is one event; its pushes go out through sendPushes. A record whose reads failed is reported in
 * batchItemFailures, so SQS tries it again later (and after maxReceiveCount, the DLQ keeps it); a record that is not
 * an undelivered-message event is logged and dropped, since no retry would change it.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { count, logger, observed, PUSH_METRIC } from '../../core/observability.js';
import { MalformedPushEventError, parseUndeliveredEvent } from '../../core/push/event.js';
import { pushSenderPorts } from '../../core/push/runtime-ports.js';
import { sendPushes, type PushSenderPorts } from '../../core/push/send-pushes.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';
import { providersFromSecrets } from './providers.js';

export function createPushSenderHandler(runtime: Runtime, loadProviders: () => Promise<PushSenderPorts['providers']>, options: { sleep?: (ms: number) => Promise<void> } = {}) {
  let providers: Promise<PushSenderPorts['providers']> | undefined;
  return observed(async (event: SQSEvent): Promise<SQSBatchResponse> => {
    // Loaded once per instance; a failed load (a secret unreadable) is tried again by the next invocation.
    providers ??= loadProviders().catch((error: unknown) => {
      providers = undefined;
      throw error;
    });
    const ports = pushSenderPorts(runtime, await providers, options);
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const tally = await sendPushes(ports, parseUndeliveredEvent(record.body));
        count(PUSH_METRIC.pushesSent, tally.sent);
        count(PUSH_METRIC.pushesFailed, tally.failed);
        count(PUSH_METRIC.pushTokensRemoved, tally.tokensRemoved);
        if (tally.failed > 0) logger.warn('pushes failed', { messageId: record.messageId, ...tally });
      } catch (error) {
        if (error instanceof MalformedPushEventError) {
          logger.error('push queue record dropped', { messageId: record.messageId, error });
          continue;
        }
        logger.warn('push event failed before sending; SQS will retry it', { messageId: record.messageId, error: error as Error });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  }, () => ({ route: 'push-sender' }));
}

const runtime = createRuntime();
export const handler = createPushSenderHandler(runtime, () => providersFromSecrets(process.env, runtime.clock, runtime.providerTokens));
