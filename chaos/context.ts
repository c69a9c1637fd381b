/**
 * What every step of a chaos run (chaos/harness.ts) shares: the run's options and context — the stack under test, the
 * fault plan, the log of port calls, a fault-free client of the tables — and the process-wide probes. Types only, so
 * the steps depend on this module and the harness on the steps, never the other way.
 */
import type { IntervalHistogram } from 'node:perf_hooks';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FaultPlan, FaultRates } from './faults.js';
import type { PortLog } from './observer.js';
import type { ChaosStack } from './stack.js';

export interface ChaosOptions {
  readonly dynamoEndpoint: string;
  /** Table name prefix (unique per run). */
  readonly tablePrefix?: string;
  readonly seed: number;
  readonly users: number;
  readonly devicesPerUser: number;
  readonly groups: number;
  /** Members per group (the creator included). */
  readonly groupSize: number;
  /** Messages to send (distinct client_msg_ids). */
  readonly messages: number;
  /** Sends started per second (at most). */
  readonly ratePerSecond: number;
  /** Sends waiting for their ack at once, at most: the app backs off when the stack falls behind (default 3 × rate). */
  readonly maxInFlight?: number;
  /** The sending phase ends after this long even if not every message was started. */
  readonly maxSendPhaseMs: number;
  /** Share of sends that go to a group (of the sender's). */
  readonly groupShare: number;
  /**
   * Share of one-to-one sends that reuse a client_msg_id the sender used before with another peer (another message:
   * stored and acked), and of sends that reuse one of the same conversation with other content (refused
   * `client_msg_id_reused`, nothing stored). Default 0.
   */
  readonly reuseShare?: number;
  /** Share of sends whose msg_data is 4096 × U+0001, 24 KB once JSON-escaped: history pages must be cut to fit. Default 0. */
  readonly oversizedShare?: number;
  /** Lifetime of the devices' tokens, in seconds: connections are kicked when it ends and reconnect with a new one. */
  readonly tokenTtlSeconds?: number;
  /** Overall fault rate; each kind's rate derives from it (ratesFor), `rates` overrides single kinds. */
  readonly faultRate: number;
  readonly rates?: Partial<FaultRates>;
  /** Random disconnects per minute, all devices together: half client close + reopen, half dropped connections. */
  readonly disconnectsPerMinute: number;
  /** Server ACK_TIMEOUT_MS. */
  readonly serverAckTimeoutMs?: number;
  readonly sweepIntervalMs?: number;
  /** SDK ackTimeoutMs: a send without msg_data_ack is resent (same client_msg_id) after this long. */
  readonly clientAckTimeoutMs?: number;
  /** How long the final phase may wait for sends, redeliveries and catch-ups. */
  readonly settleTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** One run: its options, the stack under test and what watches it. */
export interface Run {
  readonly options: ChaosOptions;
  readonly log: (line: string) => void;
  readonly startedAt: number;
  readonly stack: ChaosStack;
  readonly plan: FaultPlan;
  readonly ports: PortLog;
  /** Reads of the tables by the harness, without faults. */
  readonly db: DynamoDBDocumentClient;
}

/** Process-wide measures taken over the run. */
export interface Probes {
  /** SDK warnings counted instead of printed. */
  readonly warnings: { postsOverRequestTimeout: number; socketCapacityWarnings: number };
  readonly loopDelay: IntervalHistogram;
  stop(): void;
}
