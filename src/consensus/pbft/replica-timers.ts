import type { CoreTimer } from './events.ts'

/**
 * A replica's three timers (Fabric's newViewTimer, vcResendTimer and nullRequestTimer), each
 * delivering its event into the replica's loop, and the view-change timeout's backoff.
 */
export class ReplicaTimers {
  readonly #newView: CoreTimer
  readonly #vcResend: CoreTimer
  readonly #nullRequest: CoreTimer
  #newViewTimerReason = ''
  #lastNewViewTimeout: number

  constructor (private readonly timeouts: { viewChange: number, resendViewChange: number }, createTimer: () => CoreTimer) {
    this.#newView = createTimer()
    this.#vcResend = createTimer()
    this.#nullRequest = createTimer()
    this.#lastNewViewTimeout = timeouts.viewChange
  }

  /** Why the view-change timer was last started. */
  get newViewTimerReason (): string { return this.#newViewTimerReason }
  /** What the next new-view may take before the view change moves on. */
  get lastNewViewTimeout (): number { return this.#lastNewViewTimeout }

  /** Starts the view-change timer unless it runs already. */
  softStartTimer (timeout: number, reason: string): void {
    this.#newViewTimerReason = reason
    this.#newView.softReset(timeout, { kind: 'viewChangeTimer' })
  }

  startTimer (timeout: number, reason: string): void {
    this.#newViewTimerReason = reason
    this.#newView.reset(timeout, { kind: 'viewChangeTimer' })
  }

  stopTimer (): void { this.#newView.stop() }

  /** Re-arms the expired request timer once more; a commit meanwhile stops it as it would the timer. */
  startGraceTimer (timeout: number): void { this.#newView.reset(timeout, { kind: 'viewChangeTimer', graced: true }) }

  startNullRequestTimer (timeout: number): void { this.#nullRequest.reset(timeout, { kind: 'nullRequestTimer' }) }
  stopNullRequestTimer (): void { this.#nullRequest.stop() }

  startViewChangeResendTimer (): void { this.#vcResend.reset(this.timeouts.resendViewChange, { kind: 'viewChangeResendTimer' }) }
  stopViewChangeResendTimer (): void { this.#vcResend.stop() }

  /** A commit: the next view change gets the configured timeout again. */
  resetNewViewTimeout (): void { this.#lastNewViewTimeout = this.timeouts.viewChange }
  /** Each view change that fails to complete gives the next one twice as long. */
  backOffNewViewTimeout (): void { this.#lastNewViewTimeout = 2 * this.#lastNewViewTimeout }

  stopAll (): void {
    this.#newView.stop()
    this.#vcResend.stop()
    this.#nullRequest.stop()
  }
}
