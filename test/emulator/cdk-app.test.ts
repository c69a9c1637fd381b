/**
 * The emulator as a tool for any CDK WebSocket app. examples/websocket-chat, a chat
 * app shaped like AWS's samples and written without the emulator in mind, is synthesized with the CDK CLI of
 * node_modules (once for this file) and served by the `teamtalk-local` command: the workspace's, and the package as
 * another project installs it — `npm pack`, `npm ci` of the tarball into a folder outside the repository, its
 * `node_modules/.bin/teamtalk-local` run with nothing of this repository reachable. test/emulator/fixtures/rough-app,
 * a hand-written assembly, has functions that misbehave and tell what they see of their environment.
 */
import { DynamoDBClient, DescribeTableCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { serveCdkApp, type CdkAppServer } from 'teamtalk-local';
import { installIntoApp, pack, repositoryPackage, type Packed } from '../support/consumer-install.js';
import { silentLogger } from './stub-api.js';
import { eventually } from './stack-process.js';
import { Queue, TestClient } from './support.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'teamtalk-cdk-app-test-'));
const clients: TestClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function open(url: string): Promise<TestClient> {
  const client = await TestClient.open(url);
  clients.push(client);
  return client;
}

function dynamo(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: inject('dynamoEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** examples/websocket-chat's cloud assembly, synthesized on first use. */
const chatAssembly = join(work, 'chat.out');
let synthesized = false;
function synthesizeChatApp(): string {
  if (synthesized) return chatAssembly;
  const synth = spawnSync(
    'npx',
    ['cdk', 'synth', '--no-notices', '--no-version-reporting', '--quiet', '-o', chatAssembly],
    {
      cwd: join(REPO, 'examples/websocket-chat'),
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
      encoding: 'utf8',
    },
  );
  if (synth.status !== 0) throw new Error(`cdk synth failed:\n${synth.stdout}\n${synth.stderr}`);
  synthesized = true;
  return chatAssembly;
}

/** The command as a user runs it, in its own process; its lines queue up. */
function command(
  bin: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> } = { cwd: REPO },
): { child: ChildProcess; lines: Queue<string>; output: () => string } {
  const child = spawn(bin, args, {
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: '0', ...options.env },
  });
  const lines = new Queue<string>();
  let text = '';
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line) lines.push(line);
    });
  }
  child.once('error', (error) => (text += `could not start ${bin}: ${error.message}\n`)); // the banner wait then fails, naming it
  return { child, lines, output: () => text };
}

