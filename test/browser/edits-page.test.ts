/**
 * Recall and edit in the chat page, in headless Chromium against the real local stack: alice edits and recalls her
 * messages with the row's Edit / Recall buttons; bob's page shows "(edited)" with the new text and "message recalled"
 * live, and again after a reload; a change made while bob's page was closed shows when it opens (catch-up reads it).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.js';
import { eventually, HAS_CHROMIUM, launchChromium, startPageStack, openChatPage } from './support.js';

describe.skipIf(!HAS_CHROMIUM)('recall and edit in the chat page', () => {
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

  async function send(page: Page, text: string): Promise<void> {
    await page.fill('#message-input', text);
    await page.click('#send');
  }

  const row = (page: Page, msgId: number) => page.locator(`#messages > li[data-msg-id="${msgId}"]`);

  async function edit(page: Page, msgId: number, text: string): Promise<void> {
    await row(page, msgId).locator('button[data-action="edit"]').click();
    await row(page, msgId).locator('input.edit-input').fill(text);
    await row(page, msgId).locator('button[data-action="save-edit"]').click();
  }

  it('bob sees alice’s edit and recall live and after a reload', async () => {
    const alice = await open('alice', 'bob');
    const bob = await open('bob', 'alice');
    await send(alice, 'helo bob');
    await send(alice, 'a secret');
    await eventually(() => row(alice, 2).getAttribute('data-state')).toBe('stored');
    await row(bob, 2).waitFor();

    await edit(alice, 1, 'hello bob');
    await eventually(() => row(bob, 1).locator('.body').textContent()).toBe('hello bob');
    expect(await row(bob, 1).getAttribute('data-edited-at')).toMatch(/^\d+$/);
    expect(await row(bob, 1).locator('.meta').textContent()).toContain('(edited)');
    expect(await row(alice, 1).locator('.meta').textContent()).toContain('(edited)');
    expect(await row(bob, 1).locator('button[data-action]').count()).toBe(0); // not bob's to change

    await row(alice, 2).locator('button[data-action="recall"]').click();
    await eventually(() => row(bob, 2).getAttribute('data-recalled')).toBe('true');
    expect(await row(bob, 2).locator('.body').textContent()).toBe('message recalled');
    expect(await bob.locator('#messages').textContent()).not.toContain('a secret');
    await eventually(() => row(alice, 2).getAttribute('data-recalled')).toBe('true');
    expect(await row(alice, 2).locator('button[data-action]').count()).toBe(0);

    await bob.reload();
    await bob.locator('#status[data-state="open"]').waitFor();
    await eventually(() => row(bob, 2).getAttribute('data-recalled')).toBe('true');
    expect(await row(bob, 1).locator('.body').textContent()).toBe('hello bob');
    expect(await bob.locator('#messages').textContent()).not.toContain('a secret');
    await alice.close();
    await bob.close();
  });

  it('a change made while bob’s page was closed shows when it opens again', async () => {
    const alice = await open('carol', 'dave');
    let dave = await open('dave', 'carol');
    await send(alice, 'first draft');
    await send(alice, 'oops');
    await row(dave, 2).waitFor();
    await dave.close();

    await edit(alice, 1, 'final text');
    await eventually(() => row(alice, 1).getAttribute('data-edited-at')).toMatch(/^\d+$/);
    await row(alice, 2).locator('button[data-action="recall"]').click();
    await eventually(() => row(alice, 2).getAttribute('data-recalled')).toBe('true');

    dave = await open('dave', 'carol');
    await eventually(() => row(dave, 2).getAttribute('data-recalled')).toBe('true');
    expect(await row(dave, 1).locator('.body').textContent()).toBe('final text');
    expect(await row(dave, 1).locator('.meta').textContent()).toContain('(edited)');
    await alice.close();
    await dave.close();
  });
});
