import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { ValidatorEntry } from '../../src/consensus/validators.ts'
import type { PeerIdentity } from '../../src/peer-platform.ts'
import { keySigner } from '../../src/peer/security.ts'
import { viewChangeSigning } from './network-file.ts'

/** The peer's libp2p identity (Ed25519), kept in the data directory so the peer id survives restarts. */
export async function loadOrCreateIdentity (file: string): Promise<PrivateKey> {
  try {
    return privateKeyFromProtobuf(await readFile(file))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read peer identity ${file}: ${(err as Error).message}`)
  }
  const key = await generateKeyPair('Ed25519')
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, privateKeyToProtobuf(key), { mode: 0o600 })
  return key
}

/** What the peer proves itself with: with security on, `key` signs its messages and, against the network file, its view changes. */
export function nodeIdentity (key: PrivateKey, network: ValidatorEntry[] | undefined, securityEnabled: boolean): PeerIdentity {
  return {
    signer: securityEnabled ? keySigner(key) : undefined,
    consensusSecurity: securityEnabled && network !== undefined ? viewChangeSigning(key, network) : undefined,
    validators: network
  }
}
