// ESM entry: the same module object as `require("clusterphone")`.
import clusterphone from './index.js'

export default clusterphone
export const ns = (name) => clusterphone.ns(name)
