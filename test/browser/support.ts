/** What the browser tests share: where Chromium is, how it is launched, and waiting on the page. */
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect, inject } from 'vitest';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../local/stack.js';
import { buildWebApp } from '../../local/web/build.js';
import { chromiumPrerequisite } from '../support/prerequisites.js';

const chromiumHere = chromiumPrerequisite();
export const CHROMIUM = chromiumHere.path;
/** Without it the browser tests are skipped, and the run ends saying so (test/support/skip-summary.ts). */
export const HAS_CHROMIUM = chromiumHere.present;

/** Playwright adds --headless and a fresh --user-data-dir; these keep Chromium off the (closed) network. */
const OFFLINE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...OFFLINE_ARGS, ...extraArgs] });
}

/**
 * Waits on a condition read from the page (or the store), for as long as a loaded machine needs: a test never depends
 * on how fast the page gets there, only on where it ends up.
 */
export const eventually = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 30_000, interval: 50 });

/** The local stack serving the chat page, on the run's DynamoDB Local, its tables under a fresh prefix. */
export async function startPageStack(
  options: Omit<LocalStackOptions, 'port' | 'dynamoEndpoint' | 'tablePrefix' | 'webApp'> = {},
): Promise<LocalStack> {
  return startLocalStack({
    ...options,
    port: 0,
    dynamoEndpoint: inject('dynamoEndpoint'),
    tablePrefix: `b${randomUUID().slice(0, 8)}_`,
    webApp: await buildWebApp(),
  });
}

/** A new page of the chat page at `query` (`?user=…`), connected; an error thrown in the page fails the test. */
export async function openChatPage(browser: Browser, stack: LocalStack, query: string): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (error) => {
    throw error;
  });
  await page.goto(`${stack.httpUrl}/${query}`);
  await page.locator('#status[data-state="open"]').waitFor();
  return page;
}
