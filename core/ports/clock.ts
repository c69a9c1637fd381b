/** Time, as the use-cases read it: the system clock on AWS and in local mode, a hand-moved one in tests. */
export interface Clock {
  /** Unix ms. */
  now(): number;
}
