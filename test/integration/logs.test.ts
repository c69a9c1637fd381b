/**
 * Logs never carry message bodies or tokens: every handler runs at DEBUG over a message path with marked bodies and
 * tokens, and no log line may contain a mark.
 */
import { SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTokenVerifier } from '../../core/auth/verify-token.js';
import { logger } from '../../core/observability.js';
import { registerConnection } from '../../core/usecases/connections.js';
import type { WebSocketEvent } from '../../core/websocket-event.js';
import { createAckHandler } from '../../lambdas/ack/handler.js';
import { createAuthorizerHandler } from '../../lambdas/authorizer/handler.js';
import { createSendHandler } from '../../lambdas/send/handler.js';
import { createSweeperHandler } from '../../lambdas/sweeper/handler.js';
import { createSyncHandler } from '../../lambdas/sync/handler.js';
import { createTestRuntime } from '../support/runtime.js';

const BODY_MARK = 'B0DY-MARK-7f3a';
const TOKEN_MARK = 'T0KEN-MARK-91c2';
let lines: string[];

beforeEach(() => {
  lines = [];
  logger.setLogLevel('DEBUG');
  const capture = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
});

afterEach(() => {
  vi.restoreAllMocks();
  logger.setLogLevel('SILENT');
});

const event = (userId: string, connectionId: string, frame: Record<string, unknown> | string) =>
  ({
    body: typeof frame === 'string' ? frame : JSON.stringify(frame),
    requestContext: { connectionId, routeKey: 'x', eventType: 'MESSAGE', authorizer: { userId } },
  }) as unknown as WebSocketEvent;

describe('logs', () => {
  it('carry correlation ids but no message body and no token, on success and on failure paths', async () => {
    const t = await createTestRuntime({ ACK_TIMEOUT_MS: '1000' });
    await registerConnection(t.runtime, { userId: 'bob', connectionId: 'b1' });
    t.gateway.unavailable.add('b1'); // a deferred delivery logs a warning with the delivery's ids
    const send = createSendHandler(t.runtime);
    await send(
      event('alice', 'a1', {
        action: 'msg_data',
        seq: 1,
        to_session_id: 'bob',
        msg_type: 1,
        msg_data: `hello ${BODY_MARK}`,
        client_msg_id: 'c1',
      }),
    );
    await send(
      event('alice', 'a1', { action: 'msg_data', seq: 2, to_session_id: 'alice', msg_type: 1, msg_data: BODY_MARK }),
    );
    await send(event('alice', 'a1', `{"action":"msg_data","msg_data":"${BODY_MARK}"`));
    await createSyncHandler(t.runtime)(
      event('bob', 'b1', { action: 'msg_list', session_id: 'alice', session_type: 1, msg_id_begin: 0, msg_cnt: 10 }),
    );
    await createAckHandler(t.runtime)(
      event('bob', 'b1', { action: 'msg_data_ack', msg_id: 1, session_id: 'alice', session_type: 1 }),
    );
    t.clock.advance(1000);
    t.gateway.unavailable.delete('b1');
    t.gateway.gone.add('b1');
    await createSweeperHandler(t.runtime)(undefined);

    const authorize = createAuthorizerHandler(createTokenVerifier({ secret: 'secret' }));
    const badToken = await new SignJWT({ sub: 'mallory', note: TOKEN_MARK })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('wrong'));
    await expect(
      authorize({ type: 'REQUEST', methodArn: 'arn', queryStringParameters: { token: badToken } } as never),
    ).rejects.toThrow('Unauthorized');

    const output = lines.join('');
    expect(output).toContain('"connectionId":"a1"');
    expect(output).toContain('"userId":"alice"');
    expect(output).toContain('"msgId":1');
    expect(output).toContain('token refused');
    expect(output).not.toContain(BODY_MARK);
    expect(output).not.toContain(TOKEN_MARK);
    expect(output).not.toContain(badToken.split('.')[1]!);
  });
});
