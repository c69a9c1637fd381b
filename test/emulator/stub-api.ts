/** An emulator wired to stub integrations that record every event, for the emulator's own tests. */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import {
  startEmulator,
  type Emulator,
  type EmulatorOptions,
  type RouteHandler,
  type WebSocketEvent,
} from 'teamtalk-local';
import { Queue } from './support.js';

export interface Invocation {
  readonly routeKey: string;
  readonly event: WebSocketEvent;
}

export interface StubApi {
  readonly emulator: Emulator;
  readonly invocations: Queue<Invocation>;
  readonly authorizerCalls: Queue<APIGatewayRequestAuthorizerEvent>;
  /** ws URL with `?token=user:{userId}` (and extra query). */
  urlFor(userId: string, query?: Record<string, string>): string;
}

export const silentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Tokens of the stub authorizer: `user:{id}` allows (context userId, clientType as a number when given),
 * `deny` returns a Deny policy, `boom` throws a non-auth error, `objctx` puts an object in the context, anything
 * else throws Unauthorized.
 */
export async function stubAuthorizer(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const token = event.queryStringParameters?.['token'] ?? '';
  const policy = (effect: 'Allow' | 'Deny') => ({
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: event.methodArn }],
  });
  if (token === 'deny') return { principalId: 'x', policyDocument: policy('Deny') };
  if (token === 'boom') throw new Error('database unreachable');
  if (token === 'objctx')
    return { principalId: 'x', policyDocument: policy('Allow'), context: { nested: {} as never } };
  if (!token.startsWith('user:')) throw new Error('Unauthorized');
  const userId = token.slice(5);
  const clientType = event.queryStringParameters?.['client_type'];
  return {
    principalId: userId,
    policyDocument: policy('Allow'),
    context: { userId, ...(clientType ? { clientType: Number(clientType) } : {}) },
  };
}

export async function startStubApi(
  overrides: Partial<EmulatorOptions> & { extraRoutes?: Record<string, RouteHandler> } = {},
): Promise<StubApi> {
  const invocations = new Queue<Invocation>();
  const authorizerCalls = new Queue<APIGatewayRequestAuthorizerEvent>();
  const record =
    (routeKey: string): RouteHandler =>
    async (event) => {
      invocations.push({ routeKey, event });
      return { statusCode: 200 };
    };
  const { extraRoutes, ...options } = overrides;
  const emulator = await startEmulator({
    port: 0,
    logger: silentLogger,
    authorizer: async (event) => {
      authorizerCalls.push(event);
      return stubAuthorizer(event);
    },
    identitySources: ['route.request.querystring.token'],
    // As local mode serves it (the contract's CONNECTIONS_ENDPOINT); the AWS-like default is covered on its own.
    stagelessManagementApi: true,
    ...options,
    routes: {
      $connect: record('$connect'),
      $disconnect: record('$disconnect'),
      $default: record('$default'),
      msg_data: record('msg_data'),
      msg_data_ack: record('msg_data_ack'),
      ...extraRoutes,
      ...options.routes,
    },
  });
  return {
    emulator,
    invocations,
    authorizerCalls,
    urlFor: (userId, query = {}) => `${emulator.url}/?${new URLSearchParams({ token: `user:${userId}`, ...query })}`,
  };
}
