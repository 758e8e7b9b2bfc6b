import type { CoreConfig } from '../../src/config/schema.ts'
import { jsonLogLine } from '../../src/util/log-format.ts'
import { parseLogSpec } from '../../src/util/log-spec.ts'
import { createLogger, setLogLevels, setLogSink } from '../../src/util/logger.ts'
import { systemScheduler } from '../../src/util/scheduler.ts'

const log = createLogger('logging')

/**
 * Fabric's LoggingInit for one `weft` command: the spec is --logging-level, else
 * CORE_LOGGING_LEVEL / logging.level, else logging.<command>; logging.format picks the lines.
 */
export function initLogging (logging: CoreConfig['logging'], command: 'node' | 'network' | 'chaincode' | 'version', flag?: string): void {
  const spec = flag !== undefined && flag !== '' ? flag : logging.level !== '' ? logging.level : logging[command]
  const { defaultLevel, modules, ignored } = parseLogSpec(spec)
  setLogLevels(defaultLevel, modules)
  if (logging.format === 'json') {
    setLogSink((level, module, msg, args) => {
      const line = jsonLogLine(systemScheduler.now(), level, module, msg, args)
      if (level === 'error' || level === 'warn') console.error(line)
      else console.log(line)
    })
  }
  for (const why of ignored) log.warn(why)
}
