/** The attachment byte quota's unit of time (core/usecases/attachments.ts `quotaPeriod`). */

/** A stretch of time the attachment byte quota counts over: for ever, or a window (then the row expires). */
export interface QuotaPeriod {
  readonly id: string;
  /** Unix seconds after which the period's count is no longer needed (DynamoDB TTL). */
  readonly expiresAt?: number;
}
