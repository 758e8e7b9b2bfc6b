// The lazily loaded part of the page: the demo network, its controller and its view.
import type { Scheduler } from '../../src/util/scheduler.ts'
import type { WeftDemoApi } from '../app/weft-api.ts'
import { mountDemoView } from '../ui/demo-view.ts'
import { DemoController } from './controller.ts'

export interface Demo { controller: DemoController, api: WeftDemoApi, mount (root: HTMLElement): void }

export function createDemo (scheduler?: Scheduler): Demo {
  const c = new DemoController(scheduler)
  let mounted = false
  return {
    controller: c,
    mount (root) {
      if (mounted) return
      mounted = true
      mountDemoView(root, c)
    },
    api: {
      start: opts => c.start(opts),
      stop: () => c.stop(),
      status: () => c.status(),
      submit: (count, via) => c.submit(count, via),
      waitCommitted: (txids, timeoutMs) => c.waitCommitted(txids, timeoutMs),
      crash: i => c.crash(i),
      restart: i => c.restart(i),
      partition: i => c.partition(i),
      heal: i => c.heal(i),
      byzantine: (i, on) => c.byzantine(i, on),
      load: rate => c.load(rate),
      bench: seconds => c.bench(seconds)
    }
  }
}
