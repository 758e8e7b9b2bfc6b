import { afterEach, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../../src/config/index.ts'
import { jsonLogLine } from '../../src/util/log-format.ts'
import { parseLogSpec } from '../../src/util/log-spec.ts'
import { createLogger, setLogLevel, setLogLevels } from '../../src/util/logger.ts'
import { initLogging } from '../../node/cli/logging.ts'
import { captureLogs, type CapturedLogs } from '../helpers/logs.ts'

let logs: CapturedLogs | undefined
afterEach(() => {
  // Also undoes the JSON sink initLogging installs.
  (logs ?? captureLogs()).restore()
  logs = undefined
  setLogLevel('info')
  vi.restoreAllMocks()
})

/** Which of the four levels a logger of this name prints. */
function printed (name: string): string[] {
  logs ??= captureLogs()
  logs.lines.length = 0
  const l = createLogger(name)
  l.debug('d'); l.info('i'); l.warn('w'); l.error('e')
  return logs.lines.filter(x => x.name === name).map(x => x.level)
}

describe('Fabric logging spec', () => {
  it('reads a default level and module overrides, go-logging names in any case', () => {
    expect(parseLogSpec('warning:consensus/pbft,peer=DEBUG:rest=Critical')).toEqual({
      defaultLevel: 'warn', modules: { 'consensus/pbft': 'debug', peer: 'debug', rest: 'error' }, ignored: []
    })
    expect(parseLogSpec('NOTICE')).toEqual({ defaultLevel: 'info', modules: {}, ignored: [] })
    expect(parseLogSpec('')).toEqual({ defaultLevel: 'info', modules: {}, ignored: [] })
    // The last default wins, as Fabric's loop leaves it.
    expect(parseLogSpec('debug:error').defaultLevel).toBe('error')
  })

  it('skips what Fabric skips: a bad default falls back to INFO, bad overrides are dropped', () => {
    const s = parseLogSpec('loud:peer=noisy:=debug:a=b=c:rest=debug')
    expect(s.defaultLevel).toBe('info')
    expect(s.modules).toEqual({ rest: 'debug' })
    expect(s.ignored).toHaveLength(4)
  })
})

describe('per-module levels', () => {
  it('a module covers the loggers below it; the most specific name wins', () => {
    setLogLevels('warn', { consensus: 'debug', 'consensus/pbft': 'error', rest: 'silent' })
    expect(printed('peer')).toEqual(['warn', 'error'])
    expect(printed('consensus/engine')).toEqual(['debug', 'info', 'warn', 'error'])
    expect(printed('consensus/pbft')).toEqual(['error'])
    expect(printed('rest')).toEqual([])
    expect(printed('restless')).toEqual(['warn', 'error'])
    setLogLevel('debug')
    expect(printed('consensus/pbft')).toEqual(['debug', 'info', 'warn', 'error'])
  })
})

describe('JSON log lines', () => {
  it('hold time, level, module and the message with its arguments', () => {
    const line = jsonLogLine(Date.UTC(2026, 0, 2, 3, 4, 5, 6), 'warn', 'consensus/pbft', 'view change', [new Error('timer expired'), 3n, { view: 2 }, 'x"y'])
    expect(line).not.toContain('\n')
    expect(JSON.parse(line)).toEqual({ time: '2026-01-02T03:04:05.006Z', level: 'warn', module: 'consensus/pbft', msg: 'view change timer expired 3 {"view":2} x"y' })
  })
})

describe('logging config', () => {
  it('logging.format is text or json, from core.yaml or CORE_LOGGING_FORMAT', () => {
    expect(loadConfig({}).logging.format).toBe('text')
    expect(loadConfig({ yaml: 'logging:\n  format: JSON\n' }).logging.format).toBe('json')
    expect(loadConfig({ env: { CORE_LOGGING_FORMAT: 'json' } }).logging.format).toBe('json')
    expect(() => loadConfig({ env: { CORE_LOGGING_FORMAT: 'xml' } })).toThrow(/logging\.format/)
  })

  it('node start: --logging-level over CORE_LOGGING_LEVEL over logging.node; json lines on the console', () => {
    const out = vi.spyOn(console, 'log').mockImplementation(() => {})
    const err = vi.spyOn(console, 'error').mockImplementation(() => {})
    const log = createLogger('peer')
    initLogging(loadConfig({ yaml: 'logging:\n  node: warning\n  format: json\n' }).logging, 'node')
    log.info('hidden')
    log.warn('shown')
    expect(out).not.toHaveBeenCalled()
    expect(err).toHaveBeenCalledTimes(1)
    expect(JSON.parse(err.mock.calls[0][0] as string)).toMatchObject({ level: 'warn', module: 'peer', msg: 'shown' })

    initLogging(loadConfig({ yaml: 'logging:\n  node: warning\n  format: json\n', env: { CORE_LOGGING_LEVEL: 'error:peer=debug' } }).logging, 'node')
    log.debug('now shown')
    expect(JSON.parse(out.mock.calls[0][0] as string)).toMatchObject({ level: 'debug', module: 'peer', msg: 'now shown' })

    initLogging(loadConfig({ env: { CORE_LOGGING_LEVEL: 'debug', CORE_LOGGING_FORMAT: 'json' } }).logging, 'node', 'error')
    log.warn('hidden again')
    expect(err).toHaveBeenCalledTimes(1)
  })
})
