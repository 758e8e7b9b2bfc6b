import { readFile, rm, writeFile, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'

/**
 * peer.fileSystemPath/peer.pid, as Fabric writes it. A pid file naming a live process means a
 * peer already runs on this data directory: refuse rather than fight over the database.
 */
export async function writePidFile (file: string): Promise<() => Promise<void>> {
  const other = await runningPid(file)
  if (other !== undefined && other !== process.pid) throw new Error(`a peer (pid ${other}) is already running with this data directory (${file})`)
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, `${process.pid}\n`)
  return async () => { await rm(file, { force: true }) }
}

/** The process a pid file names, while it runs. */
export async function runningPid (file: string): Promise<number | undefined> {
  let pid: number
  try {
    pid = Number((await readFile(file, 'utf8')).trim())
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined
}

export function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
