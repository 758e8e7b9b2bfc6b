// `weft network up` as a user runs it, in a directory of its own: the process and the directory
// both go after each test.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { Proc } from './processes.ts'

/** Registers the cleanup; the function it returns starts `weft network up ARGS --dir <a fresh directory>`. */
export function networkUpPerTest (): (args: string[]) => Promise<{ up: Proc, dir: string }> {
  let up: Proc | undefined
  let dir: string | undefined
  afterEach(async () => {
    await up?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
    up = dir = undefined
  })
  return async args => {
    dir = await mkdtemp(join(tmpdir(), 'weft-network-'))
    up = Proc.weft(['network', 'up', ...args, '--dir', dir])
    return { up, dir }
  }
}
