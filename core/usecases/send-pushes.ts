/**
 * The push sender's use-case: one undelivered-message event (core/domain/push.ts, up to 100 receivers of one
 * message) becomes one push per device of each receiver that has not muted the group — unless it is collapsed or over
 * budget. Two bounds keep one user from flooding others (core/store/push-throttle.ts): each receiver gets at most one
 * push per conversation per window (PUSH_COLLAPSE_WINDOW_MS, 30 s; the messages in between are collapsed into it,
 * and the next push carries the unread count that includes them), and one sender's messages push at most
 * PUSH_SENDER_BUDGET_PER_MINUTE receivers a minute.
 *
 * Reads and claims come first (mutes: one BatchGetItem; per receiver its tokens, one Query, and its window, one
 * conditional PutItem; the sender's budget, one UpdateItem; per pushed receiver its badge, a bounded unread count),
 * then the pushes go out: so an error while reading fails the event before any device got a push, and SQS may
 * redeliver it without duplicates (the same message claims its windows again; the budget is charged again). Once
 * sending has begun nothing throws: a provider that keeps answering 429/5xx is retried with backoff (its Retry-After
 * honoured) up to `maxAttempts`, then counted as failed; a token the provider calls gone is removed from DeviceTokens
 * at once. Every provider call ends within PROVIDER_TIMEOUT_MS (core/ports/push.ts), and a try (or a wait before one)
 * that the invocation's remaining time could not see to its end is not begun: the push counts as failed, so a slow
 * token fails its own push and never the invocation.
 */
import { forEachWithConcurrency } from '../concurrency.js';
import { groupConversationId } from '../domain/group.js';
import { SessionType, singleConversationId } from '../domain/ids.js';
import type { MessageEditStore } from '../ports/edits.js';
import type {
  DeviceToken,
  DeviceTokenChallengeDetail,
  ExportReadyPushDetail,
  UndeliveredMessageDetail,
} from '../domain/push.js';
import {
  type DeviceTokenStore,
  type GroupMuteStore,
  type PushThrottle,
  PROVIDER_TIMEOUT_MS,
  type PushProvider,
  type SendOutcome,
} from '../ports/push.js';
import {
  challengeContent,
  collapseIdOf,
  exportReadyContent,
  pushContent,
  type PushContent,
} from '../domain/push-content.js';
import type { Config } from '../config.js';
import type { Clock } from '../ports/clock.js';
import type { Stores } from '../ports/stores.js';
import { unreadTotal } from './sessions.js';

/** Which provider serves a token of each `device_token` platform (windows has none: its tokens are skipped). */
export const PLATFORM_PROVIDERS: Readonly<Record<string, ProviderName>> = {
  ios: 'apns',
  mac: 'apns',
  android: 'fcm',
  web: 'webpush',
};
export type ProviderName = 'fcm' | 'apns' | 'webpush';

export interface PushSenderPorts {
  /** Messages, to read a message's text again before pushing it (withStoredText); absent: the event's text is used. */
  readonly messages?: Pick<MessageEditStore, 'read'>;
  readonly deviceTokens: Pick<DeviceTokenStore, 'tokensOf' | 'unregister'>;
  readonly mutes: Pick<GroupMuteStore, 'mutedAmong'>;
  readonly throttle: PushThrottle;
  /** The clock of the windows and the budget, ms. */
  now(): number;
  /** The receiver's total unread count, the badge (bounded: the newest page of sessions). */
  unreadTotal(userId: string): Promise<number>;
  /** The configured providers; a platform whose provider is missing is skipped. */
  readonly providers: Readonly<Partial<Record<ProviderName, PushProvider>>>;
  /** Waits between attempts (tests pass one that records instead of waiting). */
  sleep(ms: number): Promise<void>;
  /** 0 ≤ x < 1, for backoff jitter. @default Math.random */
  random?(): number;
  /** Time left in the invocation, in ms (Lambda's context.getRemainingTimeInMillis). @default - no limit */
  remainingMs?(): number;
  readonly config: PushSendConfig;
}

