// Modules made by the build (node/web/vite-plugins.ts).
declare module 'virtual:weft-examples' {
  /** Example chaincodes (examples/chaincode/*.ts) bundled into self-contained ES module source, by file name. */
  export const exampleSources: Record<string, string>
  /** The same examples' TypeScript as written (what the console shows). */
  export const exampleOriginals: Record<string, string>
}
