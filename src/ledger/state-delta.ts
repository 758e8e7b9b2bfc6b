import { BinaryReader } from '@bufbuild/protobuf/wire'
import { fromUtf8, utf8, utf8Length, writeUtf8 } from '../crypto/bytes.ts'
import { varintSize, writeVarint } from '../util/varint.ts'
import { compareStrings, sortedStrings } from './keys.ts'

/** A key's new value (null = deleted) and its committed value before the change (null = absent). */
export interface UpdatedValue {
  value: Uint8Array | null
  previousValue: Uint8Array | null
}

export interface DeltaEntry extends UpdatedValue {
  chaincodeID: string
  key: string
}

/**
 * The changes of a transaction, a block or a state-transfer step, per chaincode and key
 * (Fabric's statemgmt.StateDelta). Its binary form is Fabric's own, not protobuf.
 */
export class StateDelta {
  readonly chaincodes = new Map<string, Map<string, UpdatedValue>>()
  /** Set when the delta is meant to undo a block (state transfer backwards). */
  rollBackwards = false

  get (chaincodeID: string, key: string): UpdatedValue | undefined {
    return this.chaincodes.get(chaincodeID)?.get(key)
  }

  has (chaincodeID: string, key: string): boolean {
    return this.chaincodes.get(chaincodeID)?.has(key) ?? false
  }

  /** Records a write; a key written before in this delta keeps its first previous value. */
  set (chaincodeID: string, key: string, value: Uint8Array | null, previousValue: Uint8Array | null): void {
    let kvs = this.chaincodes.get(chaincodeID)
    if (kvs === undefined) {
      kvs = new Map()
      this.chaincodes.set(chaincodeID, kvs)
    }
    const existing = kvs.get(key)
    if (existing !== undefined) existing.value = value
    else kvs.set(key, { value, previousValue })
  }

  delete (chaincodeID: string, key: string, previousValue: Uint8Array | null): void {
    this.set(chaincodeID, key, null, previousValue)
  }

  /** Merges a later delta into this one (a finished transaction into its block). */
  applyChanges (later: StateDelta): void {
    for (const [cc, kvs] of later.chaincodes) {
      for (const [key, u] of kvs) {
        const previous = this.get(cc, key)?.previousValue ?? u.previousValue
        this.set(cc, key, u.value, previous)
      }
    }
  }

  isEmpty (): boolean { return this.chaincodes.size === 0 }

  chaincodeIDs (): string[] { return sortedStrings(this.chaincodes.keys()) }

  /** Entries with chaincodes and keys in byte order. */
  entries (): DeltaEntry[] {
    const out: DeltaEntry[] = []
    for (const cc of this.chaincodeIDs()) {
      const kvs = this.chaincodes.get(cc)!
      for (const key of sortedStrings(kvs.keys())) out.push({ chaincodeID: cc, key, ...kvs.get(key)! })
    }
    return out
  }

  /** Keys of one chaincode in [start, end] (end '' = no limit), not deleted, in byte order. */
  rangeKeys (chaincodeID: string, startKey: string, endKey: string): string[] {
    const kvs = this.chaincodes.get(chaincodeID)
    if (kvs === undefined) return []
    const keys: string[] = []
    for (const [k, u] of kvs) {
      if (u.value === null) continue
      if (compareStrings(k, startKey) < 0) continue
      if (endKey !== '' && compareStrings(k, endKey) > 0) continue
      keys.push(k)
    }
    return keys.sort(compareStrings)
  }

  /** The delta that undoes this one: values and previous values swapped. */
  inverse (): StateDelta {
    const out = new StateDelta()
    for (const [cc, kvs] of this.chaincodes) {
      for (const [key, u] of kvs) out.set(cc, key, u.previousValue, u.value)
    }
    out.rollBackwards = !this.rollBackwards
    return out
  }

  /**
   * Fabric's marshaling, chaincodes and keys sorted so that equal deltas give equal bytes:
   * varint counts and lengths, a 0/1 marker before each value. Sized first and written in one
   * buffer (a block's delta is a thousand keys).
   */
  marshal (): Uint8Array {
    const ccs = this.chaincodeIDs()
    const sorted: string[][] = []
    let size = varintSize(ccs.length)
    for (const cc of ccs) {
      const kvs = this.chaincodes.get(cc)!
      const keys = sortedStrings(kvs.keys())
      sorted.push(keys)
      size += stringSize(cc) + varintSize(keys.length)
      for (const key of keys) {
        const u = kvs.get(key)!
        size += stringSize(key) + markedSize(u.value) + markedSize(u.previousValue)
      }
    }
    const out = new Uint8Array(size)
    let o = writeVarint(out, 0, ccs.length)
    ccs.forEach((cc, i) => {
      const kvs = this.chaincodes.get(cc)!
      o = writeString(out, o, cc)
      o = writeVarint(out, o, sorted[i].length)
      for (const key of sorted[i]) {
        const u = kvs.get(key)!
        o = writeString(out, o, key)
        o = writeMarked(out, o, u.value)
        o = writeMarked(out, o, u.previousValue)
      }
    })
    return out
  }

  /** Decodes Fabric's bytes (any chaincode and key order). Throws on truncated or trailing data. */
  static unmarshal (bytes: Uint8Array): StateDelta {
    const r = new BinaryReader(bytes)
    const delta = new StateDelta()
    try {
      const nChaincodes = r.uint32()
      for (let i = 0; i < nChaincodes; i++) {
        const cc = fromUtf8(r.bytes())
        const nKeys = r.uint32()
        const kvs = new Map<string, UpdatedValue>()
        delta.chaincodes.set(cc, kvs)
        for (let j = 0; j < nKeys; j++) {
          const key = fromUtf8(r.bytes())
          const value = readMarked(r)
          const previousValue = readMarked(r)
          kvs.set(key, { value, previousValue })
        }
      }
    } catch (err) {
      throw new Error(`malformed state delta (${bytes.length} bytes): ${(err as Error).message}`)
    }
    if (r.pos !== bytes.length) throw new Error(`malformed state delta: ${bytes.length - r.pos} trailing bytes`)
    return delta
  }
}

/** Bytes of a string as varint-prefixed UTF-8. */
function stringSize (s: string): number {
  const n = utf8Length(s)
  return varintSize(n) + n
}

function writeString (out: Uint8Array, o: number, s: string): number {
  return writeUtf8(out, writeVarint(out, o, utf8Length(s)), s)
}

function markedSize (value: Uint8Array | null): number {
  return value === null ? 1 : 1 + varintSize(value.length) + value.length
}

function writeMarked (out: Uint8Array, o: number, value: Uint8Array | null): number {
  if (value === null) { out[o] = 0; return o + 1 }
  out[o++] = 1
  o = writeVarint(out, o, value.length)
  out.set(value, o)
  return o + value.length
}

function readMarked (r: BinaryReader): Uint8Array | null {
  const marker = r.uint32()
  if (marker === 0) return null
  if (marker !== 1) throw new Error(`bad value marker ${marker}`)
  return r.bytes().slice()
}
