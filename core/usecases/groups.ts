/**
 * Groups (TeamTalk IM.Group): create, change members, list, info. Members' session rows are written when they join
 * (read mark at the group's last msg_id then) and deleted when they leave, so group sessions show in recent_sessions
 * and unread_cnt like single ones, and a removed member's reads are refused.
 *
 * Every cap holds under concurrent changes (contract: "Limits"): members per group (`member_count` reserved on the
 * Groups item before member rows are written), groups owned and groups joined per user (counters reserved on the
 * users' quota rows, all or nothing), and members changed per user per minute (a weighted rate budget, which bounds
 * what one user can make the server write). A change past a cap is refused `limit_exceeded` with nothing changed.
 *
 * Adding someone needs no consent, as in TeamTalk and in workspace chat (the team's app decides who may see whom);
 * what bounds abuse is that a user can always leave, is in at most maxGroupsJoined groups, and that adding costs the
 * adder's member-change budget.
 */
import { SessionType, unixDay } from '../domain/ids.js';
import { groupConversationId, newGroupId } from '../domain/group.js';
import { encodePageToken, decodePageToken } from '../domain/page-token.js';
import { fitItems, jsonBytes, REPLY_BUDGET_BYTES } from '../domain/reply-size.js';
import { FrameError, OversizedFrameError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type {
  ConversationStore,
  GroupStore,
  PresenceStore,
  RateLimiter,
  SessionStore,
  UserQuotaStore,
} from '../ports/stores.js';
import type { Gateway } from '../ports/gateway.js';
import { notifyUsers } from './notify.js';

export interface GroupPorts {
  readonly groups: GroupStore;
  readonly sessions: SessionStore;
  readonly quotas: UserQuotaStore;
  readonly conversations: ConversationStore;
  readonly presence: PresenceStore;
  readonly rateLimits: RateLimiter;
  readonly gateway: Gateway;
  readonly clock: Clock;
  readonly config: {
    readonly maxGroupMembers: number;
    readonly maxGroupsOwned: number;
    readonly maxGroupsJoined: number;
    readonly fanoutConcurrency: number;
  };
}

interface Caller {
  readonly userId: string;
  readonly connectionId: string;
}

/** Groups per group_list page. */
export const GROUP_LIST_PAGE_SIZE = 100;

/** The creator is owner and member; the members are told. */
export async function createGroup(
  ports: GroupPorts,
  caller: Caller,
  request: { group_name: string; member_ids: readonly string[] },
): Promise<{ group_id: string }> {
  const members = [...new Set([caller.userId, ...request.member_ids])];
  if (members.length > ports.config.maxGroupMembers)
    throw limit(`a group holds at most ${ports.config.maxGroupMembers} members`);
  await chargeMemberChanges(ports, caller, members.length);
  if (!(await ports.quotas.reserveOwnedGroup(caller.userId, ports.config.maxGroupsOwned))) {
    throw limit(`you own ${ports.config.maxGroupsOwned} groups, the most one user may own`);
  }
  try {
    await reserveJoined(ports, members);
  } catch (error) {
    await ports.quotas.releaseOwnedGroup(caller.userId);
    throw error;
  }
  const groupId = newGroupId();
  const now = Math.floor(ports.clock.now() / 1000);
  await ports.groups.create({ groupId, groupName: request.group_name, ownerId: caller.userId, createdTime: now });
  await ports.groups.reserveMembers(groupId, members.length, ports.config.maxGroupMembers);
  await join(ports, groupId, members, now);
  await notifyMembers(ports, groupId, {
    change_type: 'add',
    changed: members,
    current: members,
    except: caller.connectionId,
  });
  return { group_id: groupId };
}

/** Add (owner only) or remove members (the owner, or a member removing itself); everyone concerned is told. */
export async function changeGroupMembers(
  ports: GroupPorts,
  caller: Caller,
  request: { group_id: string; change_type: 'add' | 'del'; member_ids: readonly string[] },
): Promise<{ group_id: string; cur_user_id_list: string[]; member_count: number; members_truncated?: true }> {
  const groupId = request.group_id;
  const [group, current] = await Promise.all([ports.groups.get(groupId), ports.groups.members(groupId)]);
  if (!group || !current.includes(caller.userId))
    throw new FrameError('not_member', `you are not a member of group ${groupId}`);
  const requested = [...new Set(request.member_ids)];
  let changed: string[];
  if (request.change_type === 'add') {
    if (group.ownerId !== caller.userId) throw new FrameError('bad_request', 'only the group owner may add members');
    changed = await addMembers(
      ports,
      caller,
      groupId,
      requested.filter((u) => !current.includes(u)),
    );
  } else {
    const leaving = requested.length === 1 && requested[0] === caller.userId;
    if (group.ownerId !== caller.userId && !leaving)
      throw new FrameError('bad_request', 'only the group owner may remove other members');
    if (requested.includes(group.ownerId)) throw new FrameError('bad_request', 'the owner cannot leave the group');
    changed = await removeMembers(
      ports,
      caller,
      groupId,
      requested.filter((u) => current.includes(u)),
    );
  }
  const members =
    request.change_type === 'add' ? [...current, ...changed] : current.filter((u) => !changed.includes(u));
  if (changed.length > 0) {
    const told = request.change_type === 'del' ? [...members, ...changed] : members;
    await notifyMembers(ports, groupId, {
      change_type: request.change_type,
      changed,
      current: members,
      told,
      except: caller.connectionId,
    });
  }
  return { group_id: groupId, ...memberList(members) };
}

async function addMembers(
  ports: GroupPorts,
  caller: Caller,
  groupId: string,
  newcomers: readonly string[],
): Promise<string[]> {
  if (newcomers.length === 0) return [];
  await chargeMemberChanges(ports, caller, newcomers.length);
  if (!(await ports.groups.reserveMembers(groupId, newcomers.length, ports.config.maxGroupMembers))) {
    throw limit(`a group holds at most ${ports.config.maxGroupMembers} members`);
  }
  try {
    await reserveJoined(ports, newcomers);
  } catch (error) {
    await ports.groups.releaseMembers(groupId, newcomers.length);
    throw error;
  }
  const added = await join(ports, groupId, newcomers, Math.floor(ports.clock.now() / 1000));
  // Members a concurrent change added first: give back what was reserved for them.
  const already = newcomers.filter((u) => !added.includes(u));
  await Promise.all([ports.groups.releaseMembers(groupId, already.length), ports.quotas.releaseJoinedGroups(already)]);
  return added;
}

async function removeMembers(
  ports: GroupPorts,
  caller: Caller,
  groupId: string,
  leavers: readonly string[],
): Promise<string[]> {
  if (leavers.length === 0) return [];
  await chargeMemberChanges(ports, caller, leavers.length);
  const removed = await ports.groups.removeMembers(groupId, leavers);
  const head = await ports.conversations.get(groupConversationId(groupId));
  const rows = removed.map((userId) => ({ userId, sessionType: SessionType.Group, sessionId: groupId }));
  await Promise.all([
    ports.groups.releaseMembers(groupId, removed.length),
    ports.quotas.releaseJoinedGroups(removed),
    ports.sessions.deleteMany(rows),
    ports.sessions.recordLeftGroup(removed, groupId, groupConversationId(groupId)),
    head && head.indexedDay > 0
      ? ports.sessions.unindex(rows.map((r) => ({ ...r, conversationId: head.conversationId, day: head.indexedDay })))
      : undefined,
  ]);
  return removed;
}

/**
 * Member rows of those not members yet, their session rows (read mark at the group's last msg_id: their unread starts
 * at zero) and, when the group has messages, their session index entry. Returns the users added.
 */
async function join(ports: GroupPorts, groupId: string, userIds: readonly string[], now: number): Promise<string[]> {
  const conversationId = groupConversationId(groupId);
  const [added, head] = await Promise.all([
    ports.groups.addMembers(groupId, userIds, now),
    ports.conversations.get(conversationId),
  ]);
  const sessions = added.map((userId) => ({
    userId,
    sessionType: SessionType.Group,
    sessionId: groupId,
    conversationId,
  }));
  await Promise.all([
    ports.sessions.putMany(sessions.map((s) => ({ ...s, createdTime: now, readMsgId: head?.lastMsgId ?? 0 }))),
    head && head.lastMsgId > 0 ? ports.sessions.index(sessions, unixDay(head.updatedTime), 0) : undefined,
  ]);
  return added;
}

async function reserveJoined(ports: GroupPorts, userIds: readonly string[]): Promise<void> {
  const { refused } = await ports.quotas.reserveJoinedGroups(userIds, ports.config.maxGroupsJoined);
  if (refused.length > 0)
    throw limit(
      `${refused.length} of the members are in ${ports.config.maxGroupsJoined} groups, the most one user may join`,
    );
}

/** Members added or removed count against the caller's per-minute budget (each one costs several writes). */
async function chargeMemberChanges(ports: GroupPorts, caller: Caller, members: number): Promise<void> {
  if (!(await ports.rateLimits.tryAcquire('members', caller.userId, ports.clock.now(), members))) {
    throw new FrameError('rate_limited', 'more group members changed this minute than the limit allows for this user');
  }
}

function limit(message: string): FrameError {
  return new FrameError('limit_exceeded', message);
}

/** A member list that fits in a frame: all of it, or as much as fits with `members_truncated` (group_info pages it). */
function memberList(members: readonly string[]): {
  cur_user_id_list: string[];
  member_count: number;
  members_truncated?: true;
} {
  const { fitted, rest } = fitItems(members, REPLY_BUDGET_BYTES / 2);
  return {
    cur_user_id_list: fitted,
    member_count: members.length,
    ...(rest.length > 0 ? { members_truncated: true as const } : {}),
  };
}

/** group_change_member_notify to the members concerned; the lists are cut to fit one frame (group_info has them all). */
async function notifyMembers(
  ports: GroupPorts,
  groupId: string,
  change: {
    change_type: 'add' | 'del';
    changed: readonly string[];
    current: readonly string[];
    told?: readonly string[];
    except: string;
  },
): Promise<void> {
  const changed = fitItems(change.changed, REPLY_BUDGET_BYTES / 2);
  const frame = {
    type: 'group_change_member_notify',
    group_id: groupId,
    change_type: change.change_type,
    user_ids: changed.fitted,
    ...(changed.rest.length > 0 ? { user_ids_truncated: true } : {}),
    ...memberList(change.current),
  };
  if (jsonBytes(frame) > REPLY_BUDGET_BYTES) throw new OversizedFrameError('group notice does not fit one frame');
  await notifyUsers(ports, change.told ?? change.current, frame, change.except);
}

/** The user's groups, a page at a time in group id order: a page of its group session rows and their names. */
export async function listGroups(
  ports: GroupPorts,
  userId: string,
  request: { page_token?: string | undefined } = {},
): Promise<{ group_list: { group_id: string; group_name: string }[]; next_page_token?: string }> {
  const after = request.page_token === undefined ? undefined : decodeGroupCursor(request.page_token, 'group_list');
  const { rows, more } = await ports.sessions.listByType(userId, SessionType.Group, {
    ...(after === undefined ? {} : { after }),
    limit: GROUP_LIST_PAGE_SIZE,
  });
  const names = new Map(
    (await ports.groups.getMany(rows.map((r) => r.sessionId))).map((g) => [g.groupId, g.groupName]),
  );
  const group_list = rows.flatMap((r) =>
    names.has(r.sessionId) ? [{ group_id: r.sessionId, group_name: names.get(r.sessionId)! }] : [],
  );
  const last = rows.at(-1);
  return { group_list, ...(more && last ? { next_page_token: encodePageToken('group_list', last.sessionId) } : {}) };
}

/** Name, owner and members (as many as fit, then `next_page_token`), for members only. */
export async function groupInfo(
  ports: GroupPorts,
  userId: string,
  request: { group_id: string; page_token?: string | undefined },
): Promise<{
  group_id: string;
  group_name: string;
  owner_id: string;
  member_count: number;
  cur_user_id_list: string[];
  next_page_token?: string;
}> {
  const after = request.page_token === undefined ? undefined : decodeGroupCursor(request.page_token, 'group_info');
  const [group, members] = await Promise.all([
    ports.groups.get(request.group_id),
    ports.groups.members(request.group_id),
  ]);
  if (!group || !members.includes(userId))
    throw new FrameError('not_member', `you are not a member of group ${request.group_id}`);
  const { fitted, rest } = fitItems(after === undefined ? members : members.filter((m) => m > after));
  const last = fitted.at(-1);
  return {
    group_id: group.groupId,
    group_name: group.groupName,
    owner_id: group.ownerId,
    member_count: members.length,
    cur_user_id_list: fitted,
    ...(rest.length > 0 && last ? { next_page_token: encodePageToken('group_info', last) } : {}),
  };
}

function decodeGroupCursor(token: string, action: string): string {
  const value = decodePageToken(token, action);
  if (typeof value === 'string') return value;
  throw new FrameError('bad_request', `page_token: not a token from a ${action} reply`);
}
