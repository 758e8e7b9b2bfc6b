// What bin/weft.mjs runs, compiled into dist/node/cli.mjs: the Node 20 shims first, then the CLI.
import '../polyfill.ts'
export { main } from './main.ts'
