/**
 * `npm run smoke -- … --cleanup <outputs.json>`: after the run, delete what the two smoke users left in the
 * deployment's tables and bucket, so a check of production leaves nothing in production. The smoke users are test
 * users (docs/deploy.md §3): everything of theirs goes —
 * - their per-user partitions: Sessions (session rows, the session index, the quota counters), Connections, Presence;
 * - the conversations among the two of them only: the pair's, and each group one of them owns with no other member
 *   (Messages partition, Conversations head; the Groups item and GroupMembers partition). A conversation with anyone
 *   else is left alone and reported;
 * - their attachments: the uploads under each user (`uploads/<user>/`) and their stored copies (`att/<user>/`);
 *   the reference rows went with their Sessions partitions.
 * Rows that expire by themselves are left to their TTL: idempotency records (48 h), pending deliveries and rate-limit
 * windows (a day at most). Device tokens are left: the smoke registers none.
 *
 * Table and bucket names come from the stack's outputs (`<Table>TableName`, `AttachmentBucketName`) as
 * `aws cloudformation describe-stacks --query 'Stacks[0].Outputs'` prints them.
 */
import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { groupConversationId } from '../core/domain/group.js';
import { singleConversationId } from '../core/domain/ids.js';
import { batchWriteAll, queryAll } from '../core/store/batch.js';
import { ALL_TABLES, TABLES, type TableId } from '../core/store/schema.js';
import { REFERENCED_PREFIX, UPLOADS_PREFIX } from '../core/usecases/attachments.js';

/** Group sessions (protocol/frames.ts session_type 2). */
const GROUP_SESSION = 2;

export interface CleanupTarget {
  readonly tables: Readonly<Record<TableId, string>>;
  /** The attachment bucket; attachments are left when there is none. */
  readonly bucket?: string;
}

export interface CleanupReport {
  readonly conversations: number;
  readonly messages: number;
  readonly groups: number;
  readonly userRows: number;
  readonly objects: number;
  /** Conversations with someone other than the two smoke users: not deleted. */
  readonly kept: readonly string[];
}

/** The tables and bucket of a stack, from its outputs (`[{ OutputKey, OutputValue }]`). */
export function cleanupTargetFromOutputs(
  outputs: readonly { OutputKey?: string; OutputValue?: string }[],
): CleanupTarget {
  const value = (key: string) => outputs.find((o) => o.OutputKey === key)?.OutputValue;
  const tables = {} as Record<TableId, string>;
  for (const spec of ALL_TABLES) {
    const name = value(`${spec.id}TableName`);
    if (!name)
      throw new Error(`the stack outputs have no ${spec.id}TableName: give the outputs of the deployed TeamTalkStack`);
    tables[spec.id] = name;
  }
  const bucket = value('AttachmentBucketName');
  return { tables, ...(bucket ? { bucket } : {}) };
}

/** Deletes what the two users left (see the module comment); `groupIds` adds groups the run made that no session row names. */
export async function cleanUpSmokeData(
  clients: { readonly db: DynamoDBDocumentClient; readonly s3?: S3Client },
  target: CleanupTarget,
  users: readonly [string, string],
  groupIds: readonly string[] = [],
): Promise<CleanupReport> {
  const { db } = clients;
  const sessions = await sessionRows(db, target, users);
  const groups = new Set([
    ...groupIds,
    ...sessions.filter((s) => s['session_type'] === GROUP_SESSION).map((s) => s['session_id'] as string),
  ]);
  const conversations = new Set([singleConversationId(users[0], users[1])]);
  const kept = new Set<string>();
  let deletedGroups = 0;
  for (const groupId of groups) {
    if (await deleteGroupIfOnlyTheirs(db, target, users, groupId)) {
      conversations.add(groupConversationId(groupId));
      deletedGroups++;
    } else kept.add(groupConversationId(groupId));
  }
  for (const s of sessions) {
    const id = s['conversation_id'] as string | undefined;
    if (id && !conversations.has(id) && s['session_type'] !== GROUP_SESSION) kept.add(id);
  }
  let messages = 0;
  for (const conversationId of conversations) messages += await deleteConversation(db, target, conversationId);
  const userRows = await deleteUserRows(db, target, users);
  // Uploads and their stored copies both sit under the uploader (`uploads/<user hex>/`, `att/<user hex>/`).
  const prefixes = users.flatMap((u) =>
    [UPLOADS_PREFIX, REFERENCED_PREFIX].map((p) => `${p}${Buffer.from(u).toString('hex')}/`),
  );
  const objects = clients.s3 && target.bucket ? await deletePrefixes(clients.s3, target.bucket, prefixes) : 0;
  return { conversations: conversations.size, messages, groups: deletedGroups, userRows, objects, kept: [...kept] };
}

