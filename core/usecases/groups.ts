/**
 * Groups (TeamTalk IM.Group): create, change members, list, info. Members' session rows are written when they join
 * (read mark at the group's last msg_id then) and deleted when they leave, so group sessions show in
 * recent_sessions and unread_cnt like single ones, and a removed member's reads are refused.
 */
import { FrameError } from '../domain/frames.js';
import { groupConversationId, newGroupId } from '../domain/group.js';
import { SessionType } from '../domain/ids.js';
import type { Clock, ConnectionStore, ConversationStore, Gateway, GroupStore, SessionStore } from '../ports.js';
import { notifyUsers } from './notify.js';

export interface GroupPorts {
  readonly groups: GroupStore;
  readonly sessions: SessionStore;
  readonly conversations: ConversationStore;
  readonly connections: ConnectionStore;
  readonly gateway: Gateway;
  readonly clock: Clock;
  readonly config: { readonly maxGroupMembers: number };
}

interface Caller {
  readonly userId: string;
  readonly connectionId: string;
}

function checkSize(ports: GroupPorts, count: number): void {
  if (count > ports.config.maxGroupMembers) {
    throw new FrameError('bad_request', `a group holds at most ${ports.config.maxGroupMembers} members`);
  }
}

async function join(ports: GroupPorts, groupId: string, userIds: readonly string[], now: number, readMsgId: number): Promise<void> {
  await ports.groups.addMembers(groupId, userIds, now);
  await ports.sessions.putMany(
    userIds.map((userId) => ({
      userId,
      sessionType: SessionType.Group,
      sessionId: groupId,
      conversationId: groupConversationId(groupId),
      createdTime: now,
      readMsgId,
    })),
  );
}

/** The creator is owner and member; the members are told. */
export async function createGroup(ports: GroupPorts, caller: Caller, request: { group_name: string; member_ids: readonly string[] }): Promise<{ group_id: string }> {
  const members = [...new Set([caller.userId, ...request.member_ids])];
  checkSize(ports, members.length);
  const groupId = newGroupId();
  const now = Math.floor(ports.clock.now() / 1000);
  await ports.groups.create({ groupId, groupName: request.group_name, ownerId: caller.userId, createdTime: now });
  await join(ports, groupId, members, now, 0);
  await notifyUsers(
    ports,
    members,
    { type: 'group_change_member_notify', group_id: groupId, change_type: 'add', user_ids: members, cur_user_id_list: members },
    caller.connectionId,
  );
  return { group_id: groupId };
}

/** Add (owner only) or remove members (the owner, or a member removing itself); everyone concerned is told. */
export async function changeGroupMembers(
  ports: GroupPorts,
  caller: Caller,
  request: { group_id: string; change_type: 'add' | 'del'; member_ids: readonly string[] },
): Promise<{ group_id: string; cur_user_id_list: string[] }> {
  const groupId = request.group_id;
  const group = await ports.groups.get(groupId);
  const current = group ? await ports.groups.members(groupId) : [];
  if (!group || !current.includes(caller.userId)) throw new FrameError('not_member', `you are not a member of group ${groupId}`);
  const isOwner = group.ownerId === caller.userId;
  const requested = [...new Set(request.member_ids)];
  let changed: string[];
  let members: string[];

  if (request.change_type === 'add') {
    if (!isOwner) throw new FrameError('bad_request', 'only the group owner may add members');
    changed = requested.filter((u) => !current.includes(u));
    members = [...current, ...changed];
    checkSize(ports, members.length);
    // New members start with everything before their joining read: their unread counts only what follows.
    const head = await ports.conversations.get(groupConversationId(groupId));
    await join(ports, groupId, changed, Math.floor(ports.clock.now() / 1000), head?.lastMsgId ?? 0);
  } else {
    const leaving = requested.length === 1 && requested[0] === caller.userId;
    if (!isOwner && !leaving) throw new FrameError('bad_request', 'only the group owner may remove other members');
    if (requested.includes(group.ownerId)) throw new FrameError('bad_request', 'the owner cannot leave the group');
    changed = requested.filter((u) => current.includes(u));
    members = current.filter((u) => !changed.includes(u));
    await ports.groups.removeMembers(groupId, changed);
    await ports.sessions.deleteMany(changed.map((userId) => ({ userId, sessionType: SessionType.Group, sessionId: groupId })));
  }

  if (changed.length > 0) {
    await notifyUsers(
      ports,
      [...members, ...(request.change_type === 'del' ? changed : [])],
      { type: 'group_change_member_notify', group_id: groupId, change_type: request.change_type, user_ids: changed, cur_user_id_list: members },
      caller.connectionId,
    );
  }
  return { group_id: groupId, cur_user_id_list: members };
}

/** The user's groups: its group session rows (one Query) and their names (one BatchGetItem). */
export async function listGroups(ports: GroupPorts, userId: string): Promise<{ group_list: { group_id: string; group_name: string }[] }> {
  const groupIds = (await ports.sessions.listByUser(userId)).filter((r) => r.sessionType === SessionType.Group).map((r) => r.sessionId);
  const groups = await ports.groups.getMany(groupIds);
  return { group_list: groups.map((g) => ({ group_id: g.groupId, group_name: g.groupName })).sort((a, b) => a.group_name.localeCompare(b.group_name)) };
}

/** Name, owner and members, for members only. */
export async function groupInfo(
  ports: GroupPorts,
  userId: string,
  request: { group_id: string },
): Promise<{ group_id: string; group_name: string; owner_id: string; cur_user_id_list: string[] }> {
  const [group, members] = await Promise.all([ports.groups.get(request.group_id), ports.groups.members(request.group_id)]);
  if (!group || !members.includes(userId)) throw new FrameError('not_member', `you are not a member of group ${request.group_id}`);
  return { group_id: group.groupId, group_name: group.groupName, owner_id: group.ownerId, cur_user_id_list: members };
}
