/**
 * Blocking in the chat page, in headless Chromium against the real local stack: alice opens her conversation with
 * mallory and clicks Block; mallory's next one-to-one message is refused by the server (`not_allowed`) and never
 * appears in alice's page, while bob's message after it does (so the page was live the whole time); Unblock lets
 * mallory's next message through. In a group, mallory's message shows in alice's page collapsed (flagged).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { BlockedError, ChatClient, group, peer } from '../../client/index.js';
import type { LocalStack } from '../../local/stack.js';
import { eventually, HAS_CHROMIUM, launchChromium, startPageStack, openChatPage } from './support.js';

describe.skipIf(!HAS_CHROMIUM)('blocking in the chat page', () => {
  let stack: LocalStack;
  let browser: Browser;
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    stack = await startPageStack();
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await browser?.close();
    await stack?.stop();
  });

  function open(user: string, query: string): Promise<Page> {
    return openChatPage(browser, stack, `?user=${user}${query}`);
  }

  async function sdk(user: string): Promise<ChatClient> {
    const client = new ChatClient({ url: stack.url, token: await stack.mintToken(user), WebSocket, catchUp: false });
    clients.push(client);
    await client.connect();
    return client;
  }

  it("alice blocks mallory in the page: mallory's next message never shows there, bob's does; unblock lets him through", async () => {
    const mallory = await sdk('mallory');
    const bob = await sdk('bob');
    await mallory.send({ to: peer('alice'), msgData: 'before the block' });
    const alice = await open('alice', '&peer=mallory');
    await alice.locator('#messages > li[data-from="mallory"]').waitFor();

    const blockButton = alice.locator('#block-user');
    await eventually(() => blockButton.getAttribute('data-blocked')).toBe('false');
    await blockButton.click();
    await eventually(() => blockButton.getAttribute('data-blocked')).toBe('true');

    await expect(mallory.send({ to: peer('alice'), msgData: 'while blocked' })).rejects.toBeInstanceOf(BlockedError);
    await bob.send({ to: peer('alice'), msgData: 'bob after the block' });
    await eventually(async () => (await alice.locator('#sessions > li[data-session-id="bob"]').count()) > 0).toBe(true);
    await alice.locator('#sessions > li[data-session-id="bob"] button').click();
    await alice.locator('#messages > li[data-from="bob"]').waitFor();
    await alice.locator('#sessions > li[data-session-id="mallory"] button').click();
    await alice.locator('#messages > li[data-from="mallory"]').first().waitFor();
    expect(await alice.locator('#messages').textContent()).not.toContain('while blocked');
    expect(await alice.locator('#messages > li[data-from="mallory"]').count()).toBe(1);

    await alice.locator('#block-user').click();
    await eventually(() => blockButton.getAttribute('data-blocked')).toBe('false');
    await mallory.send({ to: peer('alice'), msgData: 'after the unblock' });
    await eventually(() => alice.locator('#messages').textContent()).toContain('after the unblock');
    await alice.close();
  });

  it("a blocked member's group message shows collapsed in the blocker's page", async () => {
    const mallory = await sdk('mallory2');
    const carol = await open('carol', '&peer=mallory2');
    await carol.locator('#block-user').click();
    await eventually(() => carol.locator('#block-user').getAttribute('data-blocked')).toBe('true');
    const created = await mallory.createGroup({ groupName: 'team', memberIds: ['carol'] });
    await mallory.send({ to: group(created.group_id), msgData: 'to the group' });
    await eventually(
      async () => (await carol.locator(`#sessions > li[data-session-id="${created.group_id}"]`).count()) > 0,
    ).toBe(true);
    await carol.locator(`#sessions > li[data-session-id="${created.group_id}"] button`).click();
    const item = carol.locator('#messages > li[data-from="mallory2"]');
    await item.waitFor();
    expect(await item.getAttribute('data-blocked-sender')).toBe('true');
    expect(await item.locator('.body').isVisible()).toBe(false);
    await item.click();
    expect(await item.locator('.body').isVisible()).toBe(true);
    await carol.close();
  });
});
