/**
 * Where a stream's one reader waits while nothing is there to take: whatever changes what
 * recv() would see (a frame, the end, a failure, a local close) wakes it to look again.
 */
export class ReaderWake {
  private waiting?: () => void

  /** Resolves at the next wake(). */
  async wait (): Promise<void> {
    await new Promise<void>(resolve => { this.waiting = resolve })
  }

  wake (): void {
    const waiting = this.waiting
    this.waiting = undefined
    waiting?.()
  }
}

/** What a stream received and its reader has not taken yet, until this side closes the stream. */
export class ReceiveQueue<T> extends ReaderWake {
  private readonly items: T[] = []
  private isClosed = false

  /** Closed by this side: nothing more is queued, and recv() ends. */
  get closed (): boolean { return this.isClosed }
  get length (): number { return this.items.length }

  /** Queues an item and wakes the reader. */
  push (item: T): void {
    this.items.push(item)
    this.wake()
  }

  shift (): T | undefined { return this.items.shift() }

  /** Drops what is queued and wakes the reader; false when it was closed already. */
  close (): boolean {
    if (this.isClosed) return false
    this.isClosed = true
    this.items.length = 0
    this.wake()
    return true
  }
}
