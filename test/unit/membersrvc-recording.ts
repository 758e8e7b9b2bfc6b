// Recordings of Weft's CaClient against Fabric 0.6.1's membersrvc (the real binary, on loopback,
// its own users table): every request sent, every answer, and the random bytes and clock readings
// the client used, so a test can replay the client and require byte-identical requests.
import { readFileSync } from 'node:fs'
import { expect } from 'vitest'
import { fromHex } from '../../src/crypto/bytes.ts'
import { CaClient } from '../../src/crypto/fabric/ca-client.ts'
import type { CaRpc } from '../../src/crypto/fabric/ca-rpc.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'

export interface Exchange { service: string, method: string, request: string, response?: string, error?: string }

export interface Recording {
  level: number
  hashAlgorithm: string
  /** The TCA's tca.hmac and root_pk.hmac keys of that run, where kept. */
  tcaHmacKey?: string
  tcaRootPreKey?: string
  steps: Array<{ step: string, user: string, secret?: string, role?: number, ecertCN?: string, error?: string }>
  random: string[]
  now: number[]
  exchanges: Exchange[]
}

export const recordings = ['256-SHA3', '384-SHA3', '384-SHA2']

export function loadRecording (name: string): Recording {
  return JSON.parse(readFileSync(new URL(`../vectors/security/membersrvc-exchange-${name}.json`, import.meta.url), 'utf8'))
}

/** A CaClient over `rpc` that draws the recorded random bytes and clock readings; `done` checks all were used. */
export function replayClient (rec: Recording, rpc: CaRpc): { client: CaClient, done: () => void } {
  const random = [...rec.random]
  const now = [...rec.now]
  const client = new CaClient({
    suite: cryptoSuite(rec.hashAlgorithm, rec.level),
    rpc,
    now: () => now.shift()!,
    random: (n) => {
      const b = fromHex(random.shift()!)
      expect(b.length).toBe(n)
      return b
    }
  })
  return { client, done: () => { expect([random.length, now.length]).toEqual([0, 0]) } }
}
