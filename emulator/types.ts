/** Event, result and handler types of the emulator: the shapes API Gateway WebSocket APIs hand to Lambda. */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';

/**
 * What a later route sees in `requestContext.authorizer`: the authorizer's context with every value stringified
 * (as API Gateway does), plus `principalId` and `integrationLatency`.
 */
export type IntegrationAuthorizerContext = Readonly<Record<string, string | number | null>>;

/**
 * `requestContext` of a WebSocket route event as API Gateway sends it. `messageId` is only on MESSAGE events and
 * `disconnectStatusCode`/`disconnectReason` only on DISCONNECT (the @types/aws-lambda type declares messageId on
 * every event, which AWS does not send).
 */
export interface WebSocketRequestContext {
  readonly routeKey: string;
  readonly eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
  readonly messageId?: string;
  readonly extendedRequestId: string;
  readonly requestTime: string;
  readonly messageDirection: 'IN';
  readonly stage: string;
  readonly connectedAt: number;
  readonly requestTimeEpoch: number;
  readonly identity: { readonly sourceIp: string; readonly userAgent?: string };
  readonly requestId: string;
  readonly domainName: string;
  readonly connectionId: string;
  readonly apiId: string;
  /** Present when the API has an authorizer. */
  readonly authorizer?: IntegrationAuthorizerContext;
  readonly disconnectStatusCode?: number;
  readonly disconnectReason?: string;
}

/** A Lambda proxy event of a WebSocket API route ($connect, $disconnect, $default or a custom route). */
export interface WebSocketEvent {
  readonly requestContext: WebSocketRequestContext;
  /** MESSAGE only: the frame's text. */
  readonly body?: string;
  readonly isBase64Encoded: boolean;
  /** CONNECT and DISCONNECT only. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly multiValueHeaders?: Readonly<Record<string, string[]>>;
  /** CONNECT only, when the URL had a query. */
  readonly queryStringParameters?: Readonly<Record<string, string>>;
  readonly multiValueQueryStringParameters?: Readonly<Record<string, string[]>>;
}

/** What a route integration may return (Lambda proxy integration). */
export type RouteResult =
  | {
      statusCode?: number;
      body?: string;
      headers?: Record<string, string | number | boolean>;
      isBase64Encoded?: boolean;
    }
  | string
  | null
  | undefined
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler may return nothing, as API Gateway allows.
  | void;

export type RouteHandler = (event: WebSocketEvent, context: Context) => Promise<RouteResult>;

export type AuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEvent,
  context: Context,
) => Promise<APIGatewayAuthorizerResult>;

export interface EmulatorLogger {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}
