// The tests' free ports are the CLI's (weft network up picks them too).
export { freePorts } from '../node/net/free-ports.ts'
