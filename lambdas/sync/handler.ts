/**
 * The read side's routes: msg_list, latest_msg_id, msg_by_ids, unread_cnt, recent_sessions, msg_read_ack,
 * remove_session. Each is a request: its reply goes to the asking connection with `type` = the action and `seq`
 * echoed; a refused request gets an error frame instead.
 */
import type * as v from 'valibot';
import { parseFrame, seqOf, validateFrame } from '../../core/domain/client-frames.js';
import { FrameError, replyFrame } from '../../core/domain/frames.js';
import {
  LatestMsgIdSchema,
  MsgByIdsSchema,
  MsgListSchema,
  MsgReadAckSchema,
  RecentSessionsSchema,
  RemoveSessionSchema,
  UnreadCntSchema,
} from '../../core/domain/requests.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';
import { latestMsgId, listMessages, messagesByIds } from '../../core/usecases/history.js';
import { markRead } from '../../core/usecases/read-receipts.js';
import { recentSessions, removeSession, unreadCounts } from '../../core/usecases/sessions.js';
import { OK, callerOf, reply, replyError, type Caller, type WebSocketEvent, type WebSocketResult } from '../../core/websocket-event.js';

interface Request<S extends v.GenericSchema> {
  readonly schema: S;
  /** The reply's fields (without type and seq). */
  run(runtime: Runtime, caller: Caller, request: v.InferOutput<S>): Promise<Record<string, unknown>>;
}

const request = <S extends v.GenericSchema>(r: Request<S>): Request<v.GenericSchema> => r as unknown as Request<v.GenericSchema>;

const REQUESTS: Readonly<Record<string, Request<v.GenericSchema>>> = {
  msg_list: request({ schema: MsgListSchema, run: (rt, caller, r) => listMessages(rt, caller.userId, r) }),
  latest_msg_id: request({ schema: LatestMsgIdSchema, run: (rt, caller, r) => latestMsgId(rt, caller.userId, r) }),
  msg_by_ids: request({ schema: MsgByIdsSchema, run: (rt, caller, r) => messagesByIds(rt, caller.userId, r) }),
  unread_cnt: request({ schema: UnreadCntSchema, run: (rt, caller) => unreadCounts(rt, caller.userId) }),
  recent_sessions: request({ schema: RecentSessionsSchema, run: (rt, caller, r) => recentSessions(rt, caller.userId, r) }),
  msg_read_ack: request({
    schema: MsgReadAckSchema,
    run: async (rt, caller, r) => {
      await markRead(rt, caller, r);
      return {};
    },
  }),
  remove_session: request({ schema: RemoveSessionSchema, run: (rt, caller, r) => removeSession(rt, caller, r) }),
};

export function createSyncHandler(runtime: Runtime) {
  return async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const caller = callerOf(event);
    try {
      const frame = parseFrame(event.body);
      const action = frame.fields['action'];
      const handler = typeof action === 'string' && Object.hasOwn(REQUESTS, action) ? REQUESTS[action] : undefined;
      if (!handler) throw new FrameError('unknown_action', `unknown action "${String(action).slice(0, 64)}"`);
      const fields = await handler.run(runtime, caller, validateFrame(handler.schema, frame));
      await reply(runtime.gateway, caller.connectionId, replyFrame(action as string, frame.seq, fields));
    } catch (error) {
      await replyError(runtime.gateway, caller.connectionId, error, seqOf(event.body));
    }
    return OK;
  };
}

export const handler = createSyncHandler(createRuntime());
