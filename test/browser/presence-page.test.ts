/**
 * Presence in the chat page, in headless Chromium against the real local stack: alice and bob each open their
 * conversation with the other and see the other's dot online (in the heading and the session list); bob closes his
 * page and alice's dot turns offline once the held-back offline check runs (flushed here, not waited for).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { LocalStack } from '../../local/stack.js';
import { eventually, HAS_CHROMIUM, launchChromium, startPageStack, openChatPage } from './support.js';

describe.skipIf(!HAS_CHROMIUM)('presence in the chat page', () => {
  let stack: LocalStack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startPageStack();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  function open(user: string, peer: string): Promise<Page> {
    return openChatPage(browser, stack, `?user=${user}&peer=${peer}`);
  }

  it("shows each other's dot online, and offline after one closes", async () => {
    const alice = await open('alice', 'bob');
    const bob = await open('bob', 'alice');
    const dotOf = (page: Page) => () => page.locator('#peer-presence').getAttribute('data-presence');
    await eventually(dotOf(alice)).toBe('online');
    await eventually(dotOf(bob)).toBe('online');

    await bob.close();
    await stack.presenceChecks.flushHeld('bob');
    await eventually(dotOf(alice)).toBe('offline');
  });
});
