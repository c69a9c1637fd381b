/** `unsuspend <user>`: lifts a suspension; the user may connect again. */
import { unsuspendUser } from '../core/usecases/account-status.js';
import { oneArgument, type AdminCommand } from './command.js';

export const unsuspendCommand: AdminCommand = {
  name: 'unsuspend',
  args: '<user>',
  summary: 'lift a suspension (a deleted account stays deleted)',
  async run({ runtime }, args) {
    const userId = oneArgument(this, args);
    return (await unsuspendUser(runtime, userId))
      ? `${userId}: suspension lifted`
      : `${userId}: was not suspended (active, or deleted)`;
  },
};
