/**
 * The React Native-style example app (client/examples/react-native) bundled with the SDK package's build, as Metro
 * would, and run in a fresh JavaScript context whose only globals are those React Native gives every app: WebSocket
 * (delivering text frames as strings, as React Native's does), timers and console. No TextDecoder, atob, Buffer,
 * crypto, process, URL or queueMicrotask: what Hermes may lack. Against the fake server it connects, reads its user
 * id from the token, catches up (history, no notification), receives a live message (a notification) and sends one.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import type { ChatScreenState, createChatScreen } from '../../client/examples/react-native/chat-screen.js';
import { FakeHistory, tokenFor } from './fake-history.js';
import { cleanUp, startServer } from './harness.js';

afterEach(cleanUp);

const root = fileURLToPath(new URL('../../', import.meta.url));

/** React Native's WebSocket, as the SDK sees it: standard handlers, text frames as strings, close events with codes. */
class ReactNativeWebSocket {
  readyState = 0;
  onopen: ((event: object) => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: { message: string }) => void) | null = null;
  readonly #socket: NodeWebSocket;

  constructor(url: string) {
    this.#socket = new NodeWebSocket(url);
    this.#socket.on('open', () => {
      this.readyState = 1;
      this.onopen?.({});
    });
    this.#socket.on('message', (data) => this.onmessage?.({ data: String(data) }));
    this.#socket.on('error', (error) => this.onerror?.({ message: error.message }));
    this.#socket.on('close', (code, reason) => {
      this.readyState = 3;
      this.onclose?.({ code, reason: String(reason) });
    });
  }

  send(data: string): void {
    this.#socket.send(data);
  }

  close(code?: number, reason?: string): void {
    this.#socket.close(code, reason);
  }
}

/** The app bundled as Metro would (one script), and the files that went into it. */
async function bundleApp(): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    entryPoints: [`${root}client/examples/react-native/chat-screen.ts`],
    absWorkingDir: root,
    // The package as apps get it (its build), not the repository's `paths` to its sources.
    tsconfigRaw: {},
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'ChatScreen',
    platform: 'neutral',
    mainFields: ['react-native', 'module', 'main'],
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

/**
 * Built-ins newer than the engines React Native apps run on: older Hermes and the JavaScriptCore of iOS before 15.4
 * lack these ES2022+ functions, and Metro's Babel does not polyfill built-ins (only syntax).
 */
const ES2022_BUILT_INS = [
  'Object.hasOwn',
  'Object.groupBy',
  'Array.prototype.at',
  'Array.prototype.findLast',
  'Array.prototype.findLastIndex',
  'Array.prototype.toSorted',
  'Array.prototype.toReversed',
  'Array.prototype.with',
  'String.prototype.at',
  'String.prototype.isWellFormed',
  'String.prototype.replaceAll',
  'Promise.withResolvers',
  'structuredClone',
];

/** A context with only React Native's globals, and without the built-ins its engines may lack. */
function reactNativeContext(network: object = {}): object {
  const context = createContext({
    WebSocket: ReactNativeWebSocket,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    console,
    ...network,
  });
  for (const path of ES2022_BUILT_INS) runInContext(`delete ${path}`, context);
  return context;
}

