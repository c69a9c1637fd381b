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
  /**
   * Objects of the attachment bucket (lib/attachments.ts) it may read (`s3:GetObject`: GET, HEAD, copy source) and
   * write (`s3:PutObject`: a presigned PUT, a copy target), by key prefix; gets ATTACHMENT_BUCKET. @default none
   */
  readonly attachments?: {
    readonly read: readonly AttachmentPrefix[];
    readonly write: readonly AttachmentPrefix[];
    /** `s3:DeleteObject`: a tombstoned message's attachment. @default none */
    readonly delete?: readonly AttachmentPrefix[];
  };
  /** May `sqs:SendMessage` to the account deletion queue (and gets DELETION_QUEUE_URL). @default false */
  readonly deletionQueue?: boolean;
  /** May `sqs:SendMessage` to the presence checks queue (and gets PRESENCE_CHECKS_QUEUE_URL). @default false */
  readonly presenceChecks?: boolean;
  /** May `cognito-idp:AdminDeleteUser` on the stack's own user pool, when it has one (gets USER_POOL_ID). @default false */
  readonly deletesIdentityUsers?: boolean;
}

/** Key prefixes of the attachment bucket (core/usecases/attachments.ts): uploads, and referenced copies. */
export type AttachmentPrefix = 'uploads/' | 'att/' | 'exports/';

