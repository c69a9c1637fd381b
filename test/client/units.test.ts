/** The SDK's pure parts: backoff, de-duplication keys, the emitter, connect URLs, ids, tokens, pacing. */
import { describe, expect, it } from 'vitest';
import { backoffDelay, resolveReconnectOptions } from '../../client/backoff.js';
import { MessageDeduper, SeenSet, relationKey } from '../../client/dedupe.js';
import { TypedEmitter } from '../../client/emitter.js';
import { createClientMsgId, tokenSubject, utf8Decode } from '../../client/ids.js';
import { RateGate } from '../../client/rate-gate.js';
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
    const ab = relationKey({ from_user_id: 'alice', to_session_id: 'bob', msg_type: 1 });
    expect(relationKey({ from_user_id: 'bob', to_session_id: 'alice', msg_type: 2 })).toBe(ab);
    expect(relationKey({ from_user_id: 'alice', to_session_id: 'carol', msg_type: 1 })).not.toBe(ab);
    const group = relationKey({ from_user_id: 'alice', to_session_id: 'g1', msg_type: 17 });
    expect(relationKey({ from_user_id: 'bob', to_session_id: 'g1', msg_type: 18 })).toBe(group);
    // A user id containing the separator of another pair cannot collide: the separator is NUL.
    expect(relationKey({ from_user_id: 'a', to_session_id: 'b.c', msg_type: 1 })).not.toBe(
      relationKey({ from_user_id: 'a.b', to_session_id: 'c', msg_type: 1 }),
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
    expect(buildConnectUrl('ws://h/p?token=old&x=2&client_type=1#f', 'new', 2)).toBe(
      'ws://h/p?x=2&token=new&client_type=2',
    );
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

describe('tokenSubject', () => {
  const tokenWith = (claims: object) => `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.s`;

  it('reads the sub without TextDecoder, atob or Buffer (Hermes has none of them)', () => {
    const hidden = ['TextDecoder', 'atob', 'Buffer'] as const;
    const saved = hidden.map((name) => Object.getOwnPropertyDescriptor(globalThis, name));
    const token = tokenWith({ sub: 'zoë.李@x', exp: 1 });
    try {
      for (const name of hidden) Reflect.deleteProperty(globalThis, name);
      expect(tokenSubject(token)).toBe('zoë.李@x');
      expect(tokenSubject('not-a-jwt')).toBeUndefined();
      expect(tokenSubject('a.!!!.c')).toBeUndefined();
    } finally {
      for (const [i, name] of hidden.entries()) Object.defineProperty(globalThis, name, saved[i]!);
    }
  });

  it('decodes UTF-8 as TextDecoder does, malformed sequences included', () => {
    const samples = ['plain', 'zoë', '李', '😀 and 𝄞', '\u0000\u007f\u0080\u07ff\u0800\uffff'];
    for (const text of samples) expect(utf8Decode(Buffer.from(text, 'utf8'))).toBe(text);
    for (const bytes of [
      [0xff],
      [0xc0, 0x80],
      [0xe2, 0x82],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0x61, 0xe2, 0x28, 0xa1],
    ]) {
      expect(utf8Decode(bytes)).toBe(new TextDecoder().decode(Uint8Array.from(bytes)));
    }
  });
});

describe('RateGate', () => {
  it('lets `limit` frames through in any window, then tells how long to wait; close() holds everything', () => {
    const gate = new RateGate(3, 1_000);
    for (const t of [0, 10, 20]) {
      expect(gate.delay(t)).toBe(0);
      gate.pass(t);
    }
    expect(gate.delay(500)).toBe(500); // the first one leaves the window at 1000
    expect(gate.delay(1_000)).toBe(0);
    gate.pass(1_000);
    expect(gate.delay(1_005)).toBe(5);
    gate.close(2_000, 1_100);
    expect(gate.delay(1_100)).toBe(2_000);
    expect(new RateGate(0, 1_000).delay(0)).toBe(0); // 0: no pacing
  });
});
