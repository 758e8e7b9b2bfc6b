// Runs the `weft` CLI in this process (node/cli/main.ts) with the environment a test gives it,
// capturing exit code, stdout and stderr.
import { vi } from 'vitest'
import { main } from '../../node/cli/main.ts'

export interface Run { code: number, out: string, err: string }

/** `weft ARGS` in this process with CORE_PEER_ADDRESS=address (and `env`): exit code, stdout, stderr. */
export async function weftWith (env: Record<string, string>, address: string, ...args: string[]): Promise<Run> {
  const out: string[] = []
  const err: string[] = []
  const text = (chunk: string | Uint8Array): string => typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1')
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { out.push(text(chunk)); return true })
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { err.push(text(chunk)); return true })
  for (const [k, v] of Object.entries({ ...env, CORE_PEER_ADDRESS: address })) vi.stubEnv(k, v)
  process.exitCode = undefined
  try {
    const code = await main(['node', 'weft', ...args])
    return { code, out: out.join(''), err: err.join('') }
  } finally {
    process.exitCode = undefined
    vi.unstubAllEnvs()
    stdout.mockRestore()
    stderr.mockRestore()
  }
}

