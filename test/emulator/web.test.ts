import { afterEach, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../core/auth/verify-token.js';
import { mintToken } from '../../local/token.js';
import { webRoutes } from '../../local/web-routes.js';
import { startStubApi, type StubApi } from './stub-api.js';

let api: StubApi | undefined;

afterEach(async () => {
  await api?.emulator.stop();
  api = undefined;
});

describe('HTTP routes', () => {
  it('serves the web app and mints tokens the HS256 verifier accepts', async () => {
    api = await startStubApi({
      httpRoutes: webRoutes({
        webApp: { html: '<!doctype html><script src="/app.js"></script>', js: 'console.log(1)' },
        mintToken: (userId) => mintToken('s3cret', userId),
      }),
    });
    const page = await fetch(`${api.emulator.httpUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('/app.js');
    const js = await fetch(`${api.emulator.httpUrl}/app.js`);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await js.text()).toBe('console.log(1)');

    const minted = await fetch(`${api.emulator.httpUrl}/local/token?user_id=alice.b@x-1_`);
    expect(minted.status).toBe(200);
    const { token } = (await minted.json()) as { token: string };
    expect(await createTokenVerifier({ secret: 's3cret' })(token)).toEqual({
      userId: 'alice.b@x-1_',
      expiresAt: expect.any(Number),
    });

    for (const bad of ['', 'a b', 'x'.repeat(129), 'al#ice']) {
      const refused = await fetch(`${api.emulator.httpUrl}/local/token?user_id=${encodeURIComponent(bad)}`);
      expect(refused.status, bad).toBe(400);
    }
  });

  it('answers 404 for the page and the token endpoint when they are not configured', async () => {
    api = await startStubApi();
    expect((await fetch(`${api.emulator.httpUrl}/`)).status).toBe(404);
    expect((await fetch(`${api.emulator.httpUrl}/app.js`)).status).toBe(404);
    expect((await fetch(`${api.emulator.httpUrl}/local/token?user_id=alice`)).status).toBe(404);
  });
});

describe('mintToken', () => {
  it('refuses an invalid user id', async () => {
    await expect(mintToken('s', 'bad id')).rejects.toThrow(/invalid user id/);
  });

  it('mints expired tokens for negative lifetimes', async () => {
    const token = await mintToken('s', 'alice', { ttlSeconds: -60 });
    await expect(createTokenVerifier({ secret: 's' })(token)).rejects.toThrow();
  });
});
