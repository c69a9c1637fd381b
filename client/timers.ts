/** setTimeout/setInterval that work the same in browsers and Node. */
export type TimerHandle = ReturnType<typeof setTimeout>;
export type IntervalHandle = ReturnType<typeof setInterval>;
