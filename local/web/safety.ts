/**
 * Reporting and data export on the chat page: clicking someone else's message selects it and shows the report bar
 * (a reason picker and "Report"); "Download my data" asks for an account export and, when its
 * `account_export_ready` arrives, shows the download link.
 *
 * Hooks for browser tests: #messages > li[data-report-selected], #report-bar[data-msg-id], #report-reason,
 * #report-send, #report-result[data-report-id], #export-data, #export-link[data-export-id].
 */
import { ChatServerError, REPORT_REASONS, type ReportReason } from 'teamtalk-serverless-client';
import { showNotice } from './render.js';
import { page } from './state.js';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let selected: { msgId: number; element: HTMLElement } | undefined;

/** Selects a received message to report (a second click on it unselects it). */
function onMessageClick(event: MouseEvent): void {
  const item = (event.target as HTMLElement).closest<HTMLElement>('li[data-msg-id]');
  const bar = byId<HTMLElement>('report-bar');
  if (!item || item.dataset['own'] !== 'false' || item.dataset['msgId'] === '') return;
  selected?.element.removeAttribute('data-report-selected');
  if (selected?.element === item) {
    selected = undefined;
    bar.hidden = true;
    return;
  }
  selected = { msgId: Number(item.dataset['msgId']), element: item };
  item.dataset['reportSelected'] = 'true';
  bar.dataset['msgId'] = String(selected.msgId);
  bar.hidden = false;
}

async function sendReport(): Promise<void> {
  const client = page.client;
  const conversation = page.current;
  const result = byId<HTMLElement>('report-result');
  if (!client || !conversation || !selected) return;
  const reason = byId<HTMLSelectElement>('report-reason').value as ReportReason;
  try {
    const reportId = await client.report({ conversation, msgId: selected.msgId, reason });
    result.dataset['reportId'] = reportId;
    result.textContent = `Reported (${reportId}). Thank you.`;
  } catch (error) {
    result.textContent = `Not reported: ${error instanceof ChatServerError ? error.code : String(error)}`;
  }
  result.hidden = false;
}

async function exportData(): Promise<void> {
  const client = page.client;
  const link = byId<HTMLAnchorElement>('export-link');
  if (!client) {
    showNotice('Connect first.');
    return;
  }
  try {
    const { exportId, ready } = await client.exportAccount();
    link.hidden = false;
    link.textContent = 'Preparing your data…';
    const frame = await ready;
    link.href = frame.url;
    link.dataset['exportId'] = exportId;
    link.textContent = `Download my data (until ${new Date(frame.expires_at * 1000).toLocaleTimeString()})`;
  } catch (error) {
    showNotice(`Export failed: ${error instanceof ChatServerError ? error.code : String(error)}`);
  }
}

export function wireSafety(): void {
  const reason = byId<HTMLSelectElement>('report-reason');
  for (const r of REPORT_REASONS) reason.append(new Option(r, r));
  byId('messages').addEventListener('click', onMessageClick);
  byId('report-send').addEventListener('click', () => void sendReport());
  byId('export-data').addEventListener('click', () => void exportData());
}
