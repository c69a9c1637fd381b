/**
 * Local mode's stand-in for IAM: every function's DynamoDB client gets a middleware that lets a call through only if
 * the function's grant in lib/grants.ts allows each IAM action the call needs on each table it touches, and refuses
 * it otherwise with an AccessDeniedException worded like AWS's. Without it, a use-case that reads a table its
 * function was never granted passes every local test and fails only on AWS. Driven by FUNCTION_ACCESS and the table
 * names, so new tables and grants need nothing here; a DynamoDB operation it cannot map is refused too.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoClientPlugin } from '../core/compose/adapters.js';
import type { TableId } from '../core/store/schema.js';
import {
  FUNCTION_ACCESS,
  PUSH_SENDER_ACCESS,
  type DynamoDbAction,
  type FunctionAccess,
  type FunctionId,
} from '../lib/grants.js';

/** The functions local IAM knows: the stack's, and the push sender of ChatBackend's optional `push`. */
export type GuardedFunctionId = FunctionId | 'pushSender';
const accessOf = (id: GuardedFunctionId): FunctionAccess =>
  id === 'pushSender' ? PUSH_SENDER_ACCESS : FUNCTION_ACCESS[id];

/** One IAM permission a call needs: an action on a table (or on one of its indexes). */
export interface RequiredPermission {
  readonly action: DynamoDbAction;
  /** The physical table name of the request. */
  readonly table: string;
  readonly index?: string;
}

export interface AccessViolation extends RequiredPermission {
  readonly functionId: GuardedFunctionId;
  readonly command: string;
  readonly reason: string;
}

/** What DynamoDB answers a caller without the permission (an HTTP 400 client error the SDK does not retry). */
export class AccessDeniedException extends Error {
  override readonly name = 'AccessDeniedException';
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 400 };
}

type Input = Record<string, unknown>;

const SINGLE_TABLE = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan']);
/** TransactWriteItems has no IAM action of its own: each item needs its own action on its table. */
const TRANSACT_WRITE_ACTIONS: Readonly<Record<string, DynamoDbAction>> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

/**
 * The IAM permissions a DynamoDB call needs (the Service Authorization Reference: one action per API, item actions
 * for transactions). Throws for an operation it does not know, so nothing passes unchecked.
 */
export function requiredPermissions(commandName: string, input: Input): RequiredPermission[] {
  const operation = commandName.replace(/Command$/, '');
  if (SINGLE_TABLE.has(operation)) {
    const index = typeof input['IndexName'] === 'string' ? { index: input['IndexName'] } : {};
    return [{ action: `dynamodb:${operation}` as DynamoDbAction, table: String(input['TableName']), ...index }];
  }
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    return Object.keys((input['RequestItems'] ?? {}) as Input).map((table) => ({
      action: `dynamodb:${operation}` as const,
      table,
    }));
  }
  const items = (input['TransactItems'] ?? []) as Record<string, { TableName?: string }>[];
  if (operation === 'TransactWriteItems') {
    return items.flatMap((item) =>
      Object.entries(item).map(([kind, request]) => {
        const action = TRANSACT_WRITE_ACTIONS[kind];
        if (!action) throw new AccessDeniedException(`local IAM guard: unknown transaction item ${kind}`);
        return { action, table: String(request.TableName) };
      }),
    );
  }
  if (operation === 'TransactGetItems')
    return items.map((item) => ({ action: 'dynamodb:GetItem' as const, table: String(item['Get']?.TableName) }));
  throw new AccessDeniedException(
    `local IAM guard: no IAM mapping for DynamoDB ${commandName}; add one to local/iam-guard.ts`,
  );
}

/** Enforces lib/grants.ts on the functions' DynamoDB clients and keeps every refusal for the tests to assert on. */
export class IamGuard {
  readonly violations: AccessViolation[] = [];
  private readonly tableIds: ReadonlyMap<string, TableId>;

  /** `tables`: the physical name of each table, as the functions' environment names them. */
  constructor(tables: Readonly<Record<TableId, string>>) {
    this.tableIds = new Map(Object.entries(tables).map(([id, name]) => [name, id as TableId]));
  }

  /** The middleware of one function's DynamoDB client. */
  forFunction(functionId: GuardedFunctionId): DynamoClientPlugin {
    return {
      attach: (client: DynamoDBDocumentClient) =>
        client.middlewareStack.add(
          (next, context) => async (args) => {
            this.check(functionId, context.commandName ?? 'unknown', args.input as Input);
            return next(args);
          },
          { step: 'initialize', name: 'iamGrantGuard', priority: 'high', override: true },
        ),
    };
  }

  private check(functionId: GuardedFunctionId, command: string, input: Input): void {
    for (const permission of requiredPermissions(command, input)) {
      const reason = this.refusal(functionId, permission);
      if (reason === undefined) continue;
      this.violations.push({ functionId, command, reason, ...permission });
      const resource = `arn:aws:dynamodb:us-east-1:000000000000:table/${permission.table}${permission.index ? `/index/${permission.index}` : ''}`;
      throw new AccessDeniedException(
        `User: arn:aws:sts::000000000000:assumed-role/${functionId}/${functionId} is not authorized to perform: ${permission.action} ` +
          `on resource: ${resource} because no identity-based policy allows the ${permission.action} action (local mode: ${reason})`,
      );
    }
  }

  /** Why lib/grants.ts does not allow the permission; undefined when it does. */
  private refusal(functionId: GuardedFunctionId, { action, table, index }: RequiredPermission): string | undefined {
    const tableId = this.tableIds.get(table);
    if (tableId === undefined) return `${table} is not a table of this stack`;
    if (index !== undefined)
      return `the stack grants ${tableId}'s table ARN only, not its index ${index} (add ${tableId}/index/* in lib/functions.ts)`;
    const granted = accessOf(functionId).tables[tableId] ?? [];
    if (!granted.includes(action))
      return `lib/grants.ts gives ${functionId} ${granted.length ? granted.join(', ') : 'nothing'} on ${tableId}`;
    return undefined;
  }
}
