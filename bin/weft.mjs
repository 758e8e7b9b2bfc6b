#!/usr/bin/env node
// Entry point of the `weft` command: load TypeScript through tsx, apply the Node 20 shims, run the CLI.
import { register } from 'tsx/esm/api'

register()
await import('../node/polyfill.ts')
const { main } = await import('../node/cli/main.ts')
process.exitCode = await main(process.argv)
