/** Fabric's page size for RANGE_QUERY_STATE and RANGE_QUERY_STATE_NEXT answers. */
export const maxRangeQueryStateLimit = 100

/**
 * A range scan held open between RANGE_QUERY_STATE, _NEXT and _CLOSE. Like Fabric's iterator it
 * stays positioned on the first key not yet sent, so hasMore is exact.
 */
export class RangeCursor {
  private peeked?: [string, Uint8Array]
  private done = false
  private readonly it: AsyncIterator<[string, Uint8Array]>

  constructor (source: AsyncIterable<[string, Uint8Array]>) {
    this.it = source[Symbol.asyncIterator]()
  }

  async page (limit = maxRangeQueryStateLimit): Promise<{ kvs: Array<[string, Uint8Array]>, hasMore: boolean }> {
    const kvs: Array<[string, Uint8Array]> = []
    let current = this.peeked ?? await this.advance()
    while (current !== undefined && kvs.length < limit) {
      kvs.push(current)
      current = await this.advance()
    }
    this.peeked = current
    return { kvs, hasMore: current !== undefined }
  }

  async close (): Promise<void> {
    if (this.done) return
    this.done = true
    this.peeked = undefined
    await this.it.return?.()
  }

  private async advance (): Promise<[string, Uint8Array] | undefined> {
    if (this.done) return undefined
    const r = await this.it.next()
    if (r.done === true) { this.done = true; return undefined }
    return r.value
  }
}
