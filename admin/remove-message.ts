/**
 * `remove-message 1 <user> <peer> <msg_id>` (a one-to-one conversation, by its two users, in either order) or
 * `remove-message 2 <group_id> <msg_id>`: the message becomes a tombstone for everyone (content and attachment
 * erased, msg_id kept).
 */
import { removeMessage, type MessageAddress } from '../core/usecases/remove-message.js';
import { AdminUsageError, type AdminCommand } from './command.js';

export const removeMessageCommand: AdminCommand = {
  name: 'remove-message',
  args: '1 <user> <peer> <msg_id> | 2 <group_id> <msg_id>',
  summary: 'tombstone one message for everyone (content and attachment erased, msg_id kept)',
  async run({ runtime, tombstones }, args) {
    const address = parseAddress(args, this);
    const outcome = await removeMessage({ tombstones, attachments: runtime.attachments }, address);
    const where = address.sessionType === 1 ? `${address.users.join('↔')}` : address.groupId;
    const said = { removed: 'removed', already: 'was removed already', missing: 'no such message' }[outcome];
    return `${where} msg_id ${address.msgId}: ${said}`;
  },
};

function parseAddress(args: readonly string[], command: AdminCommand): MessageAddress {
  const usage = new AdminUsageError(`usage: npm run admin -- ${command.name} ${command.args}`);
  const msgId = Number(args.at(-1));
  if (!Number.isSafeInteger(msgId) || msgId < 1) throw usage;
  if (args[0] === '1' && args.length === 4) return { sessionType: 1, users: [args[1]!, args[2]!], msgId };
  if (args[0] === '2' && args.length === 3) return { sessionType: 2, groupId: args[1]!, msgId };
  throw usage;
}
