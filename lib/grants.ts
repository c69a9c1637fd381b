/**
 * Who may touch what: the one place that says which DynamoDB actions each Lambda function gets on which table,
 * which functions may call the @connections management API, and which may put events on the push-hook bus. The
 * stack turns every entry into an explicit IAM statement on that table's (or API's, or bus's) ARN only, hands each
 * function the env vars of exactly the tables listed here, test/stack.test.ts checks the synthesized template
 * against this map, and local mode (local/iam-guard.ts) refuses every DynamoDB call of a function outside it, as
 * IAM would on AWS. Change access here and nowhere else.
 */
import type { FunctionId } from '../core/routes.js';
import type { TableId } from '../core/store/schema.js';

export { FUNCTION_IDS, type FunctionId } from '../core/routes.js';

/**
 * DynamoDB data-plane actions a handler may be granted. No wildcards: list each action. There is no IAM action for
 * TransactWriteItems or TransactGetItems: a transaction needs the item actions (PutItem, UpdateItem, DeleteItem,
 * ConditionCheckItem; GetItem) on each table it touches (local/iam-guard.ts maps calls to actions).
 */
export type DynamoDbAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:Query'
  | 'dynamodb:Scan'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:BatchWriteItem'
  | 'dynamodb:ConditionCheckItem';

export interface FunctionAccess {
  /** DynamoDB actions per table; a table not listed is neither granted nor passed as an env var. */
  readonly tables: Readonly<Partial<Record<TableId, readonly DynamoDbAction[]>>>;
  /** May POST/GET/DELETE `@connections/{id}` on this stack's WebSocket stage (and gets CONNECTIONS_ENDPOINT). */
  readonly manageConnections: boolean;
  /**
   * May `events:PutEvents` on the construct's event bus only (the offline push hook), and gets EVENT_BUS_NAME and
   * PUSH_INCLUDES_BODY. @default false
   */
  readonly publishesEvents?: boolean;
}

export const FUNCTION_ACCESS: Readonly<Record<FunctionId, FunctionAccess>> = {
  authorizer: {
    tables: {},
    manageConnections: false,
  },
  connect: {
    // $connect registers the connection and its presence; $disconnect removes both and its pending deliveries.
    tables: {
      Connections: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
      Presence: ['dynamodb:UpdateItem'],
      PendingDeliveries: ['dynamodb:Query', 'dynamodb:BatchWriteItem'],
    },
    manageConnections: false,
  },
  send: {
    tables: {
      RateLimits: ['dynamodb:UpdateItem'],
      Conversations: ['dynamodb:UpdateItem'],
      Messages: ['dynamodb:PutItem', 'dynamodb:GetItem'],
      // PutItem: a pair's session rows on its first message; UpdateItem: a group sender's own read mark.
      Sessions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
      GroupMembers: ['dynamodb:GetItem', 'dynamodb:Query'],
      // The idempotency record of a send with a client_msg_id: looked up, then claimed.
      SentMessages: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      Connections: ['dynamodb:Query', 'dynamodb:DeleteItem'],
      Presence: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
      PendingDeliveries: ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'],
      // Push tokens of receivers with no connection, for the undelivered-message event.
      DeviceTokens: ['dynamodb:BatchGetItem'],
    },
    manageConnections: true,
    publishesEvents: true,
  },
  ack: {
    tables: {
      Messages: ['dynamodb:GetItem'],
      PendingDeliveries: ['dynamodb:DeleteItem'],
    },
    // A malformed ack is answered with an error frame.
    manageConnections: true,
  },
  sync: {
    // The read side: history, sessions, unread counts, read marks; notices to the users' connections.
    tables: {
      Messages: ['dynamodb:Query', 'dynamodb:BatchGetItem'],
      Conversations: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
      Sessions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
      GroupMembers: ['dynamodb:GetItem'],
      Connections: ['dynamodb:Query'],
    },
    manageConnections: true,
  },
  groups: {
    // Group create/change/list/info: groups, members, members' session rows, notices to members.
    tables: {
      Groups: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:BatchGetItem'],
      GroupMembers: ['dynamodb:Query', 'dynamodb:BatchWriteItem'],
      Sessions: ['dynamodb:Query', 'dynamodb:BatchWriteItem'],
      Conversations: ['dynamodb:GetItem'],
      Connections: ['dynamodb:Query'],
    },
    manageConnections: true,
  },
  devices: {
    // device_token: registers a push token for the user.
    tables: {
      DeviceTokens: ['dynamodb:UpdateItem'],
    },
    manageConnections: true,
  },
  default: {
    tables: {},
    manageConnections: true,
  },
  sweeper: {
    tables: {
      PendingDeliveries: ['dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
      Messages: ['dynamodb:BatchGetItem'],
      Connections: ['dynamodb:DeleteItem'],
      Presence: ['dynamodb:UpdateItem'],
      DeviceTokens: ['dynamodb:BatchGetItem'],
    },
    manageConnections: true,
    publishesEvents: true,
  },
};

/** The tables a function is granted anything on, in a stable order. */
export function tablesOf(fn: FunctionId): TableId[] {
  return (Object.keys(FUNCTION_ACCESS[fn].tables) as TableId[]).sort();
}
