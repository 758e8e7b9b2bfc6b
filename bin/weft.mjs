#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=8
// Entry point of the `weft` command: the CLI compiled to JavaScript (dist/cli-*/cli.mjs), rebuilt
// first when any source is newer (bin/build-cli.mjs; about a second).
import { ensureCliBuilt } from './build-cli.mjs'

const { main } = await import(await ensureCliBuilt())
process.exitCode = await main(process.argv)
