// The ESM entry's typings: default import and the named `ns`.
import clusterphone, { ns } from 'clusterphone'

const app: clusterphone.Namespace = ns('esm')
clusterphone.ackTimeout = 1000
app.handlers.ping = () => 'pong'