/** Every process below `pid` (the functions' environments and the janitor of the command). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  const found: number[] = [];
  for (const next = [pid]; next.length > 0; )
    for (const child of children.get(next.pop()!) ?? []) found.push(child), next.push(child);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};

describe.skipIf(process.platform !== 'linux')(
  'teamtalk-local serves examples/websocket-chat, synthesized by the CDK CLI',
  () => {
    let assembly: string;
    beforeAll(() => void (assembly = synthesizeChatApp()), 120_000);

    it('connects through the authorizer, sends to all, answers $default two-way, forgets disconnected clients, and stops clean', async () => {
      const prefix = `chat${process.pid}_`;
      // The workspace's command, through its link in node_modules (a build: workspace-builds.ts).
      const args = [
        '--app',
        assembly,
        '--port',
        '0',
        '--dynamodb-endpoint',
        inject('dynamoEndpoint'),
        '--table-prefix',
        prefix,
      ];
      const run = command(process.execPath, [join(REPO, 'node_modules/.bin/teamtalk-local'), ...args]);
      try {
        const banner = await run.lines.waitFor(
          (l) => l.includes('WebSocket API'),
          60_000,
          `the banner: ${run.output()}`,
        );
        const url = /(ws:\/\/\S+)/.exec(banner)![1]!;
        const table = `${prefix}WebSocketChat-Connections827CEF2F`;
        expect((await dynamo().send(new DescribeTableCommand({ TableName: table }))).Table?.KeySchema).toEqual([
          { AttributeName: 'connectionId', KeyType: 'HASH' },
        ]);

        expect((await TestClient.refusal(`${url}?token=wrong&name=mallory`)).status).toBe(401);
        expect((await TestClient.refusal(`${url}?name=nobody`)).status).toBe(401);
        const alice = await open(`${url}?token=open-sesame&name=alice`);
        const bob = await open(`${url}?token=open-sesame&name=bob`);

        // sendmessage posts through https://{domainName}/{stage}, built from the event as AWS's sample does.
        alice.send({ action: 'sendmessage', message: 'hello, all' });
        for (const client of [alice, bob])
          expect(await client.next((f) => 'message' in f, 30_000)).toEqual({ from: 'alice', message: 'hello, all' });
        alice.send('what can I do?');
        const answer = await alice.next((f) => 'hint' in f, 30_000);
        expect(answer).toMatchObject({
          hint: 'Use the sendmessage route to send a message.',
          name: 'alice',
          connectionId: expect.stringMatching(/=$/),
        });

        const rows = async () =>
          (await dynamo().send(new ScanCommand({ TableName: table }))).Items?.map((i) => i['name']?.S).sort();
        expect(await rows()).toEqual(['alice', 'bob']);
        await bob.close();
        let seen: unknown;
        expect(
          await eventually(async () => JSON.stringify((seen = await rows())) === '["alice"]'),
          JSON.stringify(seen),
        ).toBe(true);

        const processes = descendants(run.child.pid!);
        expect(processes.length).toBeGreaterThanOrEqual(5); // the functions' environments (and the janitor)
        run.child.kill('SIGTERM');
        await new Promise((resolve) => run.child.once('exit', resolve));
        expect(run.child.exitCode, run.output()).toBe(0);
        expect(
          await eventually(() => processes.every((pid) => !alive(pid))),
          JSON.stringify(processes.filter(alive)),
        ).toBe(true);
      } finally {
        run.child.kill('SIGKILL');
      }
    }, 120_000);
  },
);

describe.skipIf(process.platform !== 'linux')(
  'functions run as Lambda runs them (test/emulator/fixtures/rough-app)',
  () => {
    let server: CdkAppServer;
    const output: string[] = [];

    beforeAll(async () => {
      process.env['TEAMTALK_PARENT_ONLY'] = 'must not leak';
      server = await serveCdkApp({
        app: fileURLToPath(new URL('./fixtures/rough-app', import.meta.url)),
        port: 0,
        dynamoEndpoint: inject('dynamoEndpoint'),
        tablePrefix: `rough${process.pid}_`,
        workDirectory: join(work, 'rough'),
        logger: silentLogger,
        functionOutput: (fn, line) => output.push(`${fn}: ${line}`),
      });
    }, 60_000);
    afterAll(async () => {
      delete process.env['TEAMTALK_PARENT_ONLY'];
      await server?.stop();
    });

    const ask = async (client: TestClient, frame: Record<string, unknown>) => {
      client.send(frame);
      return client.next(() => true, 20_000);
    };

    it('gives each function its own environment, with table names and the API endpoint resolved locally', async () => {
      const client = await open(server.url);
      const a = await ask(client, { what: 'env' });
      expect(a).toMatchObject({
        secret: 'a',
        table: `rough${process.pid}_rough-items`,
        callbackUrl: `https://127.0.0.1:${server.emulator.port}/dev`,
        parentOnly: null,
        functionName: 'RoughApp-Rough',
        remaining: true,
      });
      const b = await ask(client, { do: 'env_b' });
      expect(b).toEqual({
        secret: 'b',
        tableArn: `arn:aws:dynamodb:us-east-1:000000000000:table/rough${process.pid}_rough-items`,
        parentOnly: null,
      });
      const table = await dynamo().send(new DescribeTableCommand({ TableName: `rough${process.pid}_rough-items` }));
      expect(table.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['byG']);
      expect(server.model.warnings).toEqual([]);
    });

    it('fails only the invocation whose code throws in a timer, leaves a rejection unhandled, exits or runs past its Timeout', async () => {
      const client = await open(server.url);
      let previous = (await ask(client, { what: 'env' }))['pid'];
      for (const what of ['throw_in_timer', 'reject_unawaited', 'exit']) {
        expect(await ask(client, { what }), what).toMatchObject({ message: 'Internal server error' });
        const next = (await ask(client, { what: 'env' }))['pid'];
        expect(next, `a fresh environment after ${what}`).not.toBe(previous);
        previous = next;
      }
      // A callback-style handler that never calls back fails at its 1 s Timeout (Internal server error), not at
      // API Gateway's 29 s (that would be "Endpoint request timed out").
      expect(await ask(client, { do: 'slow' })).toMatchObject({ message: 'Internal server error' });
      expect(output.some((line) => line.includes('Task timed out'))).toBe(false); // the emulator says it, not the function
      expect(server.emulator.connections()).toHaveLength(1);
    });
  },
);

describe.skipIf(process.platform !== 'linux')(
  'teamtalk-local as another project installs it: npm pack, npm ci of the tarball outside the repository',
  () => {
    const PKG = repositoryPackage('emulator');
    const consumer = join(work, 'consumer');
    let packed: Packed;
    let assembly: string;

    beforeAll(async () => {
      assembly = synthesizeChatApp();
      // emulator/dist is workspace-builds.ts's, made by the package's own build script (what prepack runs): packing
      // without the scripts leaves it in place for the other test files running from it.
      packed = await pack(PKG, work, { ignoreScripts: true });
      await installIntoApp(consumer, packed.tarball, PKG);
    }, 300_000);

    it('ships compiled JavaScript with .d.ts, the plain .mjs processes and the README, and needs no tsx', () => {
      expect(
        packed.files.filter(
          (path) =>
            !['package.json', 'README.md', 'bin/teamtalk-local.js'].includes(path) &&
            !/^dist\/[\w/-]+\.(js|d\.ts|mjs)$/.test(path),
        ),
      ).toEqual([]);
      for (const file of [
        'dist/index.js',
        'dist/index.d.ts',
        'dist/cdk-app/cli.js',
        'dist/cdk-app/handler-host.mjs',
        'dist/cdk-app/runtime-modules.mjs',
        'dist/process/janitor-worker.mjs',
      ]) {
        expect(packed.files, file).toContain(file);
      }
      const manifest = JSON.parse(readFileSync(join(consumer, 'node_modules', PKG.name, 'package.json'), 'utf8')) as {
        bin: Record<string, string>;
        scripts: Record<string, string>;
      };
      expect(manifest.bin).toEqual({ 'teamtalk-local': 'bin/teamtalk-local.js' });
      expect(manifest.scripts['prepack']).toBe('npm run build');
      for (const tool of ['tsx', 'typescript', 'vitest'])
        expect(existsSync(join(consumer, 'node_modules', tool)), tool).toBe(false);
    });

    it('serves the app: a client sends and gets its message back; on Ctrl-C it stops, leaving no process and no folder', async () => {
      const tmp = join(work, 'consumer-tmp');
      mkdirSync(tmp);
      const args = [
        '--app',
        assembly,
        '--port',
        '0',
        '--dynamodb-endpoint',
        inject('dynamoEndpoint'),
        '--table-prefix',
        `installed${process.pid}_`,
      ];
      const run = command(join(consumer, 'node_modules/.bin/teamtalk-local'), args, {
        cwd: consumer,
        env: { TMPDIR: tmp },
      });
      try {
        const banner = await run.lines.waitFor(
          (l) => l.includes('WebSocket API'),
          60_000,
          `the banner: ${run.output()}`,
        );
        const alice = await open(`${/(ws:\/\/\S+)/.exec(banner)![1]!}?token=open-sesame&name=alice`);
        alice.send({ action: 'sendmessage', message: 'hello from the package' });
        expect(await alice.next((f) => 'message' in f, 30_000)).toEqual({
          from: 'alice',
          message: 'hello from the package',
        });

        const processes = descendants(run.child.pid!);
        expect(processes.length).toBeGreaterThanOrEqual(4); // the authorizer's, $connect's and sendmessage's environments, the janitor
        run.child.kill('SIGINT');
        await new Promise((resolve) => run.child.once('exit', resolve));
        expect(run.child.exitCode, run.output()).toBe(0);
        expect(
          await eventually(() => processes.every((pid) => !alive(pid))),
          JSON.stringify(processes.filter(alive)),
        ).toBe(true);
        expect(readdirSync(tmp)).toEqual([]);
      } finally {
        run.child.kill('SIGKILL');
      }
    }, 120_000);
  },
);
