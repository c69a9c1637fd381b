/**
 * Route typing: forwards a typing frame to the conversation's other live connections (core/usecases/typing.ts). A
 * well-formed frame gets no reply, forwarded or dropped; a malformed one, or one for a conversation the caller is not
 * part of, gets the contract's error frame with its seq.
 */
import { parseFrame, seqOf, validateFrame } from '../../core/domain/client-frames.js';
import { TypingSchema } from '../../core/domain/typing.js';
import { observed } from '../../core/observability.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import {
  blockTable,
  groupTables,
  presenceTable,
  rateLimitTable,
  typingThrottleTable,
} from '../../core/compose/dynamo.js';
import { forwardTyping, type TypingPorts } from '../../core/usecases/typing.js';
import {
  OK,
  callerOf,
  correlationOf,
  replyError,
  type WebSocketEvent,
  type WebSocketResult,
} from '../../core/websocket-event.js';

export type TypingHandlerPorts = TypingPorts;

/** DynamoDB (RateLimits, Conversations heads, GroupMembers, Blocks, Presence) and @connections: nothing else. */
export function typingHandlerPorts(adapters: Adapters): TypingHandlerPorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    typingThrottle: typingThrottleTable(db, config),
    rateLimits: rateLimitTable(db, config),
    groups: groupTables(db, config),
    blocks: blockTable(db, config),
    presence: presenceTable(db, config),
  };
}

export function createTypingHandler(ports: TypingHandlerPorts) {
  return observed(async (event: WebSocketEvent): Promise<WebSocketResult> => {
    const caller = callerOf(event);
    try {
      const request = validateFrame(TypingSchema, parseFrame(event.body));
      await forwardTyping(ports, caller, request);
    } catch (error) {
      await replyError(ports.gateway, caller.connectionId, error, seqOf(event.body));
    }
    return OK;
  }, correlationOf);
}
