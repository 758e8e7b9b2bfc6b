// What bin/weft.mjs runs, compiled into dist/cli-*/cli.mjs (bin/build-cli.mjs): the Node 20 shims first, then the CLI.
import '../polyfill.ts'
export { main } from './main.ts'
