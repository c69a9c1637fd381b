/**
 * `delete-user <user>`: what `account_delete` does for the user. The account is marked deleted (new connections are
 * refused), its connections get `kick` `account_deleted`, and the deletion job runs: on AWS queued to the stack's
 * account-jobs worker (the command returns once it is queued; `Account Deleted` on the stack's bus says when it is
 * done), in local mode here, page after page, until it is done.
 */
import { adaptersFrom } from '../core/compose/adapters.js';
import type { DeletionJob } from '../core/domain/account.js';
import { acceptAccountDeletion, kickDeletedUser, runDeletionPage } from '../core/usecases/account-deletion.js';
import { accountJobsHandlerPorts } from '../lambdas/account-jobs/handler.js';
import { oneArgument, type AdminCommand } from './command.js';
import type { AdminContext } from './context.js';

export const deleteUserCommand: AdminCommand = {
  name: 'delete-user',
  args: '<user>',
  summary: 'delete an account: kicked (account_deleted), messages tombstoned, groups handed over, rows removed',
  async run(context, args) {
    const userId = oneArgument(this, args);
    if (context.target === 'aws') {
      await acceptAccountDeletion(context.runtime, userId);
      const kicked = await kickDeletedUser(context.runtime, userId);
      return `${userId}: deletion queued; ${kicked} connection(s) kicked; 'Account Deleted' on the stack's bus when done`;
    }
    const pages = await deleteHere(context, userId);
    return `${userId}: deleted in ${pages} page(s)`;
  },
};

/** Local mode: the job's pages in this process, in order, each once (a page queued twice is kept once). */
async function deleteHere(context: AdminContext, userId: string): Promise<number> {
  const queued: DeletionJob[] = [];
  const jobs = {
    enqueue: async (job: DeletionJob) => {
      if (!queued.some((q) => q.userId === job.userId && q.page === job.page)) queued.push(job);
    },
  };
  const ports = accountJobsHandlerPorts(adaptersFrom(context.env, { deletionJobs: jobs }));
  await acceptAccountDeletion({ ...context.runtime, jobs }, userId);
  await kickDeletedUser(context.runtime, userId);
  for (const job of queued) await runDeletionPage(ports, job);
  return queued.length;
}
