import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

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
