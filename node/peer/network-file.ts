import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import type { SecurityUtils } from '../../src/consensus/interfaces.ts'
import { ed25519Security } from '../../src/consensus/signing.ts'
import type { ValidatorEntry } from '../../src/consensus/validators.ts'

/**
 * Reads peer.validator.network: the validating network as a YAML (or JSON) file
 * `validators: [{ name: vp0, peerId: 12D3…, address: /ip4/…/ws/p2p/12D3… }, …]`.
 * PBFT numbers replicas by the names; CONSENSUS messages are accepted only from the listed peer ids.
 */
export async function readNetworkFile (file: string): Promise<ValidatorEntry[]> {
  let doc: unknown
  try {
    doc = parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw new Error(`peer.validator.network: cannot read ${file}: ${(err as Error).message}`)
  }
  const list = (doc as { validators?: unknown } | null)?.validators
  if (!Array.isArray(list) || list.length === 0) throw new Error(`peer.validator.network: ${file} has no "validators" list`)
  return list.map((v, i) => {
    const e = v as Record<string, unknown>
    if (typeof e?.name !== 'string' || e.name === '') throw new Error(`peer.validator.network: validator ${i} in ${file} has no name`)
    for (const k of ['peerId', 'address'] as const) {
      if (e[k] !== undefined && typeof e[k] !== 'string') throw new Error(`peer.validator.network: ${k} of ${e.name} in ${file} must be a string`)
    }
    return { name: e.name, peerId: e.peerId as string | undefined, address: e.address as string | undefined }
  })
}

/** View-change signatures with this peer's key, checked against the keys the listed peer ids carry. */
export function viewChangeSigning (key: PrivateKey, network: ValidatorEntry[]): SecurityUtils {
  if (key.type !== 'Ed25519') throw new Error(`security.enabled with PBFT needs an Ed25519 peer key, not ${key.type}`)
  const keys = new Map<string, Uint8Array>()
  for (const v of network) {
    if (v.peerId === undefined) continue
    const pub = peerIdFromString(v.peerId).publicKey
    if (pub?.type !== 'Ed25519') throw new Error(`peer.validator.network: ${v.name}'s peer id ${v.peerId} does not carry an Ed25519 key`)
    keys.set(v.name, pub.raw)
  }
  return ed25519Security(key.raw.subarray(0, 32), name => keys.get(name))
}
