// Child processes for the tests (and benchmarks) that run the CLI, a peer or a script in a
// process of its own: output kept as it comes, exit awaited, and a stop that sends SIGTERM and
// then SIGKILL. Whatever a test leaves running is killed when its worker exits.
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor, type WaitOptions } from './wait.ts'

/** The repository: where `bin/weft.mjs` and ./core.yaml are. */
export const root = fileURLToPath(new URL('../..', import.meta.url))

export interface Exit { code: number | null, signal: NodeJS.Signals | null }

export interface StartOptions {
  /** Added to this process's environment (undefined removes a variable). */
  env?: Record<string, string | undefined>
  /** Default: the repository. */
  cwd?: string
  /** Named in errors; default the command line. */
  label?: string
}

const running = new Set<Proc>()
process.once('exit', () => { for (const p of running) p.child.kill('SIGKILL') })

/** One child process, its stdout and stderr captured. */
export class Proc {
  readonly exited: Promise<Exit>
  private out = ''
  private errOut = ''
  private both = ''

  private constructor (readonly child: ChildProcess, readonly label: string) {
    running.add(this)
    child.stdout!.on('data', (d: Buffer) => { const s = d.toString(); this.out += s; this.both += s })
    child.stderr!.on('data', (d: Buffer) => { const s = d.toString(); this.errOut += s; this.both += s })
    this.exited = new Promise(resolve => {
      child.once('error', err => { this.both += `\n${label}: ${err.message}\n`; running.delete(this); resolve({ code: null, signal: null }) })
      child.once('exit', (code, signal) => { running.delete(this); resolve({ code, signal }) })
    })
  }

  static start (command: string, args: string[], options: StartOptions = {}): Proc {
    const child = spawn(command, args, { cwd: options.cwd ?? root, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    return new Proc(child, options.label ?? [command, ...args].join(' '))
  }

  /** `node ARGS` with this Node. */
  static node (args: string[], options: StartOptions = {}): Proc {
    return Proc.start(process.execPath, args, { label: `node ${args.join(' ')}`, ...options })
  }

  /** `weft ARGS` (bin/weft.mjs), `nodeArgs` for Node itself (e.g. --cpu-prof). */
  static weft (args: string[], options: StartOptions = {}, nodeArgs: string[] = []): Proc {
    return Proc.start(process.execPath, [...nodeArgs, join(root, 'bin/weft.mjs'), ...args], { label: `weft ${args.join(' ')}`, ...options })
  }

  get pid (): number | undefined { return this.child.pid }
  get alive (): boolean { return this.child.exitCode === null && this.child.signalCode === null }
  get stdout (): string { return this.out }
  get stderr (): string { return this.errOut }
  /** stdout and stderr as they came. */
  get output (): string { return this.both }

  /** Waits for `pattern` in the output; fails at once, with the output, if the process ends first. */
  async waitForOutput (what: string, pattern: RegExp, options: WaitOptions = {}): Promise<void> {
    const seen = (): boolean => pattern.test(this.both)
    await unlessEnded([this], what, waitFor(what, seen, { context: () => this.both.slice(-3000), ...options }), seen)
  }

  /** Sends `signal` and waits for the exit. */
  async signal (signal: NodeJS.Signals): Promise<Exit> {
    if (this.alive) this.child.kill(signal)
    return await this.exited
  }

  /** SIGTERM, then SIGKILL if the process has not ended within `graceMs`. */
  async stop (graceMs = 5000): Promise<Exit> {
    if (!this.alive) return await this.exited
    this.child.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<void>(resolve => { timer = setTimeout(resolve, graceMs) })
    const exit = await Promise.race([this.exited, late.then(async () => await this.signal('SIGKILL'))])
    clearTimeout(timer)
    return exit
  }
}

/**
 * `waiting`, unless one of `procs` ends first, and not as `expected`: that fails at once, with
 * the process's output, instead of at the timeout.
 */
export async function unlessEnded<T> (procs: Proc[], what: string, waiting: Promise<T>, expected: (p: Proc) => boolean = () => false): Promise<T> {
  let settled = false
  const ended = new Promise<never>((_resolve, reject) => {
    for (const p of procs) {
      void p.exited.then(exit => {
        if (!settled && !expected(p)) reject(new Error(`${p.label} ended (${describeExit(exit)}) while waiting for ${what}:\n${p.output.slice(-3000)}`))
      })
    }
  })
  ended.catch(() => {})
  try {
    return await Promise.race([waiting, ended])
  } finally {
    settled = true
  }
}

export function describeExit (exit: Exit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code}`
}

export interface Finished extends Exit { stdout: string, stderr: string, output: string }

/** Waits for `p` to end; past `timeoutMs` (if given) it is stopped (SIGTERM, then SIGKILL). */
export async function finish (p: Proc, timeoutMs?: number): Promise<Finished> {
  let timer: NodeJS.Timeout | undefined
  const late = timeoutMs === undefined ? new Promise<never>(() => {}) : new Promise<void>(resolve => { timer = setTimeout(resolve, timeoutMs) })
  const exit = await Promise.race([p.exited, late.then(async () => await p.stop())])
  clearTimeout(timer)
  return { ...exit, stdout: p.stdout, stderr: p.stderr, output: p.output }
}
