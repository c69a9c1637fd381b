/**
 * Reporting and data export on the chat page in headless Chromium against the real local stack: bob selects
 * mallory's message, picks a reason and reports it — the report is stored with its snapshot and reaches the bus; a
 * second report of the same message answers the same id; "Download my data" shows a link to the export's JSON.
 * Skipped only where no Chromium is installed.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.js';
import { eventually, HAS_CHROMIUM, launchChromium, startPageStack, openChatPage } from './support.js';

describe.skipIf(!HAS_CHROMIUM)('reporting and export on the chat page', () => {
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

  it('bob reports mallory’s message with a reason; it is stored, announced, and a repeat answers the same id', async () => {
    const mallory = await open('mallory', 'bob');
    const bob = await open('bob', 'mallory');
    await mallory.fill('#message-input', 'buy followers now');
    await mallory.click('#send');
    const received = bob.locator('#messages > li[data-msg-id="1"][data-own="false"]');
    await received.waitFor();

    await received.click();
    await bob.locator('#report-bar[data-msg-id="1"]').waitFor();
    await bob.selectOption('#report-reason', 'spam');
    await bob.click('#report-send');
    const result = bob.locator('#report-result[data-report-id]');
    await result.waitFor();
    const reportId = await result.getAttribute('data-report-id');
    expect(reportId).toMatch(/^r_/);
    expect(stack.moderation.reports).toEqual([
      expect.objectContaining({
        report_id: reportId,
        reporter_id: 'bob',
        reason: 'spam',
        snapshot: [expect.objectContaining({ msg_id: 1, from_user_id: 'mallory', msg_data: 'buy followers now' })],
      }),
    ]);

    await bob.selectOption('#report-reason', 'abuse');
    await bob.click('#report-send');
    await eventually(() => bob.locator('#report-result').textContent()).toContain(reportId!);
    expect(stack.moderation.reports).toHaveLength(1);
    await Promise.all([mallory.close(), bob.close()]);
  });

  it('"Download my data" shows a link to the JSON export', async () => {
    const alice = await open('alice', 'bob');
    await alice.fill('#message-input', 'hello');
    await alice.click('#send');
    await alice.locator('#messages > li[data-msg-id="1"][data-state="stored"]').waitFor();
    await alice.click('#export-data');
    const link = alice.locator('#export-link[data-export-id]');
    await link.waitFor({ timeout: 60_000 });
    const href = await link.getAttribute('href');
    const response = await fetch(href!);
    expect(response.status).toBe(200);
    expect(JSON.stringify(await response.json())).toContain('"msg_data":"hello"');
    await alice.close();
  });
});
