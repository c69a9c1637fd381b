/**
 * "Delete account": after the user confirms, `deleteAccount()` (account_delete); the server answers, then kicks every
 * connection of the user with `account_deleted` (the banner says so) and erases the account. The page signs out.
 */
import { logOut } from './actions.js';
import { showNotice } from './render.js';
import { page } from './state.js';

export async function deleteAccount(): Promise<void> {
  const store = page.store;
  if (!store) return;
  const me = page.me;
  const confirmed = window.confirm(
    `Delete the account ${me}? Its messages are erased for everyone and its groups pass to other members. This cannot be undone.`,
  );
  if (!confirmed) return;
  try {
    await store.client.deleteAccount();
  } catch (error) {
    showNotice(`The account was not deleted: ${(error as Error).message}`);
    return;
  }
  logOut();
  showNotice(`The account ${me} was deleted.`);
}
