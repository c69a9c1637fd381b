/**
 * Typing in the chat page, in headless Chromium against the real local stack: alice types in her composer and bob's
 * page shows "alice is typing…"; it goes when alice sends, when she clears her input (a stop), and when 6 s pass
 * without a refresh. Time is moved by hand: the typing function's clock is a manual one, and each page's clock is
 * Playwright's (so the SDK's throttle and expiry run on it); no sleep decides anything.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.js';
import { LIMIT_DEFAULTS, TYPING_DISPLAY_MS } from '../../protocol/limits.js';
import { ManualClock } from '../support/fakes.js';
import { eventually, HAS_CHROMIUM, launchChromium, startPageStack } from './support.js';

describe.skipIf(!HAS_CHROMIUM)('typing in the chat page', () => {
  let stack: LocalStack;
  let browser: Browser;
  const serverClock = new ManualClock(Date.now());

  beforeAll(async () => {
    stack = await startPageStack({
      wrapPorts: (functionId, ports) => (functionId === 'typing' ? { ...ports, clock: serverClock } : ports),
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function open(user: string, peer: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    page.on('pageerror', (error) => {
      throw error;
    });
    await page.clock.install();
    await page.goto(`${stack.httpUrl}/?user=${user}&peer=${peer}`);
    await page.locator('#status[data-state="open"]').waitFor();
    return page;
  }

  const typists = (page: Page) => page.locator('#typing').getAttribute('data-user-ids');

  it('shows "alice is typing…" in bob\'s page; it goes on send, on a cleared input, and after 6 s', async () => {
    const alice = await open('alice', 'bob');
    const bob = await open('bob', 'alice');
    // Bob's page time stands still from here but for fastForward: the indicator cannot expire while the test reads it.
    await bob.clock.pauseAt((await bob.evaluate(() => Date.now())) + 1000);

    await alice.locator('#message-input').pressSequentially('hel');
    await eventually(() => typists(bob)).toBe('alice');
    expect(await bob.locator('#typing').textContent()).toBe('alice is typing…');
    expect(await bob.locator('#typing').isVisible()).toBe(true);

    await alice.locator('#message-input').pressSequentially('lo');
    await alice.locator('#send').click();
    await bob.locator('#messages > li[data-from="alice"]').waitFor();
    await eventually(() => typists(bob)).toBe('');
    expect(await bob.locator('#typing').isVisible()).toBe(false);

    // The server forwards alice's next start once its interval has passed.
    serverClock.advance(LIMIT_DEFAULTS.typingIntervalMs);
    await alice.locator('#message-input').pressSequentially('again');
    await eventually(() => typists(bob)).toBe('alice');
    await alice.locator('#message-input').fill('');
    await eventually(() => typists(bob)).toBe('');

    serverClock.advance(LIMIT_DEFAULTS.typingIntervalMs);
    await alice.locator('#message-input').pressSequentially('x');
    await eventually(() => typists(bob)).toBe('alice');
    await bob.clock.fastForward(TYPING_DISPLAY_MS);
    await eventually(() => typists(bob)).toBe('');
  });
});
