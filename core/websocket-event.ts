/** What handlers read from API Gateway WebSocket events, and how they answer the calling connection. */
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { MissingIdentityError } from './errors.js';
import { FrameError, errorFrame, internalErrorFrame, type ServerFrame } from './domain/frames.js';
import { logger } from './observability.js';
import type { Gateway } from './ports/gateway.js';

/** The authorizer's context reaches every route of the connection (aws-facts.md). */
export interface AuthorizerContext {
  readonly principalId?: string;
  readonly userId?: string;
  readonly clientType?: number | string;
  /** The token's `exp` (unix seconds); a string by the time a route sees it, as API Gateway passes values on. */
  readonly tokenExpiresAt?: number | string;
}

export type WebSocketEvent = APIGatewayProxyWebsocketEventV2 & {
  requestContext: APIGatewayProxyWebsocketEventV2['requestContext'] & { authorizer?: AuthorizerContext };
};

export interface WebSocketResult {
  readonly statusCode: number;
  readonly body?: string;
}

export const OK: WebSocketResult = { statusCode: 200 };

export interface Caller {
  readonly connectionId: string;
  /** From the verified token, via the authorizer context: the only identity the handlers trust. */
  readonly userId: string;
  readonly clientType?: number;
  /** Unix seconds when the connection's token expires. */
  readonly tokenExpiresAt?: number;
}

/** A number from the authorizer context, which API Gateway may hand over as a string. */
function contextNumber(value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

export function callerOf(event: WebSocketEvent): Caller {
  const { connectionId, authorizer } = event.requestContext;
  const userId = authorizer?.userId;
  if (!userId) throw new MissingIdentityError(`connection ${connectionId} has no authorizer identity`);
  const clientType = contextNumber(authorizer.clientType);
  const tokenExpiresAt = contextNumber(authorizer.tokenExpiresAt);
  return {
    connectionId,
    userId,
    ...(clientType === undefined ? {} : { clientType }),
    ...(tokenExpiresAt === undefined ? {} : { tokenExpiresAt }),
  };
}

/** Posts a frame to the caller; a gone or unreachable caller is logged, never thrown (the work is done). */
export async function reply(gateway: Gateway, connectionId: string, frame: ServerFrame): Promise<void> {
  try {
    await gateway.post(connectionId, frame);
  } catch (error) {
    logger.warn('reply not delivered', { connectionId, frameType: frame.type, error: error as Error });
  }
}

/** Answers a refused frame with the contract's error frame, and an unexpected fault with `internal`. */
export async function replyError(
  gateway: Gateway,
  connectionId: string,
  error: unknown,
  seq: number | undefined,
): Promise<void> {
  if (error instanceof FrameError) {
    await reply(gateway, connectionId, errorFrame(error, seq));
    return;
  }
  logger.error('request failed', { connectionId, error: error as Error });
  await reply(gateway, connectionId, internalErrorFrame(seq));
}

/** Log correlation keys of a WebSocket event: which connection, user and route. */
export function correlationOf(event: WebSocketEvent): Record<string, unknown> {
  const { connectionId, routeKey, authorizer } = event.requestContext;
  return { connectionId, routeKey, ...(authorizer?.userId ? { userId: authorizer.userId } : {}) };
}
