// ESM entry: the same module object as `require("clusterphone")`, plus named exports of its
// functions (each forwards, so it always reaches the live module; sendTo/broadcast exist in a
// primary, sendToMaster/sendToWorker in a worker or forked child) and of its handlers object as it
// is at load. Typings: index.d.mts.
import clusterphone from './index.js'

export default clusterphone
export const handlers = clusterphone.handlers
export const ns = (name) => clusterphone.ns(name)
export const sendTo = (...args) => clusterphone.sendTo(...args)
export const sendToMaster = (...args) => clusterphone.sendToMaster(...args)
export const broadcast = (...args) => clusterphone.broadcast(...args)
export const sendToWorker = (...args) => clusterphone.sendToWorker(...args)
export const whenWritable = (...args) => clusterphone.whenWritable(...args)
export const fork = (...args) => clusterphone.fork(...args)
