/** Wall-clock time in milliseconds since the epoch; injected so simulations can replay time. */
export interface Clock {
  now (): number
}

export const systemClock: Clock = { now: () => Date.now() }