export interface PushSendConfig {
  /** Tries of one push, the first included, while the provider answers 429/5xx. */
  readonly maxAttempts: number;
  /** The longest wait between tries: a Retry-After beyond it gives the push up (the function's time is bounded). */
  readonly maxRetryWaitMs: number;
  /** Pushes (and receivers read) in flight at once. */
  readonly concurrency: number;
  /** A receiver gets at most one push per conversation in this many ms. */
  readonly collapseWindowMs: number;
  /** Receivers one sender's messages may push per minute. */
  readonly senderBudgetPerMinute: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The sender's ports on a handler runtime's stores: DeviceTokens, the group mutes, the flood bounds and the bounded
 * unread count.
 */
export function pushSenderPorts(
  runtime: Pick<Stores, 'deviceTokens' | 'groupMutes' | 'sessions' | 'conversations' | 'pushThrottle'> & {
    readonly config: Config;
    readonly clock: Clock;
    /** The message's stored text, read again before a push that carries it (recall and edit). */
    readonly edits?: Pick<MessageEditStore, 'read'>;
  },
  providers: PushSenderPorts['providers'],
  options: { sleep?: (ms: number) => Promise<void>; remainingMs?: () => number } = {},
): PushSenderPorts {
  return {
    ...(options.remainingMs ? { remainingMs: options.remainingMs } : {}),
    ...(runtime.edits ? { messages: runtime.edits } : {}),
    deviceTokens: runtime.deviceTokens,
    mutes: runtime.groupMutes,
    throttle: runtime.pushThrottle,
    now: () => runtime.clock.now(),
    unreadTotal: (userId) => unreadTotal(runtime, userId),
    providers,
    sleep: options.sleep ?? sleep,
    config: {
      maxAttempts: runtime.config.pushMaxAttempts,
      maxRetryWaitMs: runtime.config.pushMaxRetryWaitMs,
      concurrency: runtime.config.fanoutConcurrency,
      collapseWindowMs: runtime.config.pushCollapseWindowMs,
      senderBudgetPerMinute: runtime.config.pushSenderBudgetPerMinute,
    },
  };
}

/** First backoff; doubled each try (with jitter), capped by maxRetryWaitMs. */
export const BASE_BACKOFF_MS = 500;

/** A try is begun only with time left for a whole provider call and the record's wrap-up (a DeleteItem, metrics). */
export const PUSH_ATTEMPT_RESERVE_MS = PROVIDER_TIMEOUT_MS + 1_000;

export interface PushTally {
  sent: number;
  failed: number;
  tokensRemoved: number;
  /** Receivers left out because they muted the group. */
  muted: number;
  /** Tokens of a platform with no provider configured. */
  skipped: number;
  /** Receivers left out because a push of this conversation reached them less than a window ago. */
  collapsed: number;
  /** Receivers left out because the sender's push budget for the minute was spent. */
  overBudget: number;
}

interface Receiver {
  readonly userId: string;
  readonly served: readonly { readonly token: DeviceToken; readonly provider: PushProvider }[];
}

interface Push {
  readonly userId: string;
  readonly token: DeviceToken;
  readonly provider: PushProvider;
  readonly content: PushContent;
}

export async function sendPushes(ports: PushSenderPorts, undelivered: UndeliveredMessageDetail): Promise<PushTally> {
  const detail = await withStoredText(ports, undelivered);
  const tally: PushTally = { sent: 0, failed: 0, tokensRemoved: 0, muted: 0, skipped: 0, collapsed: 0, overBudget: 0 };
  const receivers = await receiversWithTokens(ports, await unmutedReceivers(ports, detail, tally), tally);
  const fresh = await claimWindows(ports, detail, receivers, tally);
  const granted = await ports.throttle.takeBudget(
    detail.from_user_id,
    fresh.length,
    ports.now(),
    ports.config.senderBudgetPerMinute,
  );
  tally.overBudget = fresh.length - granted;
  const pushes = await withBadges(ports, detail, fresh.slice(0, granted));
  await forEachWithConcurrency(pushes, ports.config.concurrency, async (push) => {
    const outcome = await sendWithRetries(ports, push);
    if (outcome.kind === 'sent') tally.sent++;
    else if (outcome.kind === 'gone') {
      await removeGoneToken(ports, push, tally);
    } else tally.failed++;
  });
  return tally;
}

/**
 * An event that carries the text (pushIncludesBody) was built when the message was sent; it may have been recalled,
 * removed or edited since. One strongly consistent GetItem gives the text now: none for a recalled message or a
 * tombstone (the push says only who wrote), the new text for an edited one. Events without text read nothing.
 */
async function withStoredText(
  ports: PushSenderPorts,
  detail: UndeliveredMessageDetail,
): Promise<UndeliveredMessageDetail> {
  if (detail.msg_data === undefined || !ports.messages) return detail;
  const conversationId =
    detail.session_type === SessionType.Group
      ? groupConversationId(detail.session_id)
      : singleConversationId(detail.from_user_id, detail.receivers[0] ?? '');
  const stored = await ports.messages.read(conversationId, detail.msg_id);
  const { msg_data: _sent, ...rest } = detail;
  return stored && !stored.recalled && !stored.deleted ? { ...rest, msg_data: stored.msgData } : rest;
}

async function unmutedReceivers(
  ports: PushSenderPorts,
  detail: UndeliveredMessageDetail,
  tally: PushTally,
): Promise<string[]> {
  const receivers = [...new Set(detail.receivers)];
  if (detail.session_type !== SessionType.Group) return receivers;
  const muted = await ports.mutes.mutedAmong(detail.session_id, receivers);
  tally.muted = muted.size;
  return receivers.filter((r) => !muted.has(r));
}

/** The receivers that have a token some configured provider serves, with those tokens. */
async function receiversWithTokens(
  ports: PushSenderPorts,
  userIds: readonly string[],
  tally: PushTally,
): Promise<Receiver[]> {
  const receivers: Receiver[] = [];
  await forEachWithConcurrency(userIds, ports.config.concurrency, async (userId) => {
    const tokens = await ports.deviceTokens.tokensOf(userId);
    const served = tokens.flatMap((token) => {
      const name = PLATFORM_PROVIDERS[token.platform];
      const provider = name ? ports.providers[name] : undefined;
      if (!provider) tally.skipped++;
      return provider ? [{ token, provider }] : [];
    });
    if (served.length > 0) receivers.push({ userId, served });
  });
  return receivers;
}

/** The receivers whose window of this conversation was free (now claimed by this message); the rest are collapsed. */
async function claimWindows(
  ports: PushSenderPorts,
  detail: UndeliveredMessageDetail,
  receivers: readonly Receiver[],
  tally: PushTally,
): Promise<Receiver[]> {
  const collapseId = collapseIdOf(detail.session_type, detail.session_id);
  const fresh: Receiver[] = [];
  await forEachWithConcurrency(receivers, ports.config.concurrency, async (receiver) => {
    if (
      await ports.throttle.claimWindow(
        receiver.userId,
        collapseId,
        detail.msg_id,
        ports.now(),
        ports.config.collapseWindowMs,
      )
    )
      fresh.push(receiver);
    else tally.collapsed++;
  });
  return fresh;
}

/** One push per served token of each receiver, with the receiver's unread count as badge. */
async function withBadges(
  ports: PushSenderPorts,
  detail: UndeliveredMessageDetail,
  receivers: readonly Receiver[],
): Promise<Push[]> {
  const pushes: Push[] = [];
  await forEachWithConcurrency(receivers, ports.config.concurrency, async ({ userId, served }) => {
    const content = pushContent(detail, await ports.unreadTotal(userId));
    for (const { token, provider } of served) pushes.push({ userId, token, provider, content });
  });
  return pushes;
}

/**
 * A device-token challenge: one push to one token, the code in its data, through the provider of the platform the
 * registrant named (skipped when none serves it). Tried like any push; a gone token is not removed here (it may be
 * someone else's to remove).
 */
export async function sendChallenge(
  ports: PushSenderPorts,
  detail: DeviceTokenChallengeDetail,
): Promise<SendOutcome | undefined> {
  const name = PLATFORM_PROVIDERS[detail.platform];
  const provider = name ? ports.providers[name] : undefined;
  if (!provider) return undefined;
  const token = { token: detail.token, platform: detail.platform };
  return sendWithRetries(ports, { userId: '', token, provider, content: challengeContent(detail.code) });
}

/**
 * An account export is ready and its user had no open connection: one push to each of the user's served tokens (no
 * badge, no window, no sender budget: at most one export a user and day), gone tokens removed.
 */
export async function sendExportReady(ports: PushSenderPorts, detail: ExportReadyPushDetail): Promise<PushTally> {
  const tally: PushTally = { sent: 0, failed: 0, tokensRemoved: 0, muted: 0, skipped: 0, collapsed: 0, overBudget: 0 };
  const [receiver] = await receiversWithTokens(ports, [detail.user_id], tally);
  const content = exportReadyContent(detail.export_id);
  await forEachWithConcurrency(receiver?.served ?? [], ports.config.concurrency, async ({ token, provider }) => {
    const push = { userId: detail.user_id, token, provider, content };
    const outcome = await sendWithRetries(ports, push);
    if (outcome.kind === 'sent') tally.sent++;
    else if (outcome.kind === 'gone') await removeGoneToken(ports, push, tally);
    else tally.failed++;
  });
  return tally;
}

/** One push, tried again on 429/5xx (or a thrown network error) after Retry-After or an exponential backoff. */
async function sendWithRetries(ports: PushSenderPorts, push: Push): Promise<SendOutcome> {
  const { maxAttempts, maxRetryWaitMs } = ports.config;
  const remainingMs = () => ports.remainingMs?.() ?? Number.POSITIVE_INFINITY;
  for (let attempt = 1; ; attempt++) {
    if (remainingMs() < PUSH_ATTEMPT_RESERVE_MS)
      return { kind: 'failed', reason: `out of time after ${attempt - 1} tries` };
    let outcome: SendOutcome;
    try {
      outcome = await push.provider.send(push.token.token, push.content);
    } catch (error) {
      outcome = { kind: 'retry', reason: (error as Error).message };
    }
    if (outcome.kind !== 'retry') return outcome;
    const backoff = BASE_BACKOFF_MS * 2 ** (attempt - 1) * (0.5 + (ports.random ?? Math.random)() / 2);
    const waitMs = outcome.afterMs ?? Math.min(maxRetryWaitMs, backoff);
    const tooLate = remainingMs() - waitMs < PUSH_ATTEMPT_RESERVE_MS;
    if (attempt >= maxAttempts || waitMs > maxRetryWaitMs || tooLate)
      return { kind: 'failed', reason: `${outcome.reason} after ${attempt} tries` };
    await ports.sleep(waitMs);
  }
}

async function removeGoneToken(ports: PushSenderPorts, push: Push, tally: PushTally): Promise<void> {
  try {
    await ports.deviceTokens.unregister(push.userId, push.token.token);
    tally.tokensRemoved++;
  } catch {
    // Not removed now: the next push to it will be told again that it is gone.
    tally.failed++;
  }
}
