/**
 * Account status: suspension (operator), its lifting, and the check $connect makes. A suspended or deleted user's
 * live connections get `kick` with the reason and are closed; their new connections are refused at $connect, before
 * anything is stored, by one strongly consistent GetItem of the Accounts table (1 read unit a connect).
 *
 * A connect that read the status just before a suspension was written and stores its row just after the kicks listed
 * the user's connections escapes the kick; that window is the time between the two writes of one $connect (tens of
 * ms), and suspending again closes such a connection.
 */
import type { KickReason } from '../../protocol/frames.js';
import type { AccountStatus, AccountStore } from '../ports/accounts.js';
import { kickConnection, type ConnectionPorts } from './connections.js';
import type { Gateway } from '../ports/gateway.js';

export interface KickUserPorts extends ConnectionPorts {
  readonly gateway: Gateway;
}

export interface AccountStatusPorts extends KickUserPorts {
  readonly accounts: AccountStore;
}

/** Whether a user may connect: refused when suspended or deleted. */
export async function connectionRefusal(
  ports: { readonly accounts: AccountStore },
  userId: string,
): Promise<Exclude<AccountStatus, 'active'> | undefined> {
  const status = await ports.accounts.status(userId);
  return status === 'active' ? undefined : status;
}

/** Every live connection of the user gets `kick` with the reason and is closed; returns how many. */
export async function kickUser(ports: KickUserPorts, userId: string, reason: KickReason): Promise<number> {
  const connections = await ports.connections.listByUser(userId, ports.clock.now());
  await Promise.all(connections.map((connection) => kickConnection(ports, connection, reason)));
  return connections.length;
}

/** Suspends the user and closes its connections; `deleted` when the account is deleted (nothing changes then). */
export async function suspendUser(
  ports: AccountStatusPorts,
  userId: string,
): Promise<{ outcome: 'suspended' | 'deleted'; kicked: number }> {
  if (!(await ports.accounts.suspend(userId, nowSeconds(ports)))) return { outcome: 'deleted', kicked: 0 };
  return { outcome: 'suspended', kicked: await kickUser(ports, userId, 'suspended') };
}

/** Lifts a suspension: false when the user was not suspended (active already, or deleted: never lifted). */
export function unsuspendUser(ports: { readonly accounts: AccountStore }, userId: string): Promise<boolean> {
  return ports.accounts.unsuspend(userId);
}

const nowSeconds = (ports: { readonly clock: { now(): number } }) => Math.floor(ports.clock.now() / 1000);
