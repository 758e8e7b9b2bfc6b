// SES lockdown for a chaincode worker (worker_threads or Web Worker), imported before anything else so that every intrinsic
// is frozen before any other module runs. Error stacks stay readable for the peer's logs, and
// an uncaught error or rejection still ends the thread (the peer restarts the chaincode).
import 'ses'

lockdown({
  errorTaming: 'unsafe',
  consoleTaming: 'unsafe',
  overrideTaming: 'severe',
  stackFiltering: 'verbose',
  errorTrapping: 'none',
  unhandledRejectionTrapping: 'none'
})
