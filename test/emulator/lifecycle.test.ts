/**
 * `npm start` ends cleanly however it is ended, and refuses what would corrupt its data.
 * Each test runs the real local/start.ts as npm does (tests/emulator/stack-process.ts), ends it one way, and then
 * looks: no process it started (node, Java, the janitor) and no temporary folder of it is left, and its data
 * folder's lock is gone or cleared by the next start.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../local/token.js';
import { eventually, startStackProcess, type StackProcess } from './stack-process.js';
import { TestClient } from './support.js';

const started: StackProcess[] = [];
const clients: TestClient[] = [];
const folders: string[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const stack of started.splice(0)) {
    for (const { pid } of stack.processes()) kill(pid, 'SIGKILL');
    folders.push(stack.tmp);
  }
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = {}): StackProcess {
  const stack = startStackProcess(args, env);
  started.push(stack);
  return stack;
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function dataDir(): string {
  const folder = mkdtempSync(join(tmpdir(), 'teamtalk-data-test-'));
  folders.push(folder);
  return folder;
}

/** A client that connected ($connect stored it) and got its heartbeat back. */
async function connectedClient(port: number): Promise<TestClient> {
  const client = await TestClient.open(`ws://127.0.0.1:${port}/?token=${await mintToken('local-dev-secret', 'alice')}`);
  clients.push(client);
  client.send({ action: 'heartbeat', seq: 1 });
  await client.next((f) => f['type'] === 'heartbeat');
  return client;
}

/** Nothing left: no process of the run, no temporary folder, no lock in its data folder. */
async function expectNothingLeft(stack: StackProcess, folder?: string): Promise<void> {
  expect(await eventually(() => stack.processes().length === 0), JSON.stringify(stack.processes())).toBe(true);
  expect(
    await eventually(() => stack.leftInTmp().length === 0),
    `left in TMPDIR: ${stack.leftInTmp().join(', ')}`,
  ).toBe(true);
  if (folder) expect(existsSync(join(folder, '.lock'))).toBe(false);
}

const FIRST_TEST_MS = 240_000;

describe.skipIf(process.platform !== 'linux')('local stack lifecycle', () => {
  it(
    'Ctrl-C (SIGINT to the process group) stops clients, then handlers, then the database; a second stack is refused the folder',
    async () => {
      const folder = dataDir();
      const stack = run(['--data-dir', folder]);
      const port = await stack.ready();
      const client = await connectedClient(port);

      // Item 11: a second start on the same folder is refused, naming the first, before any Java starts.
      const second = run(['--data-dir', folder]);
      expect(await second.exited).toBe(1);
      expect(second.output()).toContain(`is in use by another local stack (pid ${stack.nodePid()}, port ${port}`);
      await expectNothingLeft(second);

      process.kill(-stack.launcher.pid!, 'SIGINT');
      await stack.exited; // the shell itself dies of the SIGINT, as npm's does; the stack says how it ended
      expect((await client.closed).code).toBe(1001);
      // The $disconnect ran while DynamoDB Local was still up (it got no SIGINT of its own).
      expect(stack.output()).not.toMatch(/\$disconnect failed|again: exiting now/);
      expect(stack.output()).toContain('stopped.');
      await expectNothingLeft(stack, folder);
    },
    FIRST_TEST_MS,
  );

  it(
    'a persistent and an in-memory stack side by side; SIGTERM ends one, SIGKILL of its launcher the other',
    async () => {
      const folderA = dataDir();
      const [a, b] = [run(['--data-dir', folderA]), run(['--in-memory'])];
      const [portA, portB] = await Promise.all([a.ready(), b.ready()]);
      await Promise.all([connectedClient(portA), connectedClient(portB)]);
      expect(b.leftInTmp()).toEqual([expect.stringMatching(/^teamtalk-s3-/)]); // --in-memory: the local S3's folder

      kill(a.nodePid()!, 'SIGTERM');
      kill(b.launcher.pid!, 'SIGKILL'); // npm's shell killed: the stack notices its launcher is gone
      expect(await a.exited).toBe(0);
      expect(a.output()).toContain('SIGTERM: stopping');
      await expectNothingLeft(a, folderA);
      await expectNothingLeft(b);
      expect(b.output()).toContain('the launching process went away: stopping');
      expect(b.output()).toContain('stopped.');
    },
    FIRST_TEST_MS,
  );

  it(
    'kill -9 of node: the janitor ends Java and removes the temporary folder; a stale lock and an orphaned Java are cleared by the next start',
    async () => {
      const folder = dataDir();
      const [temporary, first] = [run(['--in-memory']), run(['--data-dir', folder])];
      await Promise.all([temporary.ready(), first.ready()]);
      kill(temporary.nodePid()!, 'SIGKILL');
      await expectNothingLeft(temporary);

      // Node and its janitor both killed: Java is orphaned on the folder, the lock stale.
      const lock = JSON.parse(readFileSync(join(folder, '.lock'), 'utf8')) as { pid: number; databasePid: number };
      // The janitor first: killed after node, it could see node go and stop Java before its own kill lands.
      const others = first.processes().filter((p) => !p.command.includes('DynamoDBLocal'));
      for (const { pid } of others.sort(
        (p, q) => Number(q.command.includes('janitor')) - Number(p.command.includes('janitor')),
      ))
        kill(pid, 'SIGKILL');
      expect(await eventually(() => first.processes().every((p) => p.command.includes('DynamoDBLocal')))).toBe(true);
      expect(first.processes().map((p) => p.pid)).toEqual([lock.databasePid]);

      const next = run(['--data-dir', folder]);
      await next.ready();
      expect(next.output()).toContain(`removed a stale lock of ${folder} (pid ${lock.pid} is gone)`);
      expect(next.output()).toContain(`stopped DynamoDB Local (pid ${lock.databasePid})`);
      expect(first.processes()).toEqual([]);

      // Item 12: Java dying under a running stack is said, and the stack stops instead of answering `internal`.
      const nextLock = JSON.parse(readFileSync(join(folder, '.lock'), 'utf8')) as { databasePid: number };
      kill(nextLock.databasePid, 'SIGKILL');
      expect(await next.exited).toBe(1);
      expect(next.output()).toMatch(/DynamoDB Local \(pid \d+\) exited on its own \(SIGKILL\)/);
      await expectNothingLeft(next, folder);
    },
    FIRST_TEST_MS,
  );

  it('names a corrupted database folder and the way to reset it, at once', async () => {
    const folder = dataDir();
    mkdirSync(join(folder, 'dynamodb'));
    writeFileSync(join(folder, 'dynamodb', 'shared-local-instance.db'), 'not a database '.repeat(100));
    const stack = run(['--data-dir', folder]);
    expect(await stack.exited).toBe(1);
    expect(stack.output()).toContain(`DynamoDB Local cannot read its database in ${join(folder, 'dynamodb')}`);
    expect(stack.output()).toContain(`rm -rf '${join(folder, 'dynamodb')}'`);
    await expectNothingLeft(stack, folder);
  });

  it('says the port is in use before DynamoDB Local starts (here: without Java on PATH at all)', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (busy.address() as { port: number }).port;
      const stack = run(['--in-memory'], { PORT: String(port), PATH: dataDir() });
      expect(await stack.exited).toBe(1);
      expect(stack.output()).toContain(`port ${port} is in use`);
      await expectNothingLeft(stack);
    } finally {
      busy.close();
    }
  });
});
