/**
 * client/README.md's quick start, run as an app would run it (bundled with the package build, in a context whose
 * WebSocket is the only network) against the fake server: it notifies a live message from a peer, never the user's
 * own messages from another device nor the history a new device's first catch-up brings.
 */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { FakeHistory, tokenFor } from './fake-history.js';
import { AutoAck } from './fake-server.js';
import { cleanUp, startServer } from './harness.js';

afterEach(cleanUp);

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The quick start's code as a module exporting `main()`: its imports kept, its body run by main, its URL replaced. */
function quickStart(url: string): string {
  const readme = readFileSync(`${root}client/README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
  const imports = code.split('\n').filter((line) => line.startsWith('import '));
  const body = code
    .split('\n')
    .filter((line) => !line.startsWith('import '))
    .join('\n')
    .replace("'ws://127.0.0.1:8787'", JSON.stringify(url));
  expect(body).toContain(JSON.stringify(url));
  return `${imports.join('\n')}\nexport async function main() {\n${body}\n}\n`;
}

describe('client/README.md quick start, run', () => {
  it('notifies a live message from a peer, not its own from another device nor the history a new device fetches', async () => {
    const history = new FakeHistory('alice');
    history.add('carol', 2); // older than this device: history
    const path = new AutoAck();
    const server = await startServer({
      onFrame: (connection, frame) => {
        history.onFrame(connection, frame);
        path.onFrame(connection, frame);
      },
    });
    const bundled = await build({
      stdin: { contents: quickStart(server.url), resolveDir: `${root}test/client`, loader: 'ts' },
      absWorkingDir: root,
      // The package as apps get it (its build), not the repository's `paths` to its sources.
      tsconfigRaw: {},
      bundle: true,
      write: false,
      format: 'iife',
      globalName: 'App',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      logLevel: 'silent',
    });
    const shown: string[] = [];
    const notified: string[] = [];
    let waiter: (() => void) | undefined;
    const context = createContext({
      WebSocket,
      setTimeout,
      clearTimeout,
      setInterval,
      clearInterval,
      console: { log: () => undefined },
      fetchJwt: async () => tokenFor('alice'),
      show: (_conversation: unknown, from: string, text: string) => {
        shown.push(`${from}: ${text}`);
        waiter?.();
      },
      notify: (from: string) => notified.push(from),
      save: () => undefined,
      load: () => undefined,
    });
    runInContext(bundled.outputFiles[0]!.text, context);
    const shownCount = (n: number) =>
      shown.length >= n
        ? Promise.resolve()
        : new Promise<void>((resolve) => (waiter = () => shown.length >= n && resolve()));

    await (context as { App: { main: () => Promise<void> } }).App.main(); // connects, catches up, sends 'hi' to bob
    await shownCount(2);
    const connection = server.connections[0]!;
    const [live] = history.add('carol', 1);
    connection.send(history.frameOf('carol', live!));
    // alice's own message, sent from her phone: the server copies it to this connection.
    connection.send({
      type: 'msg_data',
      from_user_id: 'alice',
      to_session_id: 'dave',
      msg_id: 1,
      create_time: history.tick(),
      msg_type: 1,
      msg_data: 'from my phone',
    });
    await shownCount(4);
    expect(shown).toEqual(['carol: carol #1', 'carol: carol #2', 'carol: carol #3', 'alice: from my phone']);
    expect(notified).toEqual(['carol']);
  });
});
