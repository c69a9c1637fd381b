/**
 * `account_export` (docs/moderation.md "Export"): one export a UTC day per user. The request claims the day's export
 * (one conditional PutItem in the user's Sessions partition) and hands the job to the worker (an event on the bus;
 * in local mode the worker runs in-process); a second request that day answers the same export_id and writes no
 * second export: a written one is only signed and sent again, one being written is left alone unless its job died
 * (still pending after EXPORT_STALE_SECONDS), which restarts it.
 * The worker (runExportJob) reads the user's rows, groups and the messages of their conversations in bounded pages,
 * writes one JSON object under `exports/` of the private attachment bucket, marks the claim ready and tells the user:
 * `account_export_ready` with a presigned GET on each connection, or a push when none is open.
 */
import { randomUUID } from 'node:crypto';
import type { AccountExportReadyFrame } from '../../protocol/frames.js';
import type { Config } from '../config.js';
import { groupConversationId } from '../domain/group.js';
import { SessionType, singleConversationId, unixDay } from '../domain/ids.js';
import type { Clock } from '../ports/clock.js';
import type { Gateway } from '../ports/gateway.js';
import type {
  ExportBlobs,
  ExportClaimStore,
  ExportJob,
  ModerationPublisher,
  UserRowReader,
} from '../ports/moderation.js';
import type { ConnectionStore, GroupStore, MessageStore } from '../ports/stores.js';

/** A claim pending this long had its job die (the worker's timeout is 15 minutes). */
export const EXPORT_STALE_SECONDS = 20 * 60;
/** Lifetime of the download URL: at most an hour, so it never outlives the role session that signed it. */
export const EXPORT_URL_TTL_SECONDS = 3600;
/** Messages one export holds at most (all conversations together), so the job's memory stays bounded. */
export const MAX_EXPORT_MESSAGES = 20_000;
/** Rows of the user's Sessions partition one export holds at most. */
export const MAX_EXPORT_ROWS = 20_000;
/** Messages read per Query page. */
const EXPORT_PAGE_MESSAGES = 500;

export interface RequestExportPorts {
  readonly clock: Clock;
  readonly exportClaims: ExportClaimStore;
  readonly moderation: Pick<ModerationPublisher, 'startExport'>;
}

/** The day's export_id of the user: a new export, or the one already claimed today. */
export async function requestExport(ports: RequestExportPorts, userId: string): Promise<string> {
  const nowS = Math.floor(ports.clock.now() / 1000);
  const day = unixDay(nowS);
  const { claim, fresh } = await ports.exportClaims.claim(userId, day, `x_${randomUUID()}`, nowS);
  const job = { user_id: userId, export_id: claim.exportId, day };
  if (claim.status === 'ready') {
    // Written already: only a fresh URL, to the asking user's connections (or a push), not a second export.
    await ports.moderation.startExport({ ...job, resend: true });
  } else if (fresh) {
    // A refused request leaves nothing stored: without its job the claim would block the day's export.
    await ports.moderation.startExport(job).catch(async (error: unknown) => {
      await ports.exportClaims.release(claim);
      throw error;
    });
  } else if (await ports.exportClaims.retake(claim, nowS - EXPORT_STALE_SECONDS, nowS)) {
    await ports.moderation.startExport(job);
  }
  return claim.exportId;
}

export interface ExportJobPorts {
  readonly config: Pick<Config, 'messageRetentionDays'>;
  readonly clock: Clock;
  readonly userRows: UserRowReader;
  readonly messages: Pick<MessageStore, 'listBefore'>;
  readonly groups: Pick<GroupStore, 'getMany'>;
  readonly connections: Pick<ConnectionStore, 'listByUser'>;
  readonly gateway: Gateway;
  readonly exportClaims: Pick<ExportClaimStore, 'markReady'>;
  readonly exportBlobs: ExportBlobs;
  readonly moderation: Pick<ModerationPublisher, 'exportReady'>;
}

export const exportKeyOf = (job: ExportJob) => `exports/${job.user_id}/${job.export_id}.json`;

