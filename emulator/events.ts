/**
 * Builds the events API Gateway hands to Lambda for a WebSocket API: the REQUEST authorizer event on $connect and
 * the proxy events of CONNECT, MESSAGE and DISCONNECT, field for field as AWS sends them (no REST-only fields such
 * as path or httpMethod), plus a Lambda context object.
 */
import type { APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { formatRequestTime, newRequestId } from './ids.js';
import { CONNECT_ROUTE, DISCONNECT_ROUTE } from './routes.js';
import type { IntegrationAuthorizerContext, WebSocketEvent, WebSocketRequestContext } from './types.js';

/** The API the emulator pretends to be. */
export interface ApiInfo {
  readonly apiId: string;
  readonly stage: string;
  /** `127.0.0.1:{port}` locally; `{apiId}.execute-api.{region}.amazonaws.com` on AWS. */
  readonly domainName: string;
  readonly region: string;
  readonly accountId: string;
}

/** What the emulator knows of a connection when it builds an event. */
export interface ConnectionInfo {
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly sourceIp: string;
  readonly userAgent?: string;
  readonly authorizer?: IntegrationAuthorizerContext;
}

/** The upgrade request's headers and query, in the maps API Gateway builds from them. */
export interface RequestParameters {
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
  readonly queryStringParameters?: Record<string, string>;
  readonly multiValueQueryStringParameters?: Record<string, string[]>;
}

/**
 * Headers keep the client's spelling (Node's rawHeaders), with the X-Forwarded-* headers API Gateway adds. The
 * single-value maps keep the last value of a repeated header or query parameter, as API Gateway does. Names are
 * collected in Maps and become own properties (Object.fromEntries), so `constructor` or `__proto__` are names like
 * any other.
 */
export function requestParameters(
  rawHeaders: readonly string[],
  search: URLSearchParams,
  sourceIp: string,
): RequestParameters {
  const headerValues = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) appendTo(headerValues, rawHeaders[i]!, rawHeaders[i + 1]!);
  headerValues.set('X-Forwarded-For', [sourceIp]);
  headerValues.set('X-Forwarded-Port', ['443']);
  headerValues.set('X-Forwarded-Proto', ['https']);
  const queryValues = new Map<string, string[]>();
  for (const [key, value] of search) appendTo(queryValues, key, value);
  return {
    headers: lastValues(headerValues),
    multiValueHeaders: Object.fromEntries(headerValues),
    ...(queryValues.size > 0
      ? {
          queryStringParameters: lastValues(queryValues),
          multiValueQueryStringParameters: Object.fromEntries(queryValues),
        }
      : {}),
  };
}

function appendTo(map: Map<string, string[]>, key: string, value: string): void {
  const values = map.get(key);
  if (values) values.push(value);
  else map.set(key, [value]);
}

const lastValues = (map: Map<string, string[]>): Record<string, string> =>
  Object.fromEntries([...map].map(([key, values]) => [key, values[values.length - 1]!]));

export function methodArn(api: ApiInfo, routeKey: string): string {
  return `arn:aws:execute-api:${api.region}:${api.accountId}:${api.apiId}/${api.stage}/${routeKey}`;
}

function requestContext(
  api: ApiInfo,
  connection: ConnectionInfo,
  routeKey: string,
  eventType: WebSocketRequestContext['eventType'],
  extra: Partial<WebSocketRequestContext> = {},
): WebSocketRequestContext {
  const now = Date.now();
  // In real WebSocket events the two are one id.
  const requestId = newRequestId();
  return {
    routeKey,
    ...(extra.messageId === undefined ? {} : { messageId: extra.messageId }),
    ...(extra.disconnectStatusCode === undefined ? {} : { disconnectStatusCode: extra.disconnectStatusCode }),
    eventType,
    extendedRequestId: requestId,
    requestTime: formatRequestTime(now),
    messageDirection: 'IN',
    ...(extra.disconnectReason === undefined ? {} : { disconnectReason: extra.disconnectReason }),
    stage: api.stage,
    connectedAt: connection.connectedAt,
    requestTimeEpoch: now,
    identity: {
      sourceIp: connection.sourceIp,
      ...(connection.userAgent === undefined ? {} : { userAgent: connection.userAgent }),
    },
    requestId,
    domainName: api.domainName,
    connectionId: connection.connectionId,
    apiId: api.apiId,
    ...(connection.authorizer === undefined ? {} : { authorizer: connection.authorizer }),
  };
}

/**
 * The REQUEST authorizer event of a WebSocket $connect. AWS sends no REST fields (resource, path, httpMethod,
 * pathParameters) here, although the @types/aws-lambda type declares them; handlers must not rely on them.
 */
export function authorizerEvent(
  api: ApiInfo,
  connection: ConnectionInfo,
  params: RequestParameters,
): APIGatewayRequestAuthorizerEvent {
  const event = {
    type: 'REQUEST' as const,
    methodArn: methodArn(api, CONNECT_ROUTE),
    headers: params.headers,
    multiValueHeaders: params.multiValueHeaders,
    queryStringParameters: params.queryStringParameters ?? {},
    multiValueQueryStringParameters: params.multiValueQueryStringParameters ?? {},
    stageVariables: {},
    requestContext: requestContext(api, { ...connection, authorizer: undefined }, CONNECT_ROUTE, 'CONNECT'),
  };
  return event as unknown as APIGatewayRequestAuthorizerEvent;
}

export function connectEvent(api: ApiInfo, connection: ConnectionInfo, params: RequestParameters): WebSocketEvent {
  return {
    headers: params.headers,
    multiValueHeaders: params.multiValueHeaders,
    ...(params.queryStringParameters
      ? {
          queryStringParameters: params.queryStringParameters,
          multiValueQueryStringParameters: params.multiValueQueryStringParameters,
        }
      : {}),
    requestContext: requestContext(api, connection, CONNECT_ROUTE, 'CONNECT'),
    isBase64Encoded: false,
  };
}

export function messageEvent(api: ApiInfo, connection: ConnectionInfo, routeKey: string, body: string): WebSocketEvent {
  return {
    requestContext: requestContext(api, connection, routeKey, 'MESSAGE', { messageId: newRequestId() }),
    body,
    isBase64Encoded: false,
  };
}

/** What AWS reports for a close frame that carries no status code (1005). */
export const NO_STATUS_REASON = 'Client-side close frame status not set';

export function disconnectEvent(
  api: ApiInfo,
  connection: ConnectionInfo,
  statusCode: number,
  reason: string,
): WebSocketEvent {
  const headers = { Host: api.domainName, 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' };
  return {
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    requestContext: requestContext(api, connection, DISCONNECT_ROUTE, 'DISCONNECT', {
      disconnectStatusCode: statusCode,
      disconnectReason: statusCode === 1005 && reason === '' ? NO_STATUS_REASON : reason,
    }),
    isBase64Encoded: false,
  };
}

/** A Lambda context for one invocation; the emulator enforces the integration timeout, not a function timeout. */
export function lambdaContext(api: ApiInfo, functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const requestId = crypto.randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${api.region}:${api.accountId}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${requestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
