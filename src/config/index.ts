export { ConfigError, configKeys, envName, loadConfig, type LoadConfigOptions } from './load.ts'
export { withOverrides, type ConfigOverrides } from './overrides.ts'
export { coreSchema, type CoreConfig } from './schema.ts'
export { parseGoDuration } from './duration.ts'
