/**
 * `npm run smoke` against local mode: the same check a team runs after `cdk deploy`, here on the local stack (free
 * port, a short ack timeout so the redelivery step does not wait 15 s), with tokens it mints itself. Also what it
 * says when something is wrong: a refused token, a usage error, a Cognito sign-in that needs a new password.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_AWS_ENV } from 'teamtalk-local';
import { singleConversationId } from '../core/domain/ids.js';
import { createDocumentClient } from '../core/store/document-client.js';
import { cleanUpSmokeData } from '../smoke/cleanup.js';
import { cognitoSignIn, main, type SmokeIo } from '../smoke/cli.js';
import { startTestStack, type TestStack } from './e2e/harness.js';

let t: TestStack;

beforeAll(async () => {
  // Redelivery after 1 s without an ack, sweeps every 200 ms: the redelivery step takes about a second.
  t = await startTestStack({ ackTimeoutMs: 1_000, sweepIntervalMs: 200 });
});

afterAll(async () => {
  await t?.stop();
});

function io(
  env: Record<string, string> = {},
): SmokeIo & { lines: string[]; errors: string[]; cleanup?: SmokeIo['cleanup'] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (line) => lines.push(line), err: (line) => errors.push(line), env };
}

const STEPS = [
  'connect',
  'send',
  'delivery',
  'ack',
  'redelivery',
  'history',
  'read receipt',
  'group message',
  'voice note',
  'picture',
  'refusal attachment',
  'refusal self_message',
  'refusal bad_request',
  'refusal not_member',
];

describe('npm run smoke against local mode', () => {
  it('passes every step, one PASS line each, and exits 0', async () => {
    const out = io();
    const code = await main(
      ['--url', t.stack.url, '--jwt-secret', t.stack.jwtSecret, '--redelivery-timeout', '60'],
      out,
    );
    expect(
      out.lines.filter((l) => !l.startsWith('PASS')),
      out.lines.join('\n'),
    ).toEqual([`smoke: all ${STEPS.length} steps passed`]);
    // `PASS <step padded to 22> <detail> (<ms> ms)`
    expect(out.lines.slice(0, -1).map((l) => l.slice(5, 27).trim())).toEqual(STEPS);
    expect(code).toBe(0);
  });

  it('takes two tokens from the environment and skips redelivery when asked', async () => {
    const env = {
      SMOKE_TOKEN_A: await t.stack.mintToken('smoke-env-a'),
      SMOKE_TOKEN_B: await t.stack.mintToken('smoke-env-b'),
    };
    const out = io(env);
    const code = await main(['--url', t.stack.url, '--skip-redelivery'], out);
    expect(out.lines.find((l) => l.startsWith('SKIP'))).toMatch(/^SKIP redelivery/);
    expect(
      out.lines.filter((l) => l.startsWith('FAIL')),
      out.lines.join('\n'),
    ).toEqual([]);
    expect(out.lines[0]).toMatch(/smoke-env-a and smoke-env-b connected/);
    expect(code).toBe(0);
  });

  it('fails every step and exits 1 when the tokens are refused', async () => {
    const out = io();
    const code = await main(['--url', t.stack.url, '--jwt-secret', 'not-the-secret', '--skip-redelivery'], out);
    expect(out.lines[0]).toMatch(/^FAIL connect .*401.*token refused/);
    expect(out.lines.filter((l) => l.startsWith('FAIL'))).toHaveLength(STEPS.length - 1);
    expect(out.lines.at(-1)).toBe(`smoke: ${STEPS.length - 1} of ${STEPS.length} steps failed`);
    expect(code).toBe(1);
  });

  it('answers a usage error with 2 and the usage text', async () => {
    for (const args of [
      [],
      ['--url', 'http://x'],
      ['--url', t.stack.url],
      ['--url', t.stack.url, '--local', '--token-a', 'x'],
      ['--url', t.stack.url, '--bogus'],
    ]) {
      const out = io();
      expect(await main(args, out), args.join(' ')).toBe(2);
      expect(out.errors.join('\n')).toContain('usage: npm run smoke');
    }
  });
});

describe('npm run smoke -- --cleanup: the smoke leaves nothing in production tables', () => {
  const credentials = {
    accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID,
    secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY,
  };

  it("deletes the two users' sessions, conversations, group, messages and attachments, and keeps a conversation with anyone else", async () => {
    const db = createDocumentClient({
      endpoint: t.stack.dynamoEndpoint,
      region: LOCAL_AWS_ENV.AWS_REGION,
      credentials,
    });
    const s3 = new S3Client({
      endpoint: t.stack.s3Endpoint,
      forcePathStyle: true,
      region: LOCAL_AWS_ENV.AWS_REGION,
      credentials,
    });
    const dir = mkdtempSync(join(tmpdir(), 'smoke-cleanup-'));
    try {
      // Stack outputs as `aws cloudformation describe-stacks --query 'Stacks[0].Outputs'` prints them.
      const outputs = [
        ...Object.entries(t.stack.tables).map(([id, name]) => ({ OutputKey: `${id}TableName`, OutputValue: name })),
        { OutputKey: 'AttachmentBucketName', OutputValue: t.stack.attachmentBucket },
      ];
      writeFileSync(join(dir, 'outputs.json'), JSON.stringify(outputs));
      const [a, b] = ['smoke-clean-a', 'smoke-clean-b'];
      // Someone else writes to a: that conversation is not the smoke's to delete.
      const carol = await t.connect('carol-clean');
      carol.client.send({ action: 'msg_data', seq: 1, to_session_id: a, msg_type: 1, msg_data: 'hi a' });
      await carol.client.next((f) => f['type'] === 'msg_data_ack');
      carol.client.close();

      const reports: Awaited<ReturnType<typeof cleanUpSmokeData>>[] = [];
      const out = io({ SMOKE_TOKEN_A: await t.stack.mintToken(a), SMOKE_TOKEN_B: await t.stack.mintToken(b) });
      out.cleanup = async (target, users, groupIds) => {
        const report = await cleanUpSmokeData({ db, s3 }, target, users, groupIds);
        reports.push(report);
        return report;
      };
      expect(
        await main(['--url', t.stack.url, '--skip-redelivery', '--cleanup', join(dir, 'outputs.json')], out),
        out.lines.join('\n'),
      ).toBe(0);

      expect(reports).toHaveLength(1);
      const report = reports[0]!;
      expect(report).toMatchObject({ conversations: 2, groups: 1 });
      expect(report.messages).toBeGreaterThanOrEqual(5);
      expect(report.objects).toBeGreaterThanOrEqual(4); // two uploads and their referenced copies
      expect(report.kept).toEqual([singleConversationId('carol-clean', a)]);
      expect(out.lines.at(-1)).toMatch(/^CLEANUP deleted 2 conversation\(s\) with \d+ message\(s\), 1 group\(s\)/);

      const rows = async (table: string, key: string, value: string) =>
        (
          await db.send(
            new QueryCommand({
              TableName: table,
              KeyConditionExpression: `${key} = :v`,
              ExpressionAttributeValues: { ':v': value },
            }),
          )
        ).Items ?? [];
      for (const user of [a, b]) {
        expect(await rows(t.stack.tables.Sessions, 'user_id', user), user).toEqual([]);
        expect(await rows(t.stack.tables.Connections, 'user_id', user), user).toEqual([]);
        const uploads = await s3.send(
          new ListObjectsV2Command({
            Bucket: t.stack.attachmentBucket,
            Prefix: `uploads/${Buffer.from(user).toString('hex')}/`,
          }),
        );
        expect(uploads.Contents ?? [], user).toEqual([]);
      }
      expect(await rows(t.stack.tables.Messages, 'conversation_id', singleConversationId(a, b))).toEqual([]);
      expect(
        await rows(t.stack.tables.Messages, 'conversation_id', singleConversationId('carol-clean', a)),
      ).toHaveLength(1);
      const referenced = await s3.send(
        new ListObjectsV2Command({
          Bucket: t.stack.attachmentBucket,
          Prefix: `att/${Buffer.from(singleConversationId(a, b)).toString('base64url')}/`,
        }),
      );
      expect(referenced.Contents ?? []).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      s3.destroy();
      db.destroy();
    }
  });

  it("refuses outputs that are not a stack's (usage error, nothing run)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smoke-cleanup-'));
    try {
      writeFileSync(join(dir, 'outputs.json'), JSON.stringify([{ OutputKey: 'WebSocketUrl', OutputValue: 'wss://x' }]));
      const out = io();
      expect(await main(['--url', t.stack.url, '--local', '--cleanup', join(dir, 'outputs.json')], out)).toBe(2);
      expect(out.errors.join('\n')).toMatch(/no ConnectionsTableName/);
      expect(out.lines).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Cognito sign-in (USER_PASSWORD_AUTH over the public JSON API)', () => {
  const user = { region: 'eu-west-1', clientId: 'client-1', username: 'alice', password: 'pw' };

  it('posts InitiateAuth to the region endpoint and returns the id token', async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const fake = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response(JSON.stringify({ AuthenticationResult: { IdToken: 'id.token.x', AccessToken: 'a' } }));
    }) as unknown as typeof fetch;
    expect(await cognitoSignIn(user, fake)).toBe('id.token.x');
    expect(calls[0]!.url).toBe('https://cognito-idp.eu-west-1.amazonaws.com/');
    expect((calls[0]!.init.headers as Record<string, string>)['X-Amz-Target']).toBe(
      'AWSCognitoIdentityProviderService.InitiateAuth',
    );
    expect(JSON.parse(calls[0]!.init.body as string)).toEqual({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: 'client-1',
      AuthParameters: { USERNAME: 'alice', PASSWORD: 'pw' },
    });
  });

  it('says what to do on a challenge or a refusal', async () => {
    const answer = (body: unknown, status = 200) =>
      (async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch;
    await expect(cognitoSignIn(user, answer({ ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 's' }))).rejects.toThrow(
      /admin-set-user-password/,
    );
    await expect(
      cognitoSignIn(
        user,
        answer({ __type: 'NotAuthorizedException', message: 'Incorrect username or password.' }, 400),
      ),
    ).rejects.toThrow(/NotAuthorizedException Incorrect username/);
  });
});
