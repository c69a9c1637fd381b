/**
 * Web Push on the chat page in headless Chromium against the local stack with the push sender and its fakes: bob's
 * page registers the service worker, bob closes his tab, alice writes, and bob's service worker shows the
 * notification, which the reopened page lists as received while away.
 *
 * Headless Chromium has no push service: `pushManager.subscribe` fails there (the page says so in
 * #away[data-push="unavailable"]), so no push service can deliver to it. The test does the nearest real thing: bob's
 * web token is a subscription held by the fake Web Push service, the real sender encrypts and signs the push, the
 * fake checks and decrypts it, and DevTools' ServiceWorker.deliverPushMessage hands that payload to bob's real
 * service worker, as a push service would.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.js';
import { eventually, HAS_CHROMIUM, launchChromium, startPageStack } from './support.js';
import { TestClient } from '../emulator/support.js';

describe.skipIf(!HAS_CHROMIUM)('Web Push on the chat page', () => {
  let stack: LocalStack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startPageStack({ push: { sleep: async () => undefined } });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function as(userId: string): Promise<TestClient> {
    return TestClient.open(`${stack.url}/?token=${await stack.mintToken(userId)}`);
  }

  it('bob closes his tab, alice writes, and bob’s service worker shows the notification', async () => {
    const origin = stack.httpUrl;
    const context = await browser.newContext();
    await context.grantPermissions(['notifications'], { origin });
    const bobPage = await context.newPage();
    const cdp = await context.newCDPSession(bobPage);
    const registrations: { registrationId: string; scopeURL: string }[] = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (event) => registrations.push(...event.registrations));
    await cdp.send('ServiceWorker.enable');
    await bobPage.goto(`${origin}/?user=bob&peer=alice`);
    await bobPage.locator('#status[data-state="open"]').waitFor();
    await eventually(() => bobPage.locator('#away').getAttribute('data-push')).toBe('unavailable');
    await eventually(() => registrations.find((r) => r.scopeURL === `${origin}/`)?.registrationId).toBeDefined();
    const registrationId = registrations.find((r) => r.scopeURL === `${origin}/`)!.registrationId;

    // The subscription bob's browser would have registered, held by the fake push service.
    const bobDevice = await as('bob');
    bobDevice.send({ action: 'device_token', seq: 1, token: stack.push!.webPush.subscribe(), platform: 'web' });
    expect(await bobDevice.next((f) => f['seq'] === 1)).toMatchObject({ type: 'device_token' });
    await bobDevice.close();
    await bobPage.close();
    await eventually(async () => (await stack.runtime.connections.listByUser('bob', Date.now())).length).toBe(0);

    const alice = await as('alice');
    alice.send({ action: 'msg_data', seq: 1, to_session_id: 'bob', msg_type: 1, msg_data: 'are you there?' });
    expect(await alice.next((f) => f['seq'] === 1)).toMatchObject({ type: 'msg_data_ack' });
    await eventually(() => stack.push!.webPush.sent.length).toBe(1);
    const payload = stack.push!.webPush.sent[0]!.payload!;
    expect(payload).toMatchObject({ title: 'alice', body: 'New message from alice', badge: 1 });
    await alice.close();

    // The push service's delivery, to bob's service worker, while bob has no tab open.
    const blank = await context.newPage();
    const delivery = await context.newCDPSession(blank);
    await delivery.send('ServiceWorker.enable');
    await delivery.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data: JSON.stringify(payload) });
    await blank.goto(`${origin}/sw.js`);
    await eventually(() =>
      blank.evaluate(async () =>
        (await navigator.serviceWorker.getRegistration('/'))!
          .getNotifications()
          .then((all) => all.map((n) => [n.title, n.body])),
      ),
    ).toEqual([['alice', 'New message from alice']]);

    const reopened = await context.newPage();
    await reopened.goto(`${origin}/?user=bob&peer=alice`);
    await eventually(() => reopened.locator('#away li').allTextContents()).toEqual(['alice: New message from alice']);
    await context.close();
  });
});
