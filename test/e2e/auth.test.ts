import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../local/token.js';
import { TestClient } from '../emulator/support.js';
import { startTestStack, type TestStack } from './harness.js';

let t: TestStack | undefined;

afterEach(async () => {
  await t?.stop();
  t = undefined;
});

describe('token refused', () => {
  it('refuses the upgrade with 401 for a missing, malformed, wrongly signed, expired or invalid-sub token', async () => {
    t = await startTestStack();
    const { url, jwtSecret } = t.stack;
    const key = new TextEncoder().encode(jwtSecret);
    const badSub = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('not a user id')
      .setExpirationTime('1h')
      .sign(key);
    const noneAlg = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"alice"}').toString('base64url')}.`;
    const cases: [string, string][] = [
      ['missing', `${url}/`],
      ['empty', `${url}/?token=`],
      ['malformed', `${url}/?token=abc.def`],
      ['wrong secret', `${url}/?token=${await mintToken('not-the-secret', 'alice')}`],
      ['expired', `${url}/?token=${await mintToken(jwtSecret, 'alice', { ttlSeconds: -60 })}`],
      ['invalid sub', `${url}/?token=${badSub}`],
      ['alg none', `${url}/?token=${noneAlg}`],
    ];
    for (const [what, target] of cases) {
      const refusal = await TestClient.refusal(target);
      expect(refusal.status, what).toBe(401);
    }
    expect(t.invocations.all).toEqual([]);
    expect(t.stack.emulator.connections()).toEqual([]);
  });

  it('accepts a valid token, and the user id comes from its sub', async () => {
    t = await startTestStack();
    const alice = await t.connect('alice', { client_type: '18' });
    expect(t.stack.emulator.connections()[0]?.authorizer).toMatchObject({
      userId: 'alice',
      principalId: 'alice',
      clientType: '18',
    });
    const stored = await t.stack.runtime.connections.listByUser('alice', Date.now());
    expect(stored).toEqual([
      expect.objectContaining({ connectionId: alice.connectionId, userId: 'alice', clientType: 18 }),
    ]);
  });
});
