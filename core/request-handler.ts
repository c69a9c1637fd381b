/**
 * The shape every request route shares (contract: "Requests and replies"): validate the frame against the action's
 * schema, run the use-case as the caller, reply to the asking connection with `type` = the action and `seq`
 * echoed, or with an error frame.
 */
import type * as v from 'valibot';
import { READ_ACTIONS, WRITE_ACTIONS } from '../protocol/frames.js';
import { parseFrame, seqOf, validateFrame } from './domain/client-frames.js';
import { FrameError, replyFrame } from './domain/frames.js';
import type { Runtime } from './runtime.js';
import { observed } from './observability.js';
import {
  OK,
  callerOf,
  correlationOf,
  reply,
  replyError,
  type Caller,
  type WebSocketEvent,
  type WebSocketResult,
} from './websocket-event.js';

export interface RequestRoute<S extends v.GenericSchema> {
  readonly schema: S;
  /** The reply's fields (without type and seq). */
  run(runtime: Runtime, caller: Caller, request: v.InferOutput<S>): Promise<Record<string, unknown>>;
}

type AnyRoute = RequestRoute<v.GenericSchema>;

/** The per-user budget each request counts against (contract: "Limits"); heartbeat counts against none. */
const BUDGETS: ReadonlyMap<string, 'write' | 'read'> = new Map([
  ...WRITE_ACTIONS.map((a) => [a, 'write'] as const),
  ...READ_ACTIONS.map((a) => [a, 'read'] as const),
]);

export const request = <S extends v.GenericSchema>(route: RequestRoute<S>): AnyRoute => route as unknown as AnyRoute;

export function createRequestHandler(runtime: Runtime, routes: Readonly<Record<string, AnyRoute>>) {
  return observed(async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const caller = callerOf(event);
    try {
      const frame = parseFrame(event.body);
      const action = frame.fields['action'];
      // Own keys only: `__proto__` or `constructor` name no route.
      const route = typeof action === 'string' && Object.hasOwn(routes, action) ? routes[action] : undefined;
      if (!route) {
        throw typeof action === 'string'
          ? new FrameError('unknown_action', `unknown action "${action.slice(0, 64)}"`)
          : new FrameError('bad_request', 'action: must be a string naming an action');
      }
      const request = validateFrame(route.schema, frame);
      const budget = BUDGETS.get(action as string);
      if (budget && !(await runtime.rateLimits.tryAcquire(budget, caller.userId, runtime.clock.now()))) {
        throw new FrameError(
          'rate_limited',
          `more ${budget === 'write' ? 'writing' : 'reading'} requests a second than the limit allows for this user`,
        );
      }
      const fields = await route.run(runtime, caller, request);
      await reply(runtime.gateway, caller.connectionId, replyFrame(action as string, frame.seq, fields));
    } catch (error) {
      await replyError(runtime.gateway, caller.connectionId, error, seqOf(event.body));
    }
    return OK;
  }, correlationOf);
}
