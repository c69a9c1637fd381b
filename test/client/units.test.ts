/** The SDK's pure parts: backoff, de-duplication keys, the emitter, connect URLs, ids. */
import { describe, expect, it } from 'vitest';
import { backoffDelay, resolveReconnectOptions } from '../../client/backoff.js';
import { MessageDeduper, SeenSet, conversationKey } from '../../client/dedupe.js';
import { TypedEmitter } from '../../client/emitter.js';
import { createClientMsgId } from '../../client/ids.js';
import { buildConnectUrl } from '../../client/socket.js';

describe('backoffDelay', () => {
  const options = resolveReconnectOptions({ initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0 });

  it('grows exponentially up to the cap', () => {
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, options))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('draws jitter below the nominal delay', () => {
    const jittered = resolveReconnectOptions({ initialDelayMs: 100, jitter: 0.5 });
    expect(backoffDelay(0, jittered, () => 0)).toBe(100);
    expect(backoffDelay(0, jittered, () => 0.999)).toBe(50);
    expect(backoffDelay(2, jittered, () => 0.5)).toBe(300);
  });

  it('refuses nonsense', () => {
    expect(() => resolveReconnectOptions({ jitter: 2 })).toThrow(RangeError);
    expect(() => resolveReconnectOptions({ factor: 0.5 })).toThrow(RangeError);
  });
});

describe('de-duplication', () => {
  it('keys single chat by the unordered pair and groups by group id', () => {
    const ab = conversationKey({ from_user_id: 'alice', to_session_id: 'bob', msg_type: 1 });
    expect(conversationKey({ from_user_id: 'bob', to_session_id: 'alice', msg_type: 2 })).toBe(ab);
    expect(conversationKey({ from_user_id: 'alice', to_session_id: 'carol', msg_type: 1 })).not.toBe(ab);
    const group = conversationKey({ from_user_id: 'alice', to_session_id: 'g1', msg_type: 17 });
    expect(conversationKey({ from_user_id: 'bob', to_session_id: 'g1', msg_type: 18 })).toBe(group);
    // A user id containing the separator of another pair cannot collide: the separator is NUL.
    expect(conversationKey({ from_user_id: 'a', to_session_id: 'b.c', msg_type: 1 })).not.toBe(
      conversationKey({ from_user_id: 'a.b', to_session_id: 'c', msg_type: 1 }),
    );
  });

  it('remembers a bounded number of keys', () => {
    const seen = new SeenSet(2);
    expect(seen.add('a')).toBe(true);
    expect(seen.add('a')).toBe(false);
    seen.add('b');
    seen.add('c'); // Evicts 'a'.
    expect(seen.size).toBe(2);
    expect(seen.add('a')).toBe(true);
    const deduper = new MessageDeduper();
    const frame = { from_user_id: 'bob', to_session_id: 'alice', msg_type: 1, msg_id: 1 };
    expect(deduper.isFirst(frame)).toBe(true);
    expect(deduper.isFirst({ ...frame, from_user_id: 'alice', to_session_id: 'bob' })).toBe(false);
  });
});

describe('TypedEmitter', () => {
  class Emitter extends TypedEmitter<{ n: number; s: string }> {
    fire<K extends 'n' | 's'>(event: K, payload: { n: number; s: string }[K]): void {
      this.emit(event, payload);
    }
  }

  it('delivers, unsubscribes, once, waitFor with a filter', async () => {
    const emitter = new Emitter();
    const seen: number[] = [];
    const off = emitter.on('n', (n) => seen.push(n));
    emitter.once('n', (n) => seen.push(n * 10));
    const waited = emitter.waitFor('n', (n) => n > 1);
    emitter.fire('n', 1);
    emitter.fire('n', 2);
    off();
    emitter.fire('n', 3);
    expect(seen).toEqual([1, 10, 2]);
    expect(await waited).toBe(2);
    expect(emitter.listenerCount('n')).toBe(0);
  });
});

describe('buildConnectUrl', () => {
  it('adds token and client_type, encoded, keeping other parameters', () => {
    const url = new URL(buildConnectUrl('wss://x.example/prod?a=1', 'a.b+c/d=', 18));
    expect(url.searchParams.get('a')).toBe('1');
    expect(url.searchParams.get('token')).toBe('a.b+c/d=');
    expect(url.searchParams.get('client_type')).toBe('18');
    expect(buildConnectUrl('ws://127.0.0.1:8787', 't', undefined)).toBe('ws://127.0.0.1:8787?token=t');
    expect(buildConnectUrl('ws://h/p?token=old&x=2&client_type=1#f', 'new', 2)).toBe('ws://h/p?x=2&token=new&client_type=2');
  });
});

describe('createClientMsgId', () => {
  it('makes distinct UUIDs, also without crypto.randomUUID', () => {
    const ids = new Set(Array.from({ length: 100 }, () => createClientMsgId()));
    expect(ids.size).toBe(100);
    const original = globalThis.crypto.randomUUID;
    try {
      Object.defineProperty(globalThis.crypto, 'randomUUID', { value: undefined, configurable: true });
      expect(createClientMsgId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    } finally {
      Object.defineProperty(globalThis.crypto, 'randomUUID', { value: original, configurable: true });
    }
  });
});
