/** Where the SDK reads the time; tests pass the server's fake clock. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
