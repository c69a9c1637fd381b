/**
 * The chat page in headless Chromium (Debian's `chromium`, driven by playwright-core) against the real local stack:
 * the emulator, the handlers and DynamoDB Local. Two users see a message cross, the sender's second tab gets it,
 * the ack state shows, a refused send shows its code, a dropped connection reconnects; the session list shows unread
 * badges that clear when the conversation is opened, the sender sees "read", scrolling back loads older pages, and a
 * removed session leaves the list of every tab; a group is created, chatted in, changes members and is left; kicks, rate
 * limits and caps show in a banner (against a fake server, via the page's ?ws= override). Screenshots are kept in
 * test/artifacts/. Skipped only where no Chromium is installed (.ci/run installs it; CHROMIUM_PATH overrides).
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ChatClient, peer } from '../../client/index.js';
import { FakeHistory } from '../client/fake-history.js';
import { AutoAck, FakeServer } from '../client/fake-server.js';
import type { LocalStack } from '../../local/stack.js';
import { localDynamoClient } from '../support/dynamo.js';
import { eventually, HAS_CHROMIUM, launchChromium, startPageStack, openChatPage } from './support.js';

const ARTIFACTS = new URL('../artifacts/', import.meta.url);

describe.skipIf(!HAS_CHROMIUM)('chat page in Chromium on the local stack', () => {
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

  function open(user: string, peer?: string, query = ''): Promise<Page> {
    return openChatPage(browser, stack, `?user=${user}${peer === undefined ? '' : `&peer=${peer}`}${query}`);
  }

  async function send(page: Page, text: string): Promise<void> {
    await page.fill('#message-input', text);
    await page.click('#send');
  }

  async function pendingDeliveries(): Promise<number> {
    const client = localDynamoClient();
    try {
      // Deliveries only: the table also holds each connection's token expiry.
      const result = await client.send(
        new ScanCommand({
          TableName: stack.tables.PendingDeliveries,
          ConsistentRead: true,
          FilterExpression: '#k = :delivery',
          ExpressionAttributeNames: { '#k': 'kind' },
          ExpressionAttributeValues: { ':delivery': { S: 'delivery' } },
        }),
      );
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
    await eventually(() => mine.getAttribute('data-state')).toBe('stored');
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
    await eventually(pendingDeliveries).toBe(0);

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
    await eventually(() => item.getAttribute('data-state')).toBe('failed');
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

  /** Sends n messages from an SDK client in Node: all at once, the SDK paces them to the server's rate and order. */
  async function sendFromNode(from: string, to: string, n: number): Promise<void> {
    const client = new ChatClient({
      url: stack.url,
      token: await stack.mintToken(from),
      WebSocket,
      catchUp: false,
      reconnect: false,
    });
    try {
      await client.connect();
      await Promise.all(Array.from({ length: n }, (_, i) => client.send({ to: peer(to), msgData: `old ${i + 1}` })));
    } finally {
      client.close();
    }
  }

  it('lists sessions with unread badges that clear when opened, and the sender sees its messages read', async () => {
    const grace = await open('grace', 'heidi');
    await send(grace, 'one');
    await send(grace, 'two');
    await grace.locator('#messages > li[data-msg-id="2"][data-state="stored"]').waitFor();

    const heidi = await open('heidi');
    const session = heidi.locator('#sessions > li[data-session-id="grace"]');
    await eventually(() => session.getAttribute('data-unread')).toBe('2');
    expect(await session.textContent()).toContain('two');
    // A new message updates the badge live.
    await send(grace, 'three');
    await eventually(() => session.getAttribute('data-unread')).toBe('3');
    expect(await heidi.locator('#unread-total').getAttribute('data-unread')).toBe('3');
    mkdirSync(ARTIFACTS, { recursive: true });
    await heidi.screenshot({ path: new URL('chat-sessions.png', ARTIFACTS).pathname, fullPage: true });

    await session.locator('button').click();
    await heidi.locator('#messages > li[data-msg-id="3"]').waitFor();
    expect(
      await heidi.locator('#messages > li').evaluateAll((els) => els.map((el) => el.getAttribute('data-msg-id'))),
    ).toEqual(['1', '2', '3']);
    await eventually(() => session.getAttribute('data-unread')).toBe('0');
    expect(await session.getAttribute('data-selected')).toBe('true');

    // grace's messages turn "read" when heidi's read receipt arrives.
    const last = grace.locator('#messages > li[data-msg-id="3"]');
    await eventually(() => last.getAttribute('data-read')).toBe('true');
    expect(await last.textContent()).toContain('read');
    expect(await grace.locator('#messages > li[data-own="true"][data-read="false"]').count()).toBe(0);
    await grace.screenshot({ path: new URL('chat-read.png', ARTIFACTS).pathname, fullPage: true });

    // The server agrees: nothing unread for heidi.
    await eventually(() => heidi.locator('#unread-total').getAttribute('data-unread')).toBe('0');
    await Promise.all([grace.close(), heidi.close()]);
  });

  it('scrolling to the top loads older pages until the first message', async () => {
    await sendFromNode('ivan', 'judy', 75);
    const judy = await open('judy', 'ivan');
    const list = judy.locator('#messages');
    await judy.locator('#messages > li[data-msg-id="75"]').waitFor();
    expect(await judy.locator('#messages > li').count()).toBe(30);
    expect(await list.getAttribute('data-history')).toBe('more');

    for (let i = 0; i < 10 && (await list.getAttribute('data-history')) !== 'start'; i++) {
      await list.evaluate((el) => {
        el.scrollTop = 0;
      });
      await eventually(() => list.getAttribute('data-history')).not.toBe('loading');
    }
    await judy.locator('#messages > li[data-msg-id="1"]').waitFor();
    const ids = await judy
      .locator('#messages > li')
      .evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-msg-id'))));
    expect(ids).toEqual(Array.from({ length: 75 }, (_, i) => i + 1));
    expect(await list.getAttribute('data-history')).toBe('start');
    await judy.close();
  });

  it('removing a session takes it off the list in every tab of the user', async () => {
    await sendFromNode('kim', 'lee', 1);
    const lee = await open('lee', 'kim');
    const otherTab = await open('lee');
    await otherTab.locator('#sessions > li[data-session-id="kim"]').waitFor();
    await lee.locator('#messages > li[data-msg-id="1"]').waitFor();

    await lee.click('#remove-session');
    await lee.locator('#sessions > li[data-session-id="kim"]').waitFor({ state: 'detached' });
    await otherTab.locator('#sessions > li[data-session-id="kim"]').waitFor({ state: 'detached' });
    expect(await lee.locator('#messages > li').count()).toBe(0);

    // A new message brings it back.
    await sendFromNode('kim', 'lee', 1);
    await otherTab.locator('#sessions > li[data-session-id="kim"][data-unread="1"]').waitFor();
    await Promise.all([lee.close(), otherTab.close()]);
  });

  it('alice creates a group with bob and carol on the page; all three chat in it, see member changes, and carol leaves', async () => {
    const [bob, carol, alice] = [await open('bob'), await open('carol'), await open('alice')];

    await alice.fill('#group-name', 'team');
    await alice.fill('#group-members', 'bob, carol');
    await alice.click('#create-group');
    const aliceGroup = alice.locator('#sessions > li[data-session-type="2"][data-selected="true"]');
    await aliceGroup.waitFor();
    const groupId = (await aliceGroup.getAttribute('data-session-id'))!;
    expect(groupId).toMatch(/^g:[A-Za-z0-9_-]{22}$/);
    expect(await aliceGroup.textContent()).toContain('team');
    expect(await alice.locator('#conversation').textContent()).toContain('team');
    const memberIds = (page: Page) =>
      page.locator('#group-member-list > li').evaluateAll((els) => els.map((el) => el.getAttribute('data-user-id')));
    await eventually(() => memberIds(alice)).toEqual(['alice', 'bob', 'carol']);
    expect(await alice.locator('#group-member-list > li[data-user-id="alice"]').getAttribute('data-owner')).toBe(
      'true',
    );
    expect(await alice.locator('#leave-group').isHidden()).toBe(true); // the owner cannot leave

    // bob and carol are told and list the group; carol opens it before anything is sent.
    const groupIn = (page: Page) => page.locator(`#sessions > li[data-session-type="2"][data-session-id="${groupId}"]`);
    await groupIn(bob).waitFor();
    await groupIn(carol).waitFor();
    expect(await groupIn(bob).textContent()).toContain('team');
    await groupIn(carol).locator('button').click();
    await eventually(() => memberIds(carol)).toEqual(['alice', 'bob', 'carol']);

    await send(alice, 'hello team');
    await alice.locator('#messages > li[data-msg-id="1"][data-state="stored"]').waitFor();
    // carol has it open: it arrives live; bob sees an unread badge, then opens the group.
    const atCarol = carol.locator('#messages > li[data-msg-id="1"]');
    await atCarol.waitFor();
    expect(await atCarol.getAttribute('data-from')).toBe('alice');
    expect(await atCarol.locator('.meta').textContent()).toContain('alice');
    expect(await atCarol.textContent()).toContain('hello team');
    await eventually(() => groupIn(bob).getAttribute('data-unread')).toBe('1');
    await groupIn(bob).locator('button').click();
    const atBob = bob.locator('#messages > li[data-msg-id="1"]');
    await atBob.waitFor();
    expect(await atBob.getAttribute('data-from')).toBe('alice');
    expect(await atBob.textContent()).toContain('hello team');
    await eventually(() => groupIn(bob).getAttribute('data-unread')).toBe('0');

    // carol answers; the others see who sent it.
    await send(carol, 'hi from carol');
    for (const page of [alice, bob]) {
      const item = page.locator('#messages > li[data-msg-id="2"]');
      await item.waitFor();
      expect(await item.getAttribute('data-from')).toBe('carol');
      expect(await item.locator('.meta').textContent()).toContain('carol');
    }

    // The owner adds dave: the members see the change.
    await alice.fill('#group-add-member', 'dave');
    await alice.click('#add-member');
    for (const page of [alice, bob, carol])
      await eventually(() => memberIds(page)).toEqual(['alice', 'bob', 'carol', 'dave']);
    await bob.locator('#group-events > li[data-change-type="add"][data-user-ids="dave"]').waitFor();

    // carol leaves: the group leaves her list, and the others see her go.
    await carol.click('#leave-group');
    await groupIn(carol).waitFor({ state: 'detached' });
    for (const page of [alice, bob]) await eventually(() => memberIds(page)).toEqual(['alice', 'bob', 'dave']);
    await alice.locator('#group-events > li[data-change-type="del"][data-user-ids="carol"]').waitFor();
    await send(bob, 'bye carol');
    await alice.locator('#messages > li[data-msg-id="3"][data-from="bob"]').waitFor();
    mkdirSync(ARTIFACTS, { recursive: true });
    await alice.screenshot({ path: new URL('chat-group.png', ARTIFACTS).pathname, fullPage: true });

    // A fresh page of bob's (no saved state) lists the group and opens it from the URL with its history.
    const bobAgain = await open('bob', undefined, `&group=${groupId}`);
    await bobAgain.locator('#messages > li[data-msg-id="3"]').waitFor();
    expect(
      await bobAgain.locator('#messages > li').evaluateAll((els) => els.map((el) => el.getAttribute('data-from'))),
    ).toEqual(['alice', 'carol', 'bob']);
    expect(await groupIn(bobAgain).getAttribute('data-selected')).toBe('true');
    expect(await groupIn(bobAgain).textContent()).toContain('team');
    await Promise.all([alice.close(), bob.close(), carol.close(), bobAgain.close()]);
  });
  it('shows kicks, rate limits and caps in a banner (the page against a fake server that sends them)', async () => {
    const history = new FakeHistory('zed');
    let rateLimitOnce = true;
    const path = new AutoAck({ refuse: () => (rateLimitOnce ? ((rateLimitOnce = false), 'rate_limited') : undefined) });
    const fake = await FakeServer.start({
      onFrame: (connection, frame) => {
        history.onFrame(connection, frame);
        path.onFrame(connection, frame);
        if (frame['action'] === 'group_list')
          connection.send({ type: 'group_list', seq: frame['seq'], group_list: [] });
        if (frame['action'] === 'group_create')
          connection.send({
            type: 'error',
            seq: frame['seq'],
            code: 'limit_exceeded',
            message: 'a user owns at most 100 groups',
          });
      },
    });
    try {
      const zed = await open('zed', 'yan', `&ws=${encodeURIComponent(fake.url)}`);
      const banner = (kind: string) => zed.locator(`#banner[data-kind="${kind}"]`);

      // token_expired: the page says so and the SDK is back at once with a fresh token.
      (await fake.nextConnection()).send({ type: 'kick', reason: 'token_expired' });
      await banner('token_expired').waitFor();
      await fake.nextConnection();
      await zed.locator('#status[data-state="open"]').waitFor();

      // rate_limited on a send: the banner tells, the SDK resends by itself, the message is stored.
      await send(zed, 'paced');
      await banner('rate_limited').waitFor();
      await zed.locator('#messages > li[data-own="true"][data-state="stored"]').waitFor();

      // limit_exceeded on a group: the banner gives the server's reason.
      await zed.fill('#group-name', 'one too many');
      await zed.fill('#group-members', 'yan');
      await zed.click('#create-group');
      await banner('limit_exceeded').waitFor();
      expect(await banner('limit_exceeded').textContent()).toContain('at most 100 groups');

      // too_many_connections: disconnected for good until the user chooses to take over again.
      fake.connections.at(-1)!.send({ type: 'kick', reason: 'too_many_connections' });
      await banner('too_many_connections').waitFor();
      await zed.locator('#status[data-state="failed"]').waitFor();
      mkdirSync(ARTIFACTS, { recursive: true });
      await zed.screenshot({ path: new URL('chat-kicked.png', ARTIFACTS).pathname, fullPage: true });
      await banner('too_many_connections').locator('button', { hasText: 'Reconnect here' }).click();
      await zed.locator('#status[data-state="open"]').waitFor();
      expect(fake.connections).toHaveLength(3);
      await zed.close();
    } finally {
      await fake.close();
    }
  });
});
