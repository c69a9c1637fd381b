/** Schemas of the presence requests (docs/protocol.md "Presence"): users_stat, presence_subscribe, presence_set. */
import * as v from 'valibot';
import { SETTABLE_PRESENCE_STATUSES } from '../../protocol/frames.js';
import { MAX_PRESENCE_IDS } from '../../protocol/limits.js';
import { seqSchema as seq, userIdSchema } from './client-frames.js';

const userIds = v.pipe(
  v.array(userIdSchema),
  v.minLength(1, 'give at least one user id'),
  v.maxLength(MAX_PRESENCE_IDS, `at most ${MAX_PRESENCE_IDS} user ids`),
);

export const UsersStatSchema = v.object({ action: v.literal('users_stat'), seq, user_ids: userIds });

export const PresenceSubscribeSchema = v.object({ action: v.literal('presence_subscribe'), seq, user_ids: userIds });

export const PresenceSetSchema = v.object({
  action: v.literal('presence_set'),
  seq,
  status: v.picklist(SETTABLE_PRESENCE_STATUSES, 'must be online or away'),
});
