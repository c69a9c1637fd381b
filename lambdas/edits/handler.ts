/**
 * Routes msg_recall (the write budget) and msg_edit (the msg_data budget, taken by the use-case): core/usecases/edits.ts
 * has the rules, core/store/message-edits.ts the conditional writes.
 */
import { MsgEditSchema, MsgRecallSchema } from '../../core/domain/edit-requests.js';
import { createRequestHandler, request } from '../../core/request-handler.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { attachmentBucket } from '../../core/compose/attachments.js';
import { contentCheck } from '../../core/compose/content-check.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import { blockTable, groupTables, presenceTable, rateLimitTable } from '../../core/compose/dynamo.js';
import { MessageEditTable } from '../../core/store/message-edits.js';
import { type EditPorts, editMessage, recallMessage } from '../../core/usecases/edits.js';
import type { Runtime } from '../../core/runtime.js';

export type EditsHandlerPorts = EditPorts & Pick<Runtime, 'config' | 'rateLimits'>;

/** DynamoDB (Messages, group membership and owner, the pair's head, presence, RateLimits), S3 (a recalled attachment), @connections. */
export function editsHandlerPorts(adapters: Adapters): EditsHandlerPorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    edits: new MessageEditTable(db, config.tables.Messages),
    groups: groupTables(db, config),
    blocks: blockTable(db, config),
    presence: presenceTable(db, config),
    rateLimits: rateLimitTable(db, config),
    attachments: attachmentBucket(adapters),
    contentCheck: contentCheck(adapters),
  };
}

export function createEditsHandler(runtime: EditsHandlerPorts) {
  return createRequestHandler(runtime, {
    msg_recall: request({ schema: MsgRecallSchema, run: (rt, caller, r) => recallMessage(rt, caller, r) }),
    msg_edit: request({ schema: MsgEditSchema, run: (rt, caller, r) => editMessage(rt, caller, r) }),
  });
}
