/**
 * The commands of `npm run admin`, by name. Registration point: a new command is a module exporting an AdminCommand
 * (admin/command.ts), imported here and added to ADMIN_COMMANDS; nothing else changes.
 */
import type { AdminCommand } from './command.js';
import { deleteUserCommand } from './delete-user.js';
import { removeMessageCommand } from './remove-message.js';
import { reportsAdminCommand } from './reports.js';
import { suspendCommand } from './suspend.js';
import { unsuspendCommand } from './unsuspend.js';

export const ADMIN_COMMANDS: readonly AdminCommand[] = [
  suspendCommand,
  unsuspendCommand,
  removeMessageCommand,
  deleteUserCommand,
  reportsAdminCommand,
];
