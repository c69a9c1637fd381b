/**
 * Push notifications in local mode: the fake FCM, APNs and Web Push services, the real senders pointed at them (APNs
 * trusting the fake's generated certificate), and the push sender's handler fed as the stack feeds it: the send and
 * sweeper runtimes publish undelivered-message events here instead of to EventBridge (and the devices runtime its
 * device-token challenges), and each event reaches the handler as one SQS record, after the publishing call returns (as EventBridge → SQS → Lambda would). Web tokens
 * are real PushSubscriptions: a subscription to a real browser push service gets a real push signed with the local
 * VAPID keys; one to the fake is recorded. The Web Push allowlist holds the browsers' push services and the fake's
 * exact origin (`webPushAllowlist`), the only loopback endpoint local mode takes. `settled()` resolves when every
 * event published so far is handled.
 */
import { randomUUID } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import webpush from 'web-push';
import {
  DEVICE_TOKEN_CHALLENGE_DETAIL_TYPE,
  PUSH_EVENT_SOURCE,
  UNDELIVERED_DETAIL_TYPE,
} from '../../core/domain/push.js';
import type { ChallengePublisher, EventPublisher } from '../../core/ports/events.js';
import { ApnsSender } from '../../core/push-providers/apns.js';
import { FcmSender } from '../../core/push-providers/fcm.js';
import type { PushSenderPorts } from '../../core/usecases/send-pushes.js';
import { WebPushSender, type VapidKeys } from '../../core/push-providers/web-push.js';
import { createPushSenderHandler, type PushSenderHandlerPorts } from '../../lambdas/push-sender/handler.js';
import { FAKE_APNS, FakeApns } from './fake-apns.js';
import { FakeFcm } from './fake-fcm.js';
import { FakeWebPush } from './fake-web-push.js';

export interface LocalPush {
  readonly fcm: FakeFcm;
  readonly apns: FakeApns;
  readonly webPush: FakeWebPush;
  /** The VAPID keys the local sender signs with (the page subscribes with the public key). */
  readonly vapid: VapidKeys;
  /** WEB_PUSH_ENDPOINT_ALLOWLIST of local mode: the fake Web Push service's exact origin. */
  readonly webPushAllowlist: readonly string[];
  readonly providers: PushSenderPorts['providers'];
  /** Where the send and sweeper runtimes publish, and device_token its challenges. */
  readonly publisher: EventPublisher & ChallengePublisher;
  /** Hands any push-hook event (e.g. `Account Export Ready`) to the sender, as the push queue would. */
  publishEvent(detailType: string, detail: unknown): void;
  /** Resolves when every event published so far has been handled. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalPushOptions {
  /** The VAPID keys to sign with (the page must subscribe with the public one). @default - a new pair */
  readonly vapid?: VapidKeys;
  /** Waits between a push's tries (tests pass one that records instead). @default real timers */
  readonly sleep?: (ms: number) => Promise<void>;
}

export async function startLocalPush(
  runtime: PushSenderHandlerPorts,
  options: LocalPushOptions = {},
): Promise<LocalPush> {
  const [fcm, apns, webPush] = await Promise.all([FakeFcm.start(), FakeApns.start(), FakeWebPush.start()]);
  const vapid = options.vapid ?? webpush.generateVAPIDKeys();
  const { clock } = runtime;
  const webPushAllowlist = [webPush.origin];
  const apnsSender = new ApnsSender({
    ...FAKE_APNS,
    privateKey: apns.privateKey,
    production: false,
    clock,
    origin: apns.origin,
    ca: apns.ca,
    sharedTokens: runtime.providerTokens,
  });
  const providers = {
    fcm: new FcmSender({ serviceAccount: fcm.serviceAccount, clock, origin: fcm.origin }),
    apns: apnsSender,
    webpush: new WebPushSender({
      vapid,
      subject: 'mailto:push@localhost.invalid',
      clock,
      endpointAllowlist: webPushAllowlist,
    }),
  };
  const handler = createPushSenderHandler(runtime, async () => providers, options);
  const inFlight = new Set<Promise<unknown>>();
  const deliver = (detailType: string, detail: unknown) => {
    const handled = Promise.resolve().then(() => handler(sqsEvent(detailType, detail)));
    inFlight.add(handled);
    void handled.catch(() => undefined).finally(() => inFlight.delete(handled));
  };
  const publisher: EventPublisher & ChallengePublisher = {
    async publishUndelivered(details) {
      for (const detail of details) deliver(UNDELIVERED_DETAIL_TYPE, detail);
    },
    async publishChallenge(detail) {
      deliver(DEVICE_TOKEN_CHALLENGE_DETAIL_TYPE, detail);
    },
  };
  return {
    fcm,
    apns,
    webPush,
    vapid,
    webPushAllowlist,
    providers,
    publisher,
    publishEvent: deliver,
    async settled() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    async stop() {
      await Promise.allSettled([...inFlight]);
      apnsSender.close();
      await Promise.all([fcm.stop(), apns.stop(), webPush.stop()]);
    },
  };
}

/** The event as the push queue would hand it to the sender: EventBridge's envelope in an SQS record. */
function sqsEvent(detailType: string, detail: unknown): SQSEvent {
  const body = JSON.stringify({
    version: '0',
    id: randomUUID(),
    source: PUSH_EVENT_SOURCE,
    'detail-type': detailType,
    detail,
  });
  return { Records: [{ messageId: randomUUID(), body } as SQSEvent['Records'][number]] };
}
