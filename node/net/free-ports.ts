import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'

/** Ports the OS says are free right now, for addresses that must be known before anything listens (a test's, a local network's). */
export async function freePorts (n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, async () => {
    const s = createServer()
    await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
    return s
  }))
  const ports = servers.map(s => (s.address() as AddressInfo).port)
  await Promise.all(servers.map(async s => await new Promise(resolve => s.close(resolve))))
  return ports
}

/** Fails naming the first of `ports` something on 127.0.0.1 already listens on. */
export async function checkPortsFree (ports: number[]): Promise<void> {
  for (const port of ports) {
    const s = createServer()
    await new Promise<void>((resolve, reject) => {
      s.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`port ${port} on 127.0.0.1 is taken (${err.code ?? err.message})`)))
      s.listen(port, '127.0.0.1', resolve)
    })
    await new Promise(resolve => s.close(resolve))
  }
}
