/** Schemas of msg_recall and msg_edit (docs/protocol.md "Recall and edit"); msg_data's size is checked by the use-case. */
import * as v from 'valibot';
import { msgIdSchema, seqSchema as seq, sessionIdSchema as sessionId } from './client-frames.js';

const message = {
  seq,
  session_id: sessionId,
  session_type: v.picklist([1, 2], 'must be 1 or 2'),
  msg_id: msgIdSchema,
};

export const MsgRecallSchema = v.object({ action: v.literal('msg_recall'), ...message });

export const MsgEditSchema = v.object({ action: v.literal('msg_edit'), ...message, msg_data: v.string() });