export const FUNCTION_ACCESS: Readonly<Record<FunctionId, FunctionAccess>> = {
  authorizer: {
    tables: {},
    manageConnections: false,
  },
  connect: {
    // $connect refuses a suspended or deleted account (Accounts), registers the connection, its presence (kicking the
    // oldest past the cap) and its token's expiry; $disconnect removes them and its pending deliveries. Either queues
    // a presence check when the user's status changed.
    tables: {
      Accounts: ['dynamodb:GetItem'],
      Connections: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
      Presence: ['dynamodb:UpdateItem', 'dynamodb:BatchGetItem'],
      PendingDeliveries: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'],
    },
    presenceChecks: true,
    // The kick of the oldest connection past the cap: a `kick` frame, then DELETE.
    manageConnections: true,
  },
  send: {
    tables: {
      RateLimits: ['dynamodb:UpdateItem'],
      // The counter and its ring (refused for a blocked pair); the marks of session rows and index entries written; a
      // resumed fan-out's head.
      Conversations: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
      // A group message's sender's reverse block index (Query), or its members' rows when blocked by more (BatchGetItem).
      Blocks: ['dynamodb:Query', 'dynamodb:BatchGetItem'],
      Messages: ['dynamodb:PutItem', 'dynamodb:GetItem'],
      // PutItem: a pair's session rows; BatchWriteItem: index entries; UpdateItem: a group sender's own read mark.
      Sessions: ['dynamodb:PutItem', 'dynamodb:BatchWriteItem', 'dynamodb:UpdateItem'],
      GroupMembers: ['dynamodb:GetItem', 'dynamodb:Query'],
      // A group message's member count: what it takes from the sender's member-delivery budget.
      Groups: ['dynamodb:GetItem'],
      // The idempotency record of a send with a client_msg_id, claimed with a conditional put.
      SentMessages: ['dynamodb:PutItem'],
      Connections: ['dynamodb:Query', 'dynamodb:DeleteItem'],
      Presence: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
      PendingDeliveries: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'],
    },
    manageConnections: true,
    publishesEvents: true,
    // A message referencing an attachment: HEAD its stored copy or the sender's upload; the first reference copies
    // the upload to att/ (once); with a retention an old stored copy is rewritten onto itself.
    attachments: { read: ['uploads/', 'att/'], write: ['att/'] },
  },
  ack: {
    tables: {
      Messages: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
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
      Sessions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
      GroupMembers: ['dynamodb:GetItem'],
      Presence: ['dynamodb:BatchGetItem'],
      RateLimits: ['dynamodb:UpdateItem'],
      // BatchGetItem: whom the reader blocks among a group history page's senders.
      Blocks: ['dynamodb:BatchGetItem'],
    },
    manageConnections: true,
  },
  groups: {
    // Group create/change/list/info: groups and their member counts, members, members' session rows, index entries
    // and quota rows, notices to members.
    tables: {
      Groups: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
      // UpdateItem: session_mute's flag on the member's own row (conditional: members only).
      GroupMembers: ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'],
      Sessions: ['dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:UpdateItem'],
      Conversations: ['dynamodb:GetItem'],
      Presence: ['dynamodb:BatchGetItem'],
      RateLimits: ['dynamodb:UpdateItem'],
    },
    manageConnections: true,
  },
  devices: {
    // device_token / device_token_verify / device_token_remove: a token item under its user and its owner item
    // (UpdateItem: the owner and its challenge; GetItem: the challenge an answer is checked against; a verified move is
    // a transaction of UpdateItem, DeleteItem and PutItem); the previous holder's connections are told (Presence).
    tables: {
      DeviceTokens: [
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:GetItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
        'dynamodb:BatchWriteItem',
      ],
      Presence: ['dynamodb:BatchGetItem'],
      RateLimits: ['dynamodb:UpdateItem'],
    },
    manageConnections: true,
    // The challenge push of a token another user holds goes through the push hook's bus.
    publishesEvents: true,
  },
  default: {
    tables: {},
    manageConnections: true,
  },
  attachments: {
    // attachment_upload signs PUTs of uploads (the write budget); attachment_url (the read budget) resolves a group
    // session (membership), reads the reference row in the uploader's records and signs a GET of the stored copy.
    tables: {
      RateLimits: ['dynamodb:UpdateItem'],
      GroupMembers: ['dynamodb:GetItem'],
      Sessions: ['dynamodb:GetItem'],
    },
    manageConnections: true,
    attachments: { read: ['att/'], write: ['uploads/'] },
  },
  reports: {
    // report: a group message's membership, the message or the pair's newest ones (snapshot), the report's conditional
    // put (GetItem first: a repeat writes nothing), the daily cap (RateLimits); account_export: the day's claim in
    // the user's Sessions partition (PutItem; UpdateItem: a stale claim taken again; DeleteItem: a claim whose job
    // could not be started).
    tables: {
      Reports: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      Messages: ['dynamodb:GetItem', 'dynamodb:Query'],
      GroupMembers: ['dynamodb:GetItem'],
      Sessions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      RateLimits: ['dynamodb:UpdateItem'],
    },
    manageConnections: true,
    // Report events for the team's pipeline; export jobs for the worker.
    publishesEvents: true,
  },
  exports: {
    // The user's Sessions rows (Query) and claim (UpdateItem), their groups, their conversations' messages, their
    // connections for the ready frame.
    tables: {
      Sessions: ['dynamodb:Query', 'dynamodb:UpdateItem'],
      Groups: ['dynamodb:BatchGetItem'],
      Messages: ['dynamodb:Query'],
      Connections: ['dynamodb:Query'],
    },
    manageConnections: true,
    // `Account Export Ready` for a user with no connection.
    publishesEvents: true,
    // Writes the export and signs its GET.
    attachments: { read: ['exports/'], write: ['exports/'] },
  },
  account: {
    // account_delete: the account marked deleted (Accounts), the write budget, then the user's connections kicked
    // (their rows, presence and pending deliveries forgotten); the job's first page goes to the deletion queue.
    tables: {
      Accounts: ['dynamodb:PutItem', 'dynamodb:GetItem'],
      RateLimits: ['dynamodb:UpdateItem'],
      Connections: ['dynamodb:Query', 'dynamodb:DeleteItem'],
      Presence: ['dynamodb:UpdateItem'],
      PendingDeliveries: ['dynamodb:Query', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
    },
    manageConnections: true,
    deletionQueue: true,
  },
  'account-jobs': {
    // A deletion page: device tokens (a token item and its owner item); the user's Sessions partition walked and
    // emptied; its messages tombstoned (Query of a conversation, UpdateItem); groups left (member rows, counts, owner
    // handed over, an empty group deleted; the heir's owned count); the end recorded (Accounts). Group notices read
    // Presence; a kick of a connection that escaped forgets its rows.
    tables: {
      Accounts: ['dynamodb:UpdateItem'],
      DeviceTokens: ['dynamodb:Query', 'dynamodb:DeleteItem'],
      Sessions: ['dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:UpdateItem'],
      Messages: ['dynamodb:Query', 'dynamodb:UpdateItem'],
      Groups: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      GroupMembers: ['dynamodb:Query', 'dynamodb:DeleteItem'],
      Presence: ['dynamodb:BatchGetItem'],
    },
    manageConnections: true,
    publishesEvents: true,
    // A tombstoned message's attachment: its stored copy and its upload.
    attachments: { read: [], write: [], delete: ['att/', 'uploads/'] },
    deletionQueue: true,
    deletesIdentityUsers: true,
  },
  presence: {
    // users_stat / presence_subscribe: the users' Presence items and the caller's blocks both ways (Blocks: Query of its
    // reverse index and its own list; BatchGetItem when blocked by more than the candidates) read offline;
    // presence_subscribe: the connection's list (GetItem, PutItem) and its rows (BatchWriteItem); presence_set: the
    // away set (UpdateItem) and, on a change, the check: `announced` moved (UpdateItem, GetItem), the subscribers
    // (Query), a gone one's row (DeleteItem).
    tables: {
      Presence: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
      PresenceWatchers: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:Query',
        'dynamodb:DeleteItem',
      ],
      Blocks: ['dynamodb:Query', 'dynamodb:BatchGetItem'],
      RateLimits: ['dynamodb:UpdateItem'],
    },
    manageConnections: true,
  },
  'presence-jobs': {
    // A check: the user's Presence item (GetItem), `announced` moved (UpdateItem), its subscribers (Query), the user's
    // blocks both ways (blocked pairs get nothing), a gone subscriber's row (DeleteItem).
    tables: {
      Presence: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      PresenceWatchers: ['dynamodb:Query', 'dynamodb:DeleteItem'],
      Blocks: ['dynamodb:Query', 'dynamodb:BatchGetItem'],
    },
    manageConnections: true,
  },
  sweeper: {
    // Redeliveries, give-ups, resumed group fan-outs (members, presence, index, pending rows), token expiries.
    tables: {
      PendingDeliveries: [
        'dynamodb:Query',
        'dynamodb:Scan',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
      ],
      Messages: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
      Connections: ['dynamodb:DeleteItem'],
      Presence: ['dynamodb:UpdateItem', 'dynamodb:BatchGetItem'],
      GroupMembers: ['dynamodb:Query'],
      Sessions: ['dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'],
      // BatchGetItem: the heads of the one-to-one pairs in a page (a blocked pair's deliveries are dropped).
      Conversations: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:BatchGetItem'],
      // Who blocks a group message's sender among the page's receivers (flagged, never pushed).
      Blocks: ['dynamodb:Query', 'dynamodb:BatchGetItem'],
    },
    manageConnections: true,
    publishesEvents: true,
  },
  blocks: {
    // user_block / user_unblock: one transaction of the blocker's row, the reverse row, the cap's counter (Blocks) and
    // the pair's head flag (Conversations); block_list: a Query of the blocker's rows.
    tables: {
      Blocks: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
      Conversations: ['dynamodb:UpdateItem'],
      RateLimits: ['dynamodb:UpdateItem'],
    },
    manageConnections: true,
  },
  edits: {
    // msg_recall / msg_edit: the message read (GetItem) and changed (UpdateItem); a group's membership (GetItem), owner
    // (GetItem), member count (the edit's budget) and members (the frames, Query); a one-to-one pair's head (is it
    // blocked); the members' presence; the msg_data budget (edit) or the write budget (recall).
    tables: {
      Messages: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      Groups: ['dynamodb:GetItem'],
      GroupMembers: ['dynamodb:GetItem', 'dynamodb:Query'],
      Conversations: ['dynamodb:GetItem'],
      Presence: ['dynamodb:BatchGetItem'],
      RateLimits: ['dynamodb:UpdateItem'],
    },
    manageConnections: true,
    // A recalled message's attachment: its stored copy and its upload.
    attachments: { read: [], write: [], delete: ['att/', 'uploads/'] },
  },
  typing: {
    // The throttle's item and the `typing` budget (RateLimits); a pair's head (blocked either way?) or a group's
    // members; in a group, who blocks the typist (the reverse index, or the members' rows when blocked by more) and
    // whom it blocks; the receivers' connections (Presence). Nothing is stored and a 410 is not cleaned up here.
    tables: {
      RateLimits: ['dynamodb:UpdateItem'],
      Conversations: ['dynamodb:GetItem'],
      GroupMembers: ['dynamodb:Query'],
      Blocks: ['dynamodb:Query', 'dynamodb:BatchGetItem'],
      Presence: ['dynamodb:BatchGetItem'],
    },
    manageConnections: true,
  },
};

