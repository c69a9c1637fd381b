/** `suspend <user>`: the user's connections get `kick` `suspended` and close; new connections are refused (403). */
import { suspendUser } from '../core/usecases/account-status.js';
import { oneArgument, type AdminCommand } from './command.js';

export const suspendCommand: AdminCommand = {
  name: 'suspend',
  args: '<user>',
  summary: 'suspend a user: connections kicked (reason suspended), new connections refused until unsuspend',
  async run({ runtime }, args) {
    const userId = oneArgument(this, args);
    const { outcome, kicked } = await suspendUser(runtime, userId);
    return outcome === 'deleted'
      ? `${userId}: the account is deleted; nothing to suspend`
      : `${userId}: suspended; ${kicked} connection(s) kicked`;
  },
};
