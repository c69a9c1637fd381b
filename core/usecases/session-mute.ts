/**
 * session_mute (TeamTalk's group shield status): a member mutes or unmutes the pushes of a group. The flag sits on the
 * member's GroupMembers row (core/store/group-mutes.ts), written only if the row exists, so a non-member gets
 * `not_member` and nothing is stored. Live deliveries are not affected: only the push sender reads it.
 */
import { FrameError } from '../errors.js';
import type { GroupMuteStore } from '../ports/push.js';

export async function muteSession(
  ports: { readonly groupMutes: GroupMuteStore },
  userId: string,
  request: { readonly session_id: string; readonly session_type: 2; readonly mute: boolean },
): Promise<{ session_id: string; session_type: 2; mute: boolean }> {
  if (!(await ports.groupMutes.setMuted(request.session_id, userId, request.mute))) {
    throw new FrameError('not_member', `you are not a member of group ${request.session_id}`);
  }
  return { session_id: request.session_id, session_type: request.session_type, mute: request.mute };
}
