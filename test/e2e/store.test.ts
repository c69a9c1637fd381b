/**
 * Two ChatStores against the real local stack (emulator, handlers, DynamoDB Local, local S3), as two apps would bind
 * them: alice's send shows pending and then stored; bob's store lists the session with its unread count, gets the
 * message live, and marking it read clears the count and gives alice her read receipt; bob, restarted from his saved
 * state after being away, gets what he missed (as `missed`, unread counts from the server); a group
 * created on alice's side appears in bob's list with its name; a picture arrives as a typed attachment.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ChatClient, ChatStore, peer, type ChatSnapshot, type KeyValueStorage } from '../../client/index.js';
import { startTestStack, type TestStack } from './harness.js';

let t: TestStack | undefined;
const stores: ChatStore[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) {
    store.dispose();
    store.client.close();
  }
  await t?.stop();
  t = undefined;
});

class MemoryStorage implements KeyValueStorage {
  readonly values = new Map<string, string>();
  getItem(key: string): string | null {
    return this.values.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.values.set(key, value);
  }
}

async function storeOf(stack: TestStack, userId: string, storage?: KeyValueStorage): Promise<ChatStore> {
  const client = new ChatClient({ url: stack.stack.url, token: await stack.stack.mintToken(userId), WebSocket });
  const store = new ChatStore(client, storage ? { storage, storageKey: `chat:${userId}` } : {});
  stores.push(store);
  // Started and caught up: what is sent from now on reaches it live.
  const synced = client.waitFor('synced');
  await store.start();
  await synced;
  return store;
}

/** The first snapshot (now or after a change) that passes `test`. */
function until(store: ChatStore, test: (snapshot: ChatSnapshot) => boolean): Promise<ChatSnapshot> {
  return new Promise((resolve) => {
    const check = () => {
      const snapshot = store.getSnapshot();
      if (!test(snapshot)) return;
      off();
      resolve(snapshot);
    };
    const off = store.subscribe(check);
    check();
  });
}

const messages = (snapshot: ChatSnapshot, key: string) => snapshot.conversations[key]?.messages ?? [];
const session = (snapshot: ChatSnapshot, key: string) => snapshot.sessions.find((s) => s.key === key);

describe('two ChatStores on the local stack', () => {
  it('pending → stored, a live message with its unread count, read receipts, a restart that catches up, a group, a picture', async () => {
    t = await startTestStack();
    const storage = new MemoryStorage();
    const alice = await storeOf(t, 'alice');
    let bob = await storeOf(t, 'bob', storage);

    // alice's send shows at once, then stored; bob gets it live with an unread count.
    const sent = alice.send(peer('bob'), 'hello bob');
    expect(messages(alice.getSnapshot(), '1:bob')).toEqual([
      expect.objectContaining({ key: sent.key, status: 'pending' }),
    ]);
    let a = await until(alice, (s) => messages(s, '1:bob')[0]?.status === 'stored');
    expect(messages(a, '1:bob')[0]).toMatchObject({ msgId: 1, clientMsgId: sent.clientMsgId, fromMe: true });
    let b = await until(bob, (s) => session(s, '1:alice')?.unreadCount === 1 && messages(s, '1:alice').length === 1);
    expect(messages(b, '1:alice')).toEqual([
      expect.objectContaining({ msgId: 1, text: 'hello bob', fromUserId: 'alice', fromMe: false, source: 'live' }),
    ]);
    expect(b.sessions[0]).toMatchObject({ key: '1:alice', latestMessage: { msgId: 1, text: 'hello bob' } });

    // bob reads it: his count clears, alice gets the receipt.
    await bob.markRead(peer('alice'));
    expect(bob.getSnapshot().unreadTotal).toBe(0);
    a = await until(alice, (s) => s.conversations['1:bob']?.peerReadUpTo === 1);

    // bob is away (the app is killed after saving); alice writes twice; bob's restarted app catches up.
    await bob.save();
    bob.dispose();
    bob.client.close();
    alice.send(peer('bob'), 'are you there?');
    alice.send(peer('bob'), 'ping');
    await until(alice, (s) => messages(s, '1:bob').filter((m) => m.status === 'stored').length === 3);
    bob = await storeOf(t, 'bob', storage);
    b = await until(bob, (s) => messages(s, '1:alice').length === 2 && session(s, '1:alice')?.unreadCount === 2);
    expect(messages(b, '1:alice').map((m) => [m.msgId, m.text, m.source])).toEqual([
      [2, 'are you there?', 'missed'],
      [3, 'ping', 'missed'],
    ]);
    expect(b.conversations['1:alice']!.readUpTo).toBe(1);

    // A group made by alice shows in bob's list with its name; its message arrives.
    const team = await alice.createGroup('team', ['bob']);
    b = await until(bob, (s) => session(s, `2:${team.id}`)?.title === 'team');
    expect(b.groups[team.id]).toMatchObject({ name: 'team', ownerId: 'alice', memberIds: ['alice', 'bob'] });
    alice.send(team, 'hello team');
    b = await until(bob, (s) => messages(s, `2:${team.id}`).length === 1);
    expect(messages(b, `2:${team.id}`)[0]).toMatchObject({ text: 'hello team', fromUserId: 'alice', msgId: 1 });

    // A picture: uploaded to the local S3, sent, and read by bob as a typed attachment.
    const photo = new Blob([new Uint8Array(512).fill(7)], { type: 'image/png' });
    const picture = alice.sendPicture(peer('bob'), photo, { width: 16, height: 32 });
    expect(picture).toMatchObject({ status: 'pending', kind: 'picture', upload: { state: 'uploading' } });
    b = await until(bob, (s) => messages(s, '1:alice').some((m) => m.kind === 'picture'));
    const received = messages(b, '1:alice').find((m) => m.kind === 'picture')!;
    expect(received).toMatchObject({
      text: undefined,
      attachment: { kind: 'picture', contentType: 'image/png', size: 512, width: 16, height: 32 },
    });
    expect(session(b, '1:alice')!.latestMessage).toMatchObject({ kind: 'picture', text: undefined });
    const url = await bob.client.attachmentUrl({ conversation: peer('alice'), key: received.attachment!.key });
    expect((await (await fetch(url)).arrayBuffer()).byteLength).toBe(512);
  });
});
