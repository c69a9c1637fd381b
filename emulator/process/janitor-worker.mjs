// The janitor's own process (process/janitor.ts): plain JavaScript, so it starts on bare Node in a few tens
// of milliseconds. It reads JSON lines on stdin naming process groups to end and folders to remove should its
// parent die; when stdin ends (the parent exited, however it exited) it does both and exits. It ignores SIGINT and
// SIGHUP: a Ctrl-C meant for the stack must not end the one process that cleans up after it.
import { rmSync } from 'node:fs';

const groups = new Set();
const folders = new Set();
let buffer = '';
let cleaning = false;

for (const signal of ['SIGINT', 'SIGHUP']) process.on(signal, () => undefined);
process.on('SIGTERM', () => void cleanUp());

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
    apply(buffer.slice(0, end));
    buffer = buffer.slice(end + 1);
  }
});
process.stdin.on('end', () => void cleanUp());
process.stdin.on('error', () => void cleanUp());

function apply(line) {
  let order;
  try {
    order = JSON.parse(line);
  } catch {
    return;
  }
  if (order.watchGroup) groups.add(order.watchGroup);
  if (order.forgetGroup) groups.delete(order.forgetGroup);
  if (order.watchFolder) folders.add(order.watchFolder);
  if (order.forgetFolder) folders.delete(order.forgetFolder);
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

const alive = (pid) => signalGroup(pid, 0);
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function cleanUp() {
  if (cleaning) return;
  cleaning = true;
  for (const pid of groups) signalGroup(pid, 'SIGTERM');
  // DynamoDB Local stops in about a second; a JVM that does not within 5 s is killed.
  for (let waited = 0; waited < 5000 && [...groups].some(alive); waited += 100) await pause(100);
  for (const pid of groups) if (alive(pid)) signalGroup(pid, 'SIGKILL');
  for (const folder of folders) {
    try {
      rmSync(folder, { recursive: true, force: true });
    } catch {
      // Nothing more to do from here.
    }
  }
  process.exit(0);
}
