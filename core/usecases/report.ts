/**
 * `report` (docs/moderation.md): a user reports a message of a conversation they are in, or a user. The report's id
 * comes from the reporter and the target (core/domain/report.ts), so the work is: resolve the target as the caller
 * sees it (a group message only for a member: one GetItem), read whether the id is already filed (one GetItem; a
 * repeat writes nothing and takes nothing from the daily cap), read the snapshot (one GetItem for a message, one
 * Query of ≤ 20 for a user), take one from the reporter's daily cap (one UpdateItem), write the report with a
 * conditional put (two racing reports: one item, one id) and publish it on the bus for the team's pipeline.
 */
import type * as v from 'valibot';
import { singleConversationId } from '../domain/ids.js';
import type { MessageRecord } from '../domain/message.js';
import {
  reportIdOf,
  USER_REPORT_SCAN_MESSAGES,
  USER_REPORT_SNAPSHOT_MESSAGES,
  type Report,
  type ReportedMessage,
  type ReportSchema,
  type StoredReportTarget,
} from '../domain/report.js';
import { FrameError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { ModerationPublisher, ReportStore } from '../ports/moderation.js';
import type { GroupStore, MessageStore, RateLimiter } from '../ports/stores.js';
import { resolveConversation } from './conversation-access.js';

export interface ReportPorts {
  readonly clock: Clock;
  readonly reports: ReportStore;
  readonly messages: Pick<MessageStore, 'get' | 'listBefore'>;
  readonly groups: GroupStore;
  readonly rateLimits: Pick<RateLimiter, 'tryAcquire'>;
  readonly moderation: Pick<ModerationPublisher, 'publishReport'>;
}

type ReportRequest = v.InferOutput<typeof ReportSchema>;

/** Files the report, or finds the reporter's earlier report of the same target; its id either way. */
export async function fileReport(ports: ReportPorts, reporterId: string, request: ReportRequest): Promise<string> {
  const target = await resolveTarget(ports, reporterId, request.target);
  const reportId = reportIdOf(reporterId, target);
  if (await ports.reports.get(reportId)) return reportId;
  const snapshot = await snapshotOf(ports, reporterId, target);
  const nowMs = ports.clock.now();
  if (!(await ports.rateLimits.tryAcquire('reports', reporterId, nowMs))) {
    throw new FrameError('rate_limited', 'more reports today than the limit allows for this user');
  }
  const report: Report = {
    report_id: reportId,
    reporter_id: reporterId,
    target: target.kind === 'message' ? { ...target, user_id: snapshot[0]!.from_user_id } : target,
    reason: request.reason,
    ...(request.text === undefined || request.text === '' ? {} : { text: request.text }),
    created_at: Math.floor(nowMs / 1000),
    status: 'open',
    snapshot,
  };
  const { created } = await ports.reports.create(report);
  if (created) await ports.moderation.publishReport(report);
  return reportId;
}

/** The target as stored; a message only in a conversation the reporter is in (not_member otherwise). */
async function resolveTarget(
  ports: Pick<ReportPorts, 'groups'>,
  reporterId: string,
  target: ReportRequest['target'],
): Promise<StoredReportTarget> {
  if ('user_id' in target) {
    if (target.user_id === reporterId) throw new FrameError('bad_request', 'target: you cannot report yourself');
    return { kind: 'user', user_id: target.user_id };
  }
  const conversation = await resolveConversation(ports, reporterId, target.session_type, target.session_id);
  return {
    kind: 'message',
    conversation_id: conversation.conversationId,
    session_type: conversation.sessionType,
    session_id: conversation.sessionId,
    msg_id: target.msg_id,
    user_id: '',
  };
}

/** The reported message (bad_request when there is none, or it is the reporter's own), or the user's recent ones. */
async function snapshotOf(
  ports: Pick<ReportPorts, 'messages'>,
  reporterId: string,
  target: StoredReportTarget,
): Promise<ReportedMessage[]> {
  if (target.kind === 'message') {
    const message = await ports.messages.get(target.conversation_id, target.msg_id);
    if (!message) throw new FrameError('bad_request', `target: no message ${target.msg_id} in this session`);
    if (message.fromUserId === reporterId)
      throw new FrameError('bad_request', 'target: you cannot report your own message');
    return [reported(message)];
  }
  const recent = await ports.messages.listBefore(
    singleConversationId(reporterId, target.user_id),
    0,
    USER_REPORT_SCAN_MESSAGES,
  );
  return recent
    .filter((m) => m.fromUserId === target.user_id)
    .slice(0, USER_REPORT_SNAPSHOT_MESSAGES)
    .map(reported);
}

const reported = (m: MessageRecord): ReportedMessage => ({
  msg_id: m.msgId,
  from_user_id: m.fromUserId,
  create_time: m.createTime,
  msg_type: m.msgType,
  msg_data: m.msgData,
});
