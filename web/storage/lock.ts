import { StorageError } from '../../src/storage/kv.ts'

/**
 * Holds a Web Lock on store `name` until the returned function is called: two tabs writing one
 * log would each miss the other's writes.
 */
export async function lockDatabase (name: string, location: string): Promise<() => void> {
  const release = await new Promise<(() => void) | undefined>((resolve, reject) => {
    navigator.locks.request(`weft-idb:${name}`, { ifAvailable: true }, lock => {
      if (lock === null) { resolve(undefined); return }
      return new Promise<void>(done => { resolve(done) })
    }).catch(reject)
  })
  if (release === undefined) throw new StorageError('LOCKED', `database ${location} is open in another tab of this site: close it there first`)
  return release
}
