/**
 * typing (TeamTalk's IMP2PCmdMsg "typing", docs/protocol.md "Typing"): tells the other members' live connections that
 * the caller started or stopped typing. Never stored, acked, redelivered or pushed; a well-formed frame gets no reply.
 * What a frame may cost is bounded in three steps, cheapest first, so a flood is refused by the first:
 * 1. the throttle (core/store/typing-throttle.ts): one conditional write per frame; a `start` passes once per
 *    typingIntervalMs per conversation, a `stop` once after it. A refused frame costs that write and nothing else.
 * 2. access: a one-to-one pair's head (one GetItem: blocked either way → nothing), a group's members (one Query,
 *    ≤ maxGroupMembers; not a member → `not_member`).
 * 3. the `typing` budget: the receivers (1, or the members but the caller) are counted against the caller's
 *    per-second budget (memberDeliveriesPerSecond), so 500 groups of 1,000 cannot be fanned out to at once.
 * Then the receivers' connections (Presence, a BatchGetItem per 100) get the frame; in a group, members who block the
 * caller or whom the caller blocks are left out (one Query each). A 410 is ignored: $disconnect or the next
 * message's delivery forgets the connection.
 */
import type { TypingState } from '../../protocol/frames.js';
import { forEachWithConcurrency } from '../concurrency.js';
import { groupConversationId } from '../domain/group.js';
import { SessionType, isGroupId, singleConversationId } from '../domain/ids.js';
import { typingFrame, type TypingRequest } from '../domain/typing.js';
import { FrameError } from '../errors.js';
import { logger } from '../observability.js';
import type { Clock } from '../ports/clock.js';
import type { Gateway } from '../ports/gateway.js';
import type { BlockStore, GroupStore, PresenceStore, RateLimiter } from '../ports/stores.js';
import type { TypingThrottle } from '../ports/typing.js';

export interface TypingPorts {
  readonly typingThrottle: TypingThrottle;
  readonly rateLimits: Pick<RateLimiter, 'tryAcquire'>;
  readonly groups: Pick<GroupStore, 'members'>;
  readonly blocks: Pick<BlockStore, 'isBlockedEitherWay' | 'blockersAmong' | 'list'>;
  readonly presence: Pick<PresenceStore, 'connectionsOf'>;
  readonly gateway: Gateway;
  readonly clock: Clock;
  readonly config: {
    readonly typingIntervalMs: number;
    readonly fanoutConcurrency: number;
    readonly maxBlocksPerUser: number;
  };
}

/** What became of a well-formed frame: forwarded to `posted` connections, or dropped (and why). */
export type TypingOutcome =
  | { readonly forwarded: true; readonly receivers: number; readonly posted: number }
  | { readonly forwarded: false; readonly dropped: 'throttled' | 'blocked' | 'over_budget' };

interface TypingTarget {
  readonly conversationId: string;
  readonly sessionType: SessionType;
  /** The group, for a group conversation. */
  readonly groupId?: string;
  /** The peer, for a one-to-one conversation. */
  readonly peerId?: string;
}

/** Throws FrameError `not_member` for a conversation the caller is not part of; else forwards or drops the frame. */
export async function forwardTyping(
  ports: TypingPorts,
  caller: { readonly userId: string },
  request: Pick<TypingRequest, 'session_id' | 'session_type' | 'state'>,
): Promise<TypingOutcome> {
  const target = typingTarget(caller.userId, request);
  const now = ports.clock.now();
  const { typingIntervalMs } = ports.config;
  if (!(await ports.typingThrottle.claim(caller.userId, target.conversationId, request.state, now, typingIntervalMs)))
    return { forwarded: false, dropped: 'throttled' };
  const receivers = await receiversOf(ports, caller.userId, target);
  if (receivers === undefined) return { forwarded: false, dropped: 'blocked' };
  if (receivers.length > 0 && !(await ports.rateLimits.tryAcquire('typing', caller.userId, now, receivers.length)))
    return { forwarded: false, dropped: 'over_budget' };
  const posted = await postToLive(ports, caller.userId, target, receivers, request.state);
  return { forwarded: true, receivers: receivers.length, posted };
}

/** The conversation a frame names from the caller's view; oneself and a malformed group are `not_member`. */
function typingTarget(userId: string, request: Pick<TypingRequest, 'session_id' | 'session_type'>): TypingTarget {
  const { session_id: sessionId } = request;
  if (request.session_type === SessionType.Group) {
    if (!isGroupId(sessionId)) throw new FrameError('not_member', `you are not a member of group ${sessionId}`);
    return { conversationId: groupConversationId(sessionId), sessionType: SessionType.Group, groupId: sessionId };
  }
  if (sessionId === userId || isGroupId(sessionId))
    throw new FrameError('not_member', 'a single chat session is with another user');
  return {
    conversationId: singleConversationId(userId, sessionId),
    sessionType: SessionType.Single,
    peerId: sessionId,
  };
}

/** The users to tell: the peer unless the pair is blocked (undefined), or the group's members but the caller. */
async function receiversOf(ports: TypingPorts, userId: string, target: TypingTarget): Promise<string[] | undefined> {
  if (target.peerId !== undefined)
    return (await ports.blocks.isBlockedEitherWay(userId, target.peerId)) ? undefined : [target.peerId];
  const members = await ports.groups.members(target.groupId!);
  if (!members.includes(userId)) throw new FrameError('not_member', `you are not a member of group ${target.groupId}`);
  return members.filter((m) => m !== userId);
}

/** Posts the frame to the receivers' live connections (in a group, none of a blocked pair's); returns the posts made. */
async function postToLive(
  ports: TypingPorts,
  userId: string,
  target: TypingTarget,
  receivers: readonly string[],
  state: TypingState,
): Promise<number> {
  const live = await ports.presence.connectionsOf(receivers);
  if (target.groupId !== undefined && live.size > 0) {
    for (const blocked of await blockedPairs(ports, userId, [...live.keys()])) live.delete(blocked);
  }
  const frame = typingFrame(userId, target, state);
  let posted = 0;
  await forEachWithConcurrency([...live.values()].flat(), ports.config.fanoutConcurrency, async (connectionId) => {
    try {
      if ((await ports.gateway.post(connectionId, frame)) === 'delivered') posted++;
    } catch (error) {
      // Nothing to redeliver: the next `start` (or the receiver's expiry) makes up for a lost one.
      logger.warn('typing frame not delivered', { connectionId, error: error as Error });
    }
  });
  return posted;
}

/** Among these members, those who block `userId` (one Query) and those `userId` blocks (one Query, ≤ the block cap). */
async function blockedPairs(ports: TypingPorts, userId: string, members: readonly string[]): Promise<Set<string>> {
  const [blockers, blocked] = await Promise.all([
    ports.blocks.blockersAmong(userId, members),
    ports.blocks.list(userId, undefined, ports.config.maxBlocksPerUser),
  ]);
  const wanted = new Set(members);
  return new Set([...blockers, ...blocked.userIds.filter((u) => wanted.has(u))]);
}
