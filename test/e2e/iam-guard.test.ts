/**
 * Local IAM (local/iam-guard.ts): each function's DynamoDB client is held to its grant in lib/grants.ts, so a
 * use-case that touches a table or an action its function was not granted fails locally as it would on AWS, and
 * the end-to-end harness fails the test that did it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AccessDeniedException, requiredPermissions } from '../../local/iam-guard.js';
import { runtimeWithGrantOf, startTestStack, type TestStack } from './harness.js';

describe('IAM actions of DynamoDB calls', () => {
  it('maps each API to its action and tables, transactions to their item actions', () => {
    expect(requiredPermissions('GetItemCommand', { TableName: 'M', Key: {} })).toEqual([
      { action: 'dynamodb:GetItem', table: 'M' },
    ]);
    expect(requiredPermissions('QueryCommand', { TableName: 'S', IndexName: 'by-user' })).toEqual([
      { action: 'dynamodb:Query', table: 'S', index: 'by-user' },
    ]);
    expect(requiredPermissions('BatchWriteItemCommand', { RequestItems: { A: [], B: [] } })).toEqual([
      { action: 'dynamodb:BatchWriteItem', table: 'A' },
      { action: 'dynamodb:BatchWriteItem', table: 'B' },
    ]);
    expect(
      requiredPermissions('TransactWriteItemsCommand', {
        TransactItems: [
          { Put: { TableName: 'A' } },
          { Update: { TableName: 'B' } },
          { ConditionCheck: { TableName: 'C' } },
          { Delete: { TableName: 'A' } },
        ],
      }),
    ).toEqual([
      { action: 'dynamodb:PutItem', table: 'A' },
      { action: 'dynamodb:UpdateItem', table: 'B' },
      { action: 'dynamodb:ConditionCheckItem', table: 'C' },
      { action: 'dynamodb:DeleteItem', table: 'A' },
    ]);
    expect(requiredPermissions('TransactGetItemsCommand', { TransactItems: [{ Get: { TableName: 'A' } }] })).toEqual([
      { action: 'dynamodb:GetItem', table: 'A' },
    ]);
    expect(() => requiredPermissions('ExecuteStatementCommand', { Statement: 'SELECT * FROM M' })).toThrow(
      AccessDeniedException,
    );
  });
});

describe('the local stack', () => {
  let t: TestStack | undefined;
  afterEach(async () => {
    await t?.stop().catch(() => undefined);
    t = undefined;
  });

  it('lets a function make the calls of its grant', async () => {
    t = await startTestStack();
    await expect(t.stack.runtimes.ack.messages.get('s#alice#bob', 1)).resolves.toBeUndefined();
    expect(t.stack.iamGuard.violations).toEqual([]);
  });

  it('refuses a call outside the grant with AccessDeniedException, before it reaches DynamoDB, and fails the test', async () => {
    t = await startTestStack();
    const { stack } = t;
    // devices may only UpdateItem on DeviceTokens: no connection rows, no session reads.
    const connection = { userId: 'mallory', connectionId: 'c1=', connectedAt: Date.now() };
    const put = await runtimeWithGrantOf(stack, 'devices')
      .connections.put(connection)
      .catch((e: unknown) => e);
    expect(put).toBeInstanceOf(AccessDeniedException);
    expect((put as Error).message).toMatch(/not authorized to perform: dynamodb:PutItem on resource: .*Connections/);
    expect(await stack.runtime.connections.listByUser('mallory', Date.now())).toEqual([]);
    await expect(
      runtimeWithGrantOf(stack, 'ack').sessions.listByType('alice', 1, { limit: 10 }),
    ).rejects.toBeInstanceOf(AccessDeniedException);

    expect(stack.iamGuard.violations.map((v) => [v.functionId, v.action])).toEqual([
      ['devices', 'dynamodb:PutItem'],
      ['ack', 'dynamodb:Query'],
    ]);
    const stopping = t.stop();
    t = undefined;
    await expect(stopping).rejects.toThrow(/devices: PutItemCommand needs dynamodb:PutItem on .*Connections/);
  });
});
