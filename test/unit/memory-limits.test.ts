// The ways a user launches `weft` pass the node flags its heap is sized with and the allocator's
// environment (both only take effect at launch): bin/weft.mjs's first line and `npm start`.
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { WEFT_NODE_ENV, WEFT_NODE_FLAGS } from '../../node/peer/memory-limits.ts'

const root = new URL('../../', import.meta.url)
const assignments = Object.entries(WEFT_NODE_ENV).map(([k, v]) => `${k}=${v}`).join(' ')

describe('the node flags and environment weft runs with', () => {
  it('bin/weft.mjs runs node with them', async () => {
    const first = (await readFile(new URL('bin/weft.mjs', root), 'utf8')).split('\n')[0]
    expect(first).toBe(`#!/usr/bin/env -S ${assignments} node ${WEFT_NODE_FLAGS.join(' ')}`)
  })

  it('npm start runs the peer with them', async () => {
    const { scripts } = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }
    expect(scripts.start).toBe(`${assignments} node ${WEFT_NODE_FLAGS.join(' ')} bin/weft.mjs node start`)
  })
})
