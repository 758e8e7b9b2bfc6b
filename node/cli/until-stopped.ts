/** Waits until `running` has stopped, stopping it on the first SIGINT or SIGTERM (announced on stdout, as Fabric's peer does). */
export async function untilStopped (running: { stop: () => Promise<void>, stopped: Promise<void> }): Promise<void> {
  const onSignal = (sig: NodeJS.Signals): void => {
    console.log(`\n${sig}`)
    void running.stop()
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  await running.stopped
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
}