/** Every Sessions row of the two users (session rows carry session_type, session_id and conversation_id). */
async function sessionRows(
  db: DynamoDBDocumentClient,
  target: CleanupTarget,
  users: readonly string[],
): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (const user of users) {
    for await (const item of queryAll(db, {
      TableName: target.tables.Sessions,
      KeyConditionExpression: 'user_id = :u',
      ExpressionAttributeValues: { ':u': user },
    }))
      rows.push(item);
  }
  return rows;
}

/** The group's item and member rows, when one of the users owns it and nobody else is a member. */
async function deleteGroupIfOnlyTheirs(
  db: DynamoDBDocumentClient,
  target: CleanupTarget,
  users: readonly string[],
  groupId: string,
): Promise<boolean> {
  const group = (
    await db.send(new GetCommand({ TableName: target.tables.Groups, Key: { group_id: groupId }, ConsistentRead: true }))
  ).Item;
  const members: Record<string, unknown>[] = [];
  for await (const m of queryAll(db, {
    TableName: target.tables.GroupMembers,
    KeyConditionExpression: 'group_id = :g',
    ExpressionAttributeValues: { ':g': groupId },
    ProjectionExpression: 'group_id, user_id',
  }))
    members.push(m);
  if (group && !users.includes(group['owner_id'] as string)) return false;
  if (members.some((m) => !users.includes(m['user_id'] as string))) return false;
  await batchWriteAll(
    db,
    target.tables.GroupMembers,
    members.map((Key) => ({ DeleteRequest: { Key } })),
  );
  await db.send(new DeleteCommand({ TableName: target.tables.Groups, Key: { group_id: groupId } }));
  return true;
}

/** A conversation's messages and head; the number of messages. */
async function deleteConversation(
  db: DynamoDBDocumentClient,
  target: CleanupTarget,
  conversationId: string,
): Promise<number> {
  const keys: Record<string, unknown>[] = [];
  const messages = TABLES.Messages;
  for await (const item of queryAll(db, {
    TableName: target.tables.Messages,
    KeyConditionExpression: 'conversation_id = :c',
    ExpressionAttributeValues: { ':c': conversationId },
    ProjectionExpression: `${messages.partitionKey.name}, ${messages.sortKey!.name}`,
  }))
    keys.push(item);
  await batchWriteAll(
    db,
    target.tables.Messages,
    keys.map((Key) => ({ DeleteRequest: { Key } })),
  );
  await db.send(
    new DeleteCommand({ TableName: target.tables.Conversations, Key: { conversation_id: conversationId } }),
  );
  return keys.length;
}

/** The users' partitions of Sessions and Connections and their Presence items; the number of rows. */
async function deleteUserRows(
  db: DynamoDBDocumentClient,
  target: CleanupTarget,
  users: readonly string[],
): Promise<number> {
  let count = 0;
  for (const tableId of ['Sessions', 'Connections'] as const) {
    const spec = TABLES[tableId];
    for (const user of users) {
      const keys: Record<string, unknown>[] = [];
      const input = {
        TableName: target.tables[tableId],
        KeyConditionExpression: 'user_id = :u',
        ExpressionAttributeValues: { ':u': user },
        ProjectionExpression: `user_id, ${spec.sortKey!.name}`,
      };
      for await (const item of queryAll(db, input)) keys.push(item);
      await batchWriteAll(
        db,
        target.tables[tableId],
        keys.map((Key) => ({ DeleteRequest: { Key } })),
      );
      count += keys.length;
    }
  }
  for (const user of users) {
    const deleted = await db.send(
      new DeleteCommand({ TableName: target.tables.Presence, Key: { user_id: user }, ReturnValues: 'ALL_OLD' }),
    );
    if (deleted.Attributes) count++;
  }
  return count;
}

/** Every object under the prefixes; the number deleted. */
async function deletePrefixes(s3: S3Client, bucket: string, prefixes: readonly string[]): Promise<number> {
  let count = 0;
  for (const prefix of prefixes) {
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key! }));
        count++;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  return count;
}
