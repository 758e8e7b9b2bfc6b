// A member's TCerts, each used once. Fabric takes its unused TCerts out of its keystore at start
// and puts back what is left when the client stops, so a crash loses them all. Here the batch
// is written once, when the TCA sends it, and a count of the TCerts taken from it is written
// before any is handed out; the count runs ahead by a tenth of the batch, so a restart, even
// after a crash, skips at most that many unused TCerts, and the writes are a tenth of one per
// transaction.
import type { EcPrivateKey } from '../crypto/fabric/ec-key.ts'
import { pemToPrivateKey, privateKeyToPem } from '../crypto/fabric/keys.ts'
import { certDerToPem, pemToCertDer } from '../crypto/fabric/pem.ts'
import { errorMessage } from '../util/errors.ts'
import { createLogger } from '../util/logger.ts'

const log = createLogger('crypto')

/** A TCert with its derived private key. */
export interface TCertKey { cert: Uint8Array, key: EcPrivateKey }

/** The member's files the pool is kept in (its keystore's ks/raw). */
export interface TCertFiles {
  read (alias: string): Promise<string | undefined>
  write (alias: string, text: string): Promise<void>
}

const FILES = {
  // The name is from when it held only the unused TCerts: such a file, with no count beside it, reads as nothing taken.
  batch: 'tcerts.unused',
  taken: 'tcerts.taken'
} as const

const AHEAD_PARTS = 10

export class TCertPool {
  private batch?: TCertKey[]
  private next = 0
  /** TCerts before this one are counted as taken in the files. */
  private counted = 0
  /** One taker at a time: the pool and its files change together. */
  private taking: Promise<unknown> = Promise.resolve()

  constructor (private readonly files: TCertFiles, private readonly fetch: () => Promise<TCertKey[]>) {}

  async take (): Promise<TCertKey> {
    const next = this.taking.then(async () => await this.takeOne())
    this.taking = next.catch(() => {})
    return await next
  }

  private async takeOne (): Promise<TCertKey> {
    let batch = this.batch ?? await this.load()
    if (this.next === batch.length) {
      batch = await this.fetch()
      if (batch.length === 0) throw new Error('the TCA sent no transaction certificates')
      // Nothing of the new batch is handed out before its count is written: a crash in between
      // leaves the old count, which can only skip some of the new TCerts.
      await this.files.write(FILES.batch, tcertsToText(batch))
      this.batch = batch
      this.next = this.counted = 0
    }
    if (this.next === this.counted) {
      const counted = Math.min(batch.length, this.next + Math.max(1, Math.floor(batch.length / AHEAD_PARTS)))
      await this.files.write(FILES.taken, String(counted))
      this.counted = counted
    }
    return batch[this.next++]
  }

  private async load (): Promise<TCertKey[]> {
    let batch: TCertKey[] = []
    const text = await this.files.read(FILES.batch)
    if (text !== undefined) {
      try {
        batch = textToTCerts(text)
      } catch (err) {
        // Only a batch cut short as it was written, none of it handed out yet, or a damaged file: either way none is safe to use.
        log.warn(`${FILES.batch} cannot be read, asking the TCA for a new batch: ${errorMessage(err)}`)
      }
    }
    const taken = await this.files.read(FILES.taken)
    const n = taken === undefined ? 0 : /^\d+$/.test(taken) ? Number(taken) : batch.length
    this.batch = batch
    this.next = this.counted = Math.min(n, batch.length)
    return batch
  }
}

/** Each TCert (CERTIFICATE) followed by its key (ECDSA PRIVATE KEY), in PEM. */
function tcertsToText (tcerts: readonly TCertKey[]): string {
  return tcerts.map(t => certDerToPem(t.cert) + privateKeyToPem(t.key)).join('')
}

function textToTCerts (text: string): TCertKey[] {
  const blocks = [...text.matchAll(/-----BEGIN [^\n-]*-----[\s\S]*?-----END [^\n-]*-----\n?/g)].map(m => m[0])
  if (blocks.length % 2 !== 0) throw new Error(`${blocks.length} PEM blocks, not certificate and key pairs`)
  const tcerts: TCertKey[] = []
  for (let i = 0; i < blocks.length; i += 2) tcerts.push({ cert: pemToCertDer(blocks[i]), key: pemToPrivateKey(blocks[i + 1]) })
  return tcerts
}
