/**
 * The shape every request route shares (contract: "Requests and replies"): validate the frame against the action's
 * schema, run the use-case as the caller, reply to the asking connection with `type` = the action and `seq`
 * echoed, or with an error frame.
 */
import type * as v from 'valibot';
import { READ_ACTIONS, WRITE_ACTIONS } from '../protocol/frames.js';
import { parseFrame, seqOf, validateFrame } from './domain/client-frames.js';
import { FrameError, replyFrame } from './domain/frames.js';
import { observed } from './observability.js';
import type { Clock } from './ports/clock.js';
import type { Gateway } from './ports/gateway.js';
import type { RateLimiter } from './ports/stores.js';
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

/** What every request route needs besides its use-case's ports: the per-user budgets, the reply, the time. */
export interface RequestHandlerPorts {
  readonly rateLimits: Pick<RateLimiter, 'tryAcquire'>;
  readonly gateway: Gateway;
  readonly clock: Clock;
}

export interface RequestRoute<S extends v.GenericSchema, P> {
  readonly schema: S;
  /** The reply's fields (without type and seq). */
  run(ports: P, caller: Caller, request: v.InferOutput<S>): Promise<Record<string, unknown>>;
}

type AnyRoute<P> = RequestRoute<v.GenericSchema, P>;

/** The per-user budget each request counts against (contract: "Limits"); heartbeat counts against none. */
const BUDGETS: ReadonlyMap<string, 'write' | 'read'> = new Map([
  ...WRITE_ACTIONS.map((a) => [a, 'write'] as const),
  ...READ_ACTIONS.map((a) => [a, 'read'] as const),
]);

export const request = <P, S extends v.GenericSchema>(route: RequestRoute<S, P>): AnyRoute<P> =>
  route as unknown as AnyRoute<P>;

/** The handler of a function's request routes, on that function's ports. */
export function createRequestHandler<P extends RequestHandlerPorts>(
  ports: P,
  routes: Readonly<Record<string, AnyRoute<P>>>,
) {
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
      if (budget && !(await ports.rateLimits.tryAcquire(budget, caller.userId, ports.clock.now()))) {
        throw new FrameError(
          'rate_limited',
          `more ${budget === 'write' ? 'writing' : 'reading'} requests a second than the limit allows for this user`,
        );
      }
      const fields = await route.run(ports, caller, request);
      await reply(ports.gateway, caller.connectionId, replyFrame(action as string, frame.seq, fields));
    } catch (error) {
      await replyError(ports.gateway, caller.connectionId, error, seqOf(event.body));
    }
    return OK;
  }, correlationOf);
}
