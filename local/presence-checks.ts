/**
 * Local mode's presence checks queue: the presence-jobs worker run in process, as SQS and its event source mapping
 * run it on AWS — a check with no delay at once, a held-back one (DelaySeconds) on a timer, a failed one tried again
 * a moment later (at most MAX_TRIES). Tests do not wait for the hold-back: `flushHeld(userId)` waits until a held
 * check of that user is queued and runs every held check now; `idle()` resolves when none is running.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { PresenceCheck } from '../core/domain/presence.js';
import type { PresenceCheckQueue } from '../core/ports/presence.js';

type Worker = (event: SQSEvent) => Promise<SQSBatchResponse>;

const MAX_TRIES = 5;
const RETRY_DELAY_MS = 500;

interface Held {
  readonly check: PresenceCheck;
  readonly attempt: number;
  timer?: NodeJS.Timeout;
}

export class LocalPresenceChecks implements PresenceCheckQueue {
  private worker: Worker | undefined;
  private readonly held = new Set<Held>();
  private readonly running = new Set<Promise<void>>();
  private readonly waiters: { userId: string; resolve: () => void }[] = [];
  private sent = 0;
  private stopped = false;
  /** Wall-clock milliseconds of every worker run so far (the bench prices presence-jobs with them). */
  readonly runs: number[] = [];

  /** The worker (the presence-jobs handler), known once its ports are composed. */
  attach(worker: Worker): void {
    this.worker = worker;
  }

  async enqueue(check: PresenceCheck, delaySeconds: number): Promise<void> {
    if (this.stopped) return;
    if (delaySeconds <= 0) {
      this.run(check, 1);
      return;
    }
    this.hold({ check, attempt: 1 }, delaySeconds * 1000);
    for (const waiter of this.waiters.filter((w) => w.userId === check.userId)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  /** Waits until a held check of the user is queued (at once if one is), then runs every held check and waits. */
  async flushHeld(userId: string): Promise<void> {
    if (![...this.held].some((h) => h.check.userId === userId)) {
      await new Promise<void>((resolve) => this.waiters.push({ userId, resolve }));
    }
    for (const entry of [...this.held]) {
      clearTimeout(entry.timer);
      this.release(entry);
    }
    await this.idle();
  }

  /** Resolves when no check is running (checks queued meanwhile included). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const entry of this.held) clearTimeout(entry.timer);
    this.held.clear();
    await this.idle();
  }

  private hold(entry: Held, delayMs: number): void {
    entry.timer = setTimeout(() => this.release(entry), delayMs);
    this.held.add(entry);
  }

  private release(entry: Held): void {
    this.held.delete(entry);
    this.run(entry.check, entry.attempt);
  }

  private run(check: PresenceCheck, attempt: number): void {
    const worker = this.worker;
    if (!worker || this.stopped) return;
    const id = `local-presence-${++this.sent}`;
    const started = performance.now();
    const task = worker(sqsEvent(id, check)).then(({ batchItemFailures }) => {
      this.runs.push(performance.now() - started);
      if (batchItemFailures.length === 0 || attempt >= MAX_TRIES) return;
      this.hold({ check, attempt: attempt + 1 }, RETRY_DELAY_MS);
    });
    this.running.add(task);
    void task.finally(() => this.running.delete(task));
  }
}

function sqsEvent(messageId: string, check: PresenceCheck): SQSEvent {
  const now = String(Date.now());
  return {
    Records: [
      {
        messageId,
        receiptHandle: messageId,
        body: JSON.stringify(check),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: now,
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: now,
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:local-presence-checks',
        awsRegion: 'us-east-1',
      },
    ],
  };
}
