/**
 * The chat page in headless Chromium (Debian's `chromium`, driven by playwright-core) against an in-memory stand-in
 * for the emulator: log in, send, see the ack state, live delivery to the peer and to a second tab of the sender,
 * an error code on a refused send, reconnect, history on a fresh tab. Skipped when no Chromium is installed
 * (CHROMIUM_PATH overrides /usr/bin/chromium).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebApp } from '../../local/web/build.js';
import { MiniChatServer } from './mini-chat-server.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM))('chat page in Chromium', () => {
  let server: MiniChatServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await MiniChatServer.start(await buildWebApp());
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Playwright adds --headless and a fresh --user-data-dir; these keep Chromium off the (closed) network.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open(user: string, peer: string): Promise<Page> {
    const page = await browser.newPage();
    page.on('pageerror', (error) => {
      throw error;
    });
    await page.goto(`${server.httpUrl}/?user=${user}&peer=${peer}`);
    await page.locator('#status[data-state="open"]').waitFor();
    return page;
  }

  async function send(page: Page, text: string): Promise<void> {
    await page.fill('#message-input', text);
    await page.click('#send');
  }

  it('sends, shows the ack state, delivers live to the peer and to the sender’s other tab', async () => {
    const alice = await open('alice', 'bob');
    const aliceOtherTab = await open('alice', 'bob');
    const bob = await open('bob', 'alice');

    await send(alice, 'hello bob');
    const mine = alice.locator('#messages > li[data-own="true"]').first();
    await expect.poll(() => mine.getAttribute('data-state')).toBe('stored');
    expect(await mine.getAttribute('data-msg-id')).toBe('1');
    expect(await mine.textContent()).toContain('hello bob');

    const received = bob.locator('#messages > li[data-msg-id="1"]');
    await received.waitFor();
    expect(await received.getAttribute('data-state')).toBe('received');
    expect(await received.getAttribute('data-from')).toBe('alice');
    expect(await received.textContent()).toContain('hello bob');

    const echoed = aliceOtherTab.locator('#messages > li[data-msg-id="1"]');
    await echoed.waitFor();
    expect(await echoed.getAttribute('data-own')).toBe('true');
    expect(await echoed.getAttribute('data-state')).toBe('stored');

    // Every delivery was acknowledged by the SDK, the sending tab got none to acknowledge.
    await expect.poll(() => server.deliveryAcks.sort()).toEqual(['alice:1', 'bob:1']);

    await bob.close();
    await aliceOtherTab.close();
    await alice.close();
  });

  it('shows a refused send as failed with the error code', async () => {
    const alice = await open('alice', 'alice');
    await send(alice, 'note to self');
    const item = alice.locator('#messages > li[data-own="true"]').last();
    await expect.poll(() => item.getAttribute('data-state')).toBe('failed');
    expect(await item.getAttribute('data-error-code')).toBe('self_message');
    expect(await item.textContent()).toContain('self_message');
    await alice.close();
  });

  it('logs in with the form, reconnects after a drop, and loads history in a fresh tab', async () => {
    const page = await browser.newPage();
    await page.goto(server.httpUrl);
    expect(await page.getAttribute('#status', 'data-state')).toBe('closed');
    await page.fill('#user-id', 'carol');
    await page.fill('#peer-id', 'dave');
    await page.click('#login');
    await page.locator('#status[data-state="open"]').waitFor();
    await send(page, 'first');
    await page.locator('#messages > li[data-msg-id="1"][data-state="stored"]').waitFor();

    server.dropUser('carol');
    await page.locator('#status[data-state="reconnecting"]').waitFor();
    await page.locator('#status[data-state="open"]').waitFor({ timeout: 10_000 });
    await send(page, 'second');
    await page.locator('#messages > li[data-msg-id="2"][data-state="stored"]').waitFor();

    const dave = await open('dave', 'carol');
    await dave.locator('#messages > li[data-msg-id="2"]').waitFor();
    expect(await dave.locator('#messages > li').allTextContents()).toEqual([
      expect.stringContaining('first'),
      expect.stringContaining('second'),
    ]);
    await dave.close();
    await page.close();
  });
});