/**
 * The push sender (lib/push-notifications.ts; only when ChatBackend's `push` is set): reads a receiver's tokens and
 * deletes the gone ones (a token item and its owner item), shares the APNs provider token, reads the group mutes,
 * claims push windows and takes from senders' push budgets, and reads the newest page of the receiver's sessions and
 * their heads for the badge, and re-reads a message whose text a push would carry (recalled or edited since). No
 * @connections, no events.
 */
export const PUSH_SENDER_ACCESS: FunctionAccess = {
  tables: {
    // GetItem, PutItem: the APNs provider token the instances share (core/store/provider-tokens.ts).
    DeviceTokens: ['dynamodb:Query', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
    GroupMembers: ['dynamodb:BatchGetItem'],
    Sessions: ['dynamodb:Query', 'dynamodb:BatchGetItem'],
    Conversations: ['dynamodb:BatchGetItem'],
    // The flood bounds (core/store/push-throttle.ts): PutItem claims a receiver's window, UpdateItem takes a sender's budget.
    RateLimits: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
    // A push that carries the text reads it again (recalled, removed or edited since the event was built).
    Messages: ['dynamodb:GetItem'],
  },
  manageConnections: false,
};

/** The tables a function is granted anything on, in a stable order. */
export function tablesOf(fn: FunctionId): TableId[] {
  return (Object.keys(FUNCTION_ACCESS[fn].tables) as TableId[]).sort();
}
