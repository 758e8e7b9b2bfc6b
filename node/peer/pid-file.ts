import { readFile, rm, writeFile, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'

/**
 * peer.fileSystemPath/peer.pid, as Fabric writes it. A pid file naming a live process means a
 * peer already runs on this data directory: refuse rather than fight over the database.
 */
export async function writePidFile (file: string): Promise<() => Promise<void>> {
  try {
    const other = Number((await readFile(file, 'utf8')).trim())
    if (Number.isInteger(other) && other > 0 && other !== process.pid && alive(other)) {
      throw new Error(`a peer (pid ${other}) is already running with this data directory (${file})`)
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, `${process.pid}\n`)
  return async () => { await rm(file, { force: true }) }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
