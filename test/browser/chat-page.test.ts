/**
 * The chat page in headless Chromium (Debian's `chromium`, driven by playwright-core) against the real local stack:
 * the emulator, the handlers and DynamoDB Local. Two users see a message cross, the sender's second tab gets it,
 * the ack state shows, a refused send shows its code, a dropped connection reconnects. A screenshot is kept in
 * test/artifacts/. Skipped only where no Chromium is installed (.ci/run installs it; CHROMIUM_PATH overrides).
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { existsSync, mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildWebApp } from '../../local/web/build.js';
import { startLocalStack, type LocalStack } from '../../local/stack.js';
import { localDynamoClient } from '../support/dynamo.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARTIFACTS = new URL('../artifacts/', import.meta.url);

describe.skipIf(!existsSync(CHROMIUM))('chat page in Chromium on the local stack', () => {
  let stack: LocalStack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startLocalStack({
      port: 0,
      dynamoEndpoint: inject('dynamoEndpoint'),
      tablePrefix: `b${randomUUID().slice(0, 8)}_`,
      webApp: await buildWebApp(),
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Playwright adds --headless and a fresh --user-data-dir; these keep Chromium off the (closed) network.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function open(user: string, peer: string): Promise<Page> {
    const page = await browser.newPage();
    page.on('pageerror', (error) => {
      throw error;
    });
    await page.goto(`${stack.httpUrl}/?user=${user}&peer=${peer}`);
    await page.locator('#status[data-state="open"]').waitFor();
    return page;
  }

  async function send(page: Page, text: string): Promise<void> {
    await page.fill('#message-input', text);
    await page.click('#send');
  }

  async function pendingDeliveries(): Promise<number> {
    const client = localDynamoClient();
    try {
      const result = await client.send(new ScanCommand({ TableName: stack.tables.PendingDeliveries, ConsistentRead: true }));
      return result.Count ?? 0;
    } finally {
      client.destroy();
    }
  }

  it('a message crosses from alice to bob and to alice’s other tab, with its ack state, and every copy is acked', async () => {
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
    expect(await received.getAttribute('data-from')).toBe('alice');
    expect(await received.textContent()).toContain('hello bob');

    const echoed = aliceOtherTab.locator('#messages > li[data-msg-id="1"]');
    await echoed.waitFor();
    expect(await echoed.getAttribute('data-own')).toBe('true');

    // bob's tab and alice's other tab acked their deliveries: nothing is left pending.
    await expect.poll(pendingDeliveries, { timeout: 10_000 }).toBe(0);

    await send(bob, 'hi alice');
    await alice.locator('#messages > li[data-msg-id="2"]').waitFor();
    mkdirSync(ARTIFACTS, { recursive: true });
    await alice.screenshot({ path: new URL('chat-page.png', ARTIFACTS).pathname, fullPage: true });

    await Promise.all([alice.close(), aliceOtherTab.close(), bob.close()]);
  });

  it('shows a refused send as failed with the error code', async () => {
    const carol = await open('carol', 'carol');
    await send(carol, 'note to self');
    const item = carol.locator('#messages > li[data-own="true"]').last();
    await expect.poll(() => item.getAttribute('data-state')).toBe('failed');
    expect(await item.getAttribute('data-error-code')).toBe('self_message');
    await carol.close();
  });

  it('reconnects after the connection is lost and goes on sending', async () => {
    const dave = await open('dave', 'erin');
    await send(dave, 'first');
    await dave.locator('#messages > li[data-msg-id="1"][data-state="stored"]').waitFor();

    const [live] = stack.emulator.connections().filter((c) => c.authorizer?.['userId'] === 'dave');
    expect(stack.emulator.dropConnection(live!.connectionId)).toBe(true);
    await dave.locator('#status[data-state="reconnecting"]').waitFor();
    await dave.locator('#status[data-state="open"]').waitFor({ timeout: 10_000 });
    await send(dave, 'second');
    await dave.locator('#messages > li[data-msg-id="2"][data-state="stored"]').waitFor();
    await dave.close();
  });
});