/** Bundles a module of source text with the package build, as Metro would (one script). */
async function bundleSource(contents: string): Promise<string> {
  const result = await build({
    stdin: { contents, resolveDir: `${root}client/examples/react-native`, loader: 'ts' },
    absWorkingDir: root,
    // The package as apps get it (its build), not the repository's `paths` to its sources.
    tsconfigRaw: {},
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'Probe',
    platform: 'neutral',
    mainFields: ['react-native', 'module', 'main'],
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

describe('the SDK on the engines React Native ships with', () => {
  it('reads an attachment as an attachment without ES2022 built-ins (Object.hasOwn and the rest)', async () => {
    const context = reactNativeContext();
    for (const path of ES2022_BUILT_INS) expect(runInContext(`typeof ${path}`, context), path).toBe('undefined');
    const key = `uploads/${'61'.repeat(3)}/${'A'.repeat(22)}`;
    const picture = JSON.stringify({ attachment: 'picture', key, content_type: 'image/png', size: 10 });
    runInContext(
      await bundleSource(`import { attachmentOf } from 'teamtalk-serverless-client';
export const read = (text: string) => attachmentOf(text);`),
      context,
    );
    const { read } = (context as { Probe: { read: (text: string) => unknown } }).Probe;
    expect(read(picture)).toMatchObject({ attachment: 'picture', key });
    expect(read('just text')).toBeUndefined();
  });
});

/**
 * React Native's fetch and XMLHttpRequest, as far as an upload of a picked photo uses them: fetch reads a file URI into
 * a Blob; an XMLHttpRequest PUT reports progress and answers 200. `puts` records what was sent where.
 */
function reactNativeNetwork(files: Record<string, Blob>) {
  const puts: { url: string; size: number; headers: Record<string, string> }[] = [];
  const fetch = async (uri: string) => {
    const file = files[uri];
    if (!file) throw new TypeError(`Network request failed: ${uri}`);
    return { blob: async () => file };
  };
  class XMLHttpRequest {
    status = 0;
    timeout = 0;
    readonly upload: { onprogress: ((event: { loaded: number; total: number }) => void) | null } = { onprogress: null };
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    ontimeout: (() => void) | null = null;
    onabort: (() => void) | null = null;
    #url = '';
    readonly #headers: Record<string, string> = {};
    open(_method: string, url: string): void {
      this.#url = url;
    }
    setRequestHeader(name: string, value: string): void {
      this.#headers[name] = value;
    }
    send(body: Blob): void {
      setTimeout(() => {
        this.upload.onprogress?.({ loaded: body.size / 2, total: body.size });
        setTimeout(() => {
          puts.push({ url: this.#url, size: body.size, headers: this.#headers });
          this.status = 200;
          this.onload?.();
        }, 0);
      }, 0);
    }
    abort(): void {
      this.onabort?.();
    }
  }
  return { fetch, XMLHttpRequest, AbortController, puts };
}

/** The last item of an array made in the React Native context (whose arrays have no `at`). */
const last = <T>(items: readonly T[]): T | undefined => items[items.length - 1];

describe('React Native-style app on the package build', () => {
  it('connects, shows history without notifying, notifies a live message, sends pending → stored, uploads a picked photo — with only React Native globals', async () => {
    const history = new FakeHistory('ana');
    history.add('ben', 3);
    const key = `uploads/616e61/${'R'.repeat(22)}`;
    const server = await startServer({
      onFrame: (connection, frame) => {
        history.onFrame(connection, frame);
        const seq = frame['seq'];
        if (frame['action'] === 'msg_data') connection.send(history.storeSent(frame));
        if (frame['action'] === 'group_list') connection.send({ type: 'group_list', seq, group_list: [] });
        if (frame['action'] === 'device_token_remove') connection.send({ type: 'device_token_remove', seq });
        if (frame['action'] === 'attachment_upload')
          connection.send({
            type: 'attachment_upload',
            seq,
            key,
            url: 'https://bucket.s3.example/upload',
            method: 'PUT',
            headers: { 'Content-Type': String(frame['content_type']) },
            expires_in: 300,
          });
      },
    });
    const { code, inputs } = await bundleApp();
    expect(inputs.filter((file) => !file.startsWith('client/examples/'))).not.toEqual([]);
    expect(inputs.filter((file) => !file.startsWith('client/examples/') && !file.startsWith('client/dist/'))).toEqual(
      [],
    );

    const network = reactNativeNetwork({
      'file:///photo.jpg': new Blob([new Uint8Array(800)], { type: 'image/jpeg' }),
    });
    const context = reactNativeContext(network);
    runInContext(code, context);
    for (const name of [
      'TextDecoder',
      'TextEncoder',
      'atob',
      'btoa',
      'Buffer',
      'crypto',
      'process',
      'URL',
      'queueMicrotask',
    ])
      expect(runInContext(`typeof ${name}`, context), name).toBe('undefined');
    const { createChatScreen: create } = (context as { ChatScreen: { createChatScreen: typeof createChatScreen } })
      .ChatScreen;
    // The screen's render callback (a component's setState) is the event the test waits on.
    const waiters: { test: (state: ChatScreenState) => boolean; resolve: () => void }[] = [];
    const render = (state: ChatScreenState) => {
      for (const waiter of [...waiters])
        if (waiter.test(state)) waiters.splice(waiters.indexOf(waiter), 1)[0]!.resolve();
    };
    const screen = create({ url: server.url, getToken: async () => tokenFor('ana'), peerId: 'ben', render });
    const until = (test: (state: ChatScreenState) => boolean) =>
      test(screen.state()) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ test, resolve }));

    await screen.start();
    const connection = await server.nextConnection();
    expect(connection.query.get('client_type')).toBe('18');
    await until((state) => state.messages.length === 3 && state.unread === 3);
    expect(screen.state().messages).toEqual(['ben: ben #1', 'ben: ben #2', 'ben: ben #3']);
    expect(screen.state().notifications).toEqual([]);

    const [live] = history.add('ben', 1);
    connection.send(history.frameOf('ben', live!));
    await until((state) => state.notifications.length === 1);
    expect(screen.state().notifications).toEqual(['ben wrote']);

    screen.send('hi from the phone');
    expect(last(screen.state().statuses)).toBe('pending');
    await until((state) => last(state.statuses) === 'stored');
    expect((await connection.nextAction('msg_data'))['client_msg_id']).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );

    // A picked photo: read from its file URI, uploaded with XMLHttpRequest (progress), then sent.
    screen.sendPhoto('file:///photo.jpg', 1080, 1920);
    await until((state) => state.uploading === 0.5);
    await until((state) => last(state.messages) === 'ana: [picture]' && last(state.statuses) === 'stored');
    expect(network.puts).toEqual([
      { url: 'https://bucket.s3.example/upload', size: 800, headers: { 'Content-Type': 'image/jpeg' } },
    ]);
    await screen.markRead();
    expect(screen.state().unread).toBe(0);
    expect(screen.state().errors).toEqual([]);
    await screen.signOut();
  });
});