/** Writes the export and tells the user; idempotent (a rerun rewrites the same object). */
export async function runExportJob(ports: ExportJobPorts, job: ExportJob): Promise<{ messages: number }> {
  const key = exportKeyOf(job);
  let messages = 0;
  if (!job.resend) {
    const document = await collectExport(ports, job);
    await ports.exportBlobs.putJson(key, JSON.stringify(document));
    await ports.exportClaims.markReady(
      { userId: job.user_id, day: job.day },
      key,
      Math.floor(ports.clock.now() / 1000),
    );
    messages = document.message_count;
  }
  const nowS = Math.floor(ports.clock.now() / 1000);
  const frame: AccountExportReadyFrame = {
    type: 'account_export_ready',
    export_id: job.export_id,
    url: await ports.exportBlobs.presignDownload(key, EXPORT_URL_TTL_SECONDS),
    expires_at: nowS + EXPORT_URL_TTL_SECONDS,
  };
  await tellUser(ports, job.user_id, frame);
  return { messages };
}

interface ConversationExport {
  readonly session_type: number;
  readonly session_id: string;
  /** Oldest first. */
  readonly messages: readonly Record<string, unknown>[];
}

async function collectExport(ports: ExportJobPorts, job: ExportJob) {
  const { rows, truncated: rowsTruncated } = await ports.userRows.listAll(job.user_id, MAX_EXPORT_ROWS);
  const sessions = rows.filter((r) => /^[12]#/.test(String(r['session_key'])));
  const groupIds = sessions.filter((r) => String(r['session_key']).startsWith('2#')).map((r) => sessionIdOf(r));
  const groups = await ports.groups.getMany(groupIds);
  const conversations: ConversationExport[] = [];
  let budget = MAX_EXPORT_MESSAGES;
  for (const row of sessions) {
    const sessionType = String(row['session_key']).startsWith('2#') ? SessionType.Group : SessionType.Single;
    const sessionId = sessionIdOf(row);
    const conversationId =
      sessionType === SessionType.Group ? groupConversationId(sessionId) : singleConversationId(job.user_id, sessionId);
    const messages = await messagesOf(ports, conversationId, budget);
    budget -= messages.length;
    conversations.push({ session_type: sessionType, session_id: sessionId, messages });
  }
  return {
    export_id: job.export_id,
    user_id: job.user_id,
    created_at: Math.floor(ports.clock.now() / 1000),
    message_retention_days: ports.config.messageRetentionDays,
    rows,
    groups: groups.map((g) => ({
      group_id: g.groupId,
      group_name: g.groupName,
      owner_id: g.ownerId,
      created_time: g.createdTime,
    })),
    conversations,
    message_count: MAX_EXPORT_MESSAGES - budget,
    truncated: rowsTruncated || budget <= 0,
  };
}

const sessionIdOf = (row: Record<string, unknown>) => String(row['session_key']).slice(2);

/** A conversation's messages, oldest first, at most `budget`, read newest first in pages. */
async function messagesOf(ports: Pick<ExportJobPorts, 'messages'>, conversationId: string, budget: number) {
  const out: Record<string, unknown>[] = [];
  let before = 0;
  while (out.length < budget) {
    const page = await ports.messages.listBefore(
      conversationId,
      before,
      Math.min(EXPORT_PAGE_MESSAGES, budget - out.length),
    );
    for (const m of page) {
      out.push({
        msg_id: m.msgId,
        from_user_id: m.fromUserId,
        create_time: m.createTime,
        msg_type: m.msgType,
        msg_data: m.msgData,
        ...(m.clientMsgId === undefined ? {} : { client_msg_id: m.clientMsgId }),
      });
    }
    const oldest = page.at(-1)?.msgId ?? 1;
    if (page.length === 0 || oldest <= 1) break;
    before = oldest - 1;
  }
  return out.reverse();
}

/** The frame to every open connection; a push when none took it. */
async function tellUser(ports: ExportJobPorts, userId: string, frame: AccountExportReadyFrame): Promise<void> {
  const connections = await ports.connections.listByUser(userId, ports.clock.now());
  let delivered = 0;
  for (const c of connections) {
    if ((await ports.gateway.post(c.connectionId, frame)) === 'delivered') delivered++;
  }
  // No URL on the bus: the push says the export is ready, and the app asks again (the same export_id, a fresh URL).
  if (delivered === 0)
    await ports.moderation.exportReady({ user_id: userId, export_id: frame.export_id, expires_at: frame.expires_at });
}
