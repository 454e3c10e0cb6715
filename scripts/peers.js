#!/usr/bin/env node
'use strict'
// clusterphone 2 beside the libraries people use for requests over Node's cluster channel, each
// driven through its own API the same way, in alternating runs (one primary, one worker):
// - speed (`up`: the worker asks, the primary answers with the payload; `down`: the other way):
//   88 B with 1 and 100 requests outstanding, 1 KB with 100; round trips/s (ratio to plain
//   `cluster`) and CPU per round trip on each side;
// - memory (`memory`): the asking side's heap and RSS per request left pending, 100k the other side
//   never answers, in the worker and in the primary;
// - `death`: the worker killed with 100 of the primary's requests pending: how many settle within
//   3 s of the kill, and when the first and the last did.
//
//   npm install --prefix /tmp/cp-peers birpc@4.2.0 cluster-hub@0.1.2 cluster-messages@1.2.1
//   node scripts/peers.js --from /tmp/cp-peers [--rounds 5] [--ms 600] [--warm 200]
//        [--cases up,down,memory,death | up-88-1,down-1k-100,...] [--libs plain,clusterphone,...]
//
// Libraries: plain (`worker.send`/`process.send` echoed), clusterphone (this build),
// clusterphone-1.0.1, floor (scripts/floor: the primary asks only), birpc, cluster-hub,
// cluster-messages (whose primary asks every worker at once: here, the one). The peers are not
// devDependencies: nothing else needs them. Results: docs/performance.md.

const cluster = require('node:cluster')
const path = require('node:path')
const { pathToFileURL } = require('node:url')
const { small, payloadOf } = require('./payloads')
const { option, median, microseconds } = require('./tools')

/** Our own messages between the two processes; every adapter's listener skips them. */
const CONTROL = '__peers'
const isControl = (message) => message !== null && typeof message === 'object' && message[CONTROL] !== undefined
const TEN_MINUTES = 600000
const PENDING = 100000

/** A package from the `--from` directory (or the project's node_modules). */
function peerPath(name) {
  return require.resolve(name, { paths: [path.resolve(option('from', path.join(__dirname, '..')))] })
}

/**
 * Each library through its own API. `serve(side)` makes `side` answer 'echo' with the payload and
 * never answer 'never'; `requester(side, answered, failed)` returns `request(cmd, payload)`, which
 * calls `answered(reply)` or `failed(err)` once it settles. Those two are made once per run, as
 * a caller's would be, so the heap per request is the library's. A side is { worker } in the
 * primary, {} in the worker.
 */
const adapters = {
  plain: {
    // Replies come back in order on one channel: a queue of callbacks stands in for request ids.
    serve(side) {
      const channel = side.worker ?? process
      channel.on('message', (message) => isControl(message) || channel.send(message))
    },
    requester(side, answered) {
      const channel = side.worker ?? process
      channel.on('message', (message) => isControl(message) || answered(message))
      return (cmd, payload) => channel.send(payload)
    },
  },
  clusterphone: clusterphoneAdapter(() => require(path.join(__dirname, '..'))),
  'clusterphone-1.0.1': clusterphoneAdapter(() => require(path.join(__dirname, '..', 'node_modules', 'clusterphone-v1'))),
  // Not a library: clusterphone's API with only what the SPEC cannot skip (the README's Benchmark),
  // in the primary only, with no deaths.
  floor: { ...clusterphoneAdapter(() => require(path.join(__dirname, 'floor'))), primaryAsksOnly: true },
  birpc: {
    async serve(side) {
      const { createBirpc } = await import(pathToFileURL(peerPath('birpc')).href)
      createBirpc({ echo: (payload) => payload, never: () => new Promise(() => {}) }, birpcChannel(side))
    },
    async requester(side, answered, failed) {
      const { createBirpc } = await import(pathToFileURL(peerPath('birpc')).href)
      const rpc = createBirpc({}, { ...birpcChannel(side), timeout: TEN_MINUTES })
      return (cmd, payload) => rpc[cmd](payload).then(answered, failed)
    },
  },
  'cluster-hub': {
    serve() {
      const hub = new (require(peerPath('cluster-hub')))()
      hub.on('echo', (payload, sender, reply) => reply(null, payload))
      hub.on('never', () => {})
    },
    requester(side, answered, failed) {
      const hub = new (require(peerPath('cluster-hub')))()
      const settled = (err, reply) => (err ? failed(err) : answered(reply))
      return side.worker
        ? (cmd, payload) => hub.requestWorker(side.worker, cmd, payload, settled)
        : (cmd, payload) => hub.requestMaster(cmd, payload, settled)
    },
  },
  'cluster-messages': {
    // The primary's `send` goes to every worker, each reply calling its callback: with one worker,
    // a request. There the callback stays registered until its timeout, answered or not.
    serve() {
      const messages = new (require(peerPath('cluster-messages')))({ callbackTimeout: TEN_MINUTES })
      messages.on('echo', (payload, reply) => reply(payload))
      messages.on('never', () => {})
    },
    requester(side, answered) {
      const messages = new (require(peerPath('cluster-messages')))({ callbackTimeout: TEN_MINUTES })
      return (cmd, payload) => messages.send(cmd, payload, answered)
    },
  },
}

function clusterphoneAdapter(load) {
  // The floor has no `ns()`: its module is its one namespace.
  const namespace = () => (typeof load().ns === 'function' ? load().ns('peers') : load())
  return {
    serve(side) {
      const phone = namespace()
      if (side.worker) {
        phone.handlers.echo = (worker, payload, handle, ack) => ack(payload)
        phone.handlers.never = () => {}
      } else {
        phone.handlers.echo = (payload, handle, ack) => ack(payload)
        phone.handlers.never = () => {}
      }
    },
    requester(side, answered, failed) {
      const phone = namespace()
      return side.worker
        ? (cmd, payload) => phone.sendTo(side.worker, cmd, payload).within(TEN_MINUTES).ackd().then(answered, failed)
        : (cmd, payload) => phone.sendToMaster(cmd, payload).within(TEN_MINUTES).ackd().then(answered, failed)
    },
  }
}

function birpcChannel(side) {
  const channel = side.worker ?? process
  return {
    post: (data) => channel.send(data),
    on: (fn) => channel.on('message', (message) => isControl(message) || fn(message)),
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * One process's part in a run. Case names: `up-88-1` (the worker asks; `down`: the primary asks;
 * 88 B or 1k, outstanding requests), `memory-up`, `memory-down`, `death` (the primary asks).
 * The asking side measures and, in the worker, reports to the primary, which prints one line.
 */
async function runSide(lib, caseName, worker, control) {
  const adapter = adapters[lib]
  const side = worker ? { worker } : {}
  const asks = caseName.includes('up') !== (worker !== undefined)
  if (!asks) {
    await adapter.serve(side)
    // The worker says when it is set up; the primary then says go (a request the other side
    // missed would never come back).
    if (!worker) return control.send('ready')
    await control.next('ready')
    return control.send('go')
  }
  if (caseName === 'death') return deathRun(adapter, side, control)
  const [, size, outstanding] = caseName.split('-')
  const payload = payloadOf(size === '1k' ? 1024 : 0)
  let done = 0
  let failed = 0
  let running = true
  // The first reply, and the first one measured, are checked: an adapter that answers with
  // something else measures nothing.
  let check = true
  const answered = (reply) => {
    if (check) {
      check = false
      if (JSON.stringify(reply) !== JSON.stringify(payload)) failed++
    }
    done++
    if (running) request('echo', payload)
  }
  const fail = () => {
    failed++
    answered(payload)
  }
  const request = await adapter.requester(side, answered, fail)
  if (worker) {
    await control.next('ready')
  } else {
    control.send('ready')
    await control.next('go')
  }
  let result
  if (caseName.startsWith('memory')) {
    running = false // a 'never' request that settles anyway must not start an echo loop
    result = { ...(await pendingMemory(request, control)), failed }
  } else {
    for (let i = 0; i < Number(outstanding); i++) request('echo', payload)
    await sleep(Number(option('warm', '200')))
    control.send('mark')
    check = true
    const count0 = done
    const cpu0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    await sleep(Number(option('ms', '600')))
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    const askingUs = microseconds(process.cpuUsage(cpu0))
    const roundTrips = done - count0
    running = false
    control.send('end')
    const answeringUs = await control.next('cpu')
    result = { roundTrips, seconds, askingUs, answeringUs, failed }
  }
  if (worker) finish(result, worker)
  else control.send({ result })
}

/**
 * Our control messages over `channel`: `send(value)` (a string, or `{ key: value }`), and
 * `next(key)` for the value of the first one with that key not taken yet. 'mark' and 'end' are
 * answered here: `{ cpu }`, what this process spent between them.
 */
function controlOf(channel) {
  const waiting = new Map()
  const arrived = new Map()
  let cpu0 = null
  channel.on('message', (message) => {
    if (!isControl(message)) return
    const value = message[CONTROL]
    if (value === 'mark') cpu0 = process.cpuUsage()
    else if (value === 'end') send({ cpu: microseconds(process.cpuUsage(cpu0)) })
    const key = typeof value === 'string' ? value : Object.keys(value)[0]
    const taken = typeof value === 'string' ? value : value[key]
    const resolve = waiting.get(key)
    waiting.delete(key)
    if (resolve) resolve(taken)
    else arrived.set(key, taken)
  })
  const send = (value, callback) => channel.send({ [CONTROL]: value }, callback)
  const next = (key) =>
    new Promise((resolve) => {
      if (!arrived.has(key)) return waiting.set(key, resolve)
      resolve(arrived.get(key))
      arrived.delete(key)
    })
  return { send, next, written: () => new Promise((resolve) => send('sync', resolve)) }
}

/**
 * Heap and RSS per request left pending: `PENDING` of them, written in steps so no write queue
 * builds up. The heap is the JavaScript libraries' whole cost; RSS also has what native code keeps
 * (2.x's core) and what V8 reserved to grow.
 */
async function pendingMemory(request, control) {
  await control.written()
  global.gc()
  global.gc()
  const before = process.memoryUsage()
  for (let i = 0; i < PENDING; ) {
    for (const end = Math.min(PENDING, i + 256); i < end; i++) request('never', small)
    await control.written()
  }
  await sleep(300)
  global.gc()
  global.gc()
  const after = process.memoryUsage()
  return { bytesPerPending: (after.heapUsed - before.heapUsed) / PENDING, rssPerPending: (after.rss - before.rss) / PENDING }
}

/** The primary's side of one run; the worker runs `runSide` too. */
async function runPrimary(lib, caseName) {
  cluster.setupPrimary({ exec: __filename, args: ['--worker', lib, '--case', caseName, ...process.argv.slice(2)], execArgv: process.execArgv })
  const worker = cluster.fork()
  const control = controlOf(worker)
  await runSide(lib, caseName, worker, control)
  if (caseName.includes('up')) finish(await control.next('result'), worker)
}

function finish(result, worker) {
  console.log(JSON.stringify(result))
  worker.process.kill('SIGKILL')
  process.exit(0)
}

/**
 * 100 requests the worker never answers, then SIGKILL: how many settle within 3 s, and when the
 * first and the last did, from the kill.
 */
async function deathRun(adapter, side, control) {
  const settledAt = []
  const settle = () => settledAt.push(performance.now())
  const request = await adapter.requester(side, settle, settle)
  await control.next('ready') // the worker has loaded its library and announced itself
  await sleep(100)
  for (let i = 0; i < 100; i++) request('never', small)
  await sleep(200)
  const killedAt = performance.now()
  side.worker.process.kill('SIGKILL')
  await sleep(3000)
  const since = (at) => (at === undefined ? null : at - killedAt)
  console.log(JSON.stringify({ settled: settledAt.length, first: since(settledAt[0]), last: since(settledAt[99]) }))
  process.exit(0) // a library's timers must not keep the run alive
}

const SPEED = ['88-1', '88-100', '1k-100']

function installed(name) {
  try {
    peerPath(name)
    return true
  } catch {
    return false
  }
}

/** The peer libraries, as the header installs them. */
const PEERS = { birpc: '4.2.0', 'cluster-hub': '0.1.2', 'cluster-messages': '1.2.1' }

function main() {
  const { execFileSync } = require('node:child_process')
  const rounds = Number(option('rounds', '5'))
  const libs = option('libs', Object.keys(adapters).join(',')).split(',')
  const unknown = libs.filter((lib) => adapters[lib] === undefined)
  if (unknown.length > 0) throw new Error(`unknown --libs ${unknown.join(', ')}: one of ${Object.keys(adapters).join(', ')}`)
  const missing = libs.filter((lib) => PEERS[lib] !== undefined && !installed(lib))
  if (missing.length > 0) {
    const install = missing.map((lib) => `${lib}@${PEERS[lib]}`).join(' ')
    console.error(`not found from ${path.resolve(option('from', path.join(__dirname, '..')))}: ${missing.join(', ')}`)
    console.error(`  npm install --prefix /tmp/cp-peers ${install} && node scripts/peers.js --from /tmp/cp-peers ...`)
    process.exit(1)
  }
  const cases = option('cases', 'up,down,memory,death')
    .split(',')
    .flatMap((c) => (c === 'up' || c === 'down' ? SPEED.map((s) => `${c}-${s}`) : c === 'memory' ? ['memory-up', 'memory-down'] : [c]))
  for (const caseName of cases) {
    const speed = !caseName.startsWith('memory') && caseName !== 'death'
    const runs = new Map()
    for (const lib of libs) {
      if ((lib === 'plain' && !speed) || (lib === 'floor' && caseName === 'death')) continue
      if (adapters[lib].primaryAsksOnly && caseName.includes('up')) continue
      runs.set(lib, [])
    }
    const order = [...runs.keys()]
    for (let round = 0; round < (speed ? rounds : Math.min(rounds, 3)); round++) {
      // Each round starts one library later, so none always runs first or after the same one.
      for (let i = 0; i < order.length; i++) {
        const lib = order[(round + i) % order.length]
        const out = execFileSync(process.execPath, ['--expose-gc', __filename, '--run', lib, '--case', caseName, ...process.argv.slice(2)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 120000 })
        runs.get(lib).push(JSON.parse(out.trim().split('\n').pop()))
      }
    }
    console.log(`\n${caseName}: medians of ${runs.values().next().value.length} alternating runs`)
    const plainRate = runs.has('plain') ? median(runs.get('plain').map((r) => r.roundTrips / r.seconds)) : null
    for (const [lib, results] of runs) console.log(`${lib.padEnd(20)} ${describe(caseName, results, plainRate)}`)
  }
}

function describe(caseName, results, plainRate) {
  const failed = results.some((r) => r.failed) ? `, failed: ${results.map((r) => r.failed).join('/')}` : ''
  if (caseName.startsWith('memory')) {
    const bytes = (key) => Math.round(median(results.map((r) => r[key])))
    return `${bytes('bytesPerPending')} B of heap and ${bytes('rssPerPending')} B of RSS per pending request${failed}`
  }
  if (caseName === 'death') {
    const span = (r) => (r.settled === 0 ? 'none' : `${r.first.toFixed(1)}-${r.last === null ? '?' : r.last.toFixed(1)} ms`)
    return `settled ${results.map((r) => r.settled).join(', ')} of 100 within 3 s of the kill, first-last after it: ${results.map(span).join(', ')}`
  }
  const rates = results.map((r) => r.roundTrips / r.seconds)
  const rate = median(rates)
  const ratio = plainRate === null ? '' : ` (×${(rate / plainRate).toFixed(2)})`
  return (
    `${Math.round(rate).toString().padStart(7)} round trips/s${ratio} [${Math.round(Math.min(...rates))}-${Math.round(Math.max(...rates))}], CPU per round trip: ` +
    `asking ${median(results.map((r) => r.askingUs / r.roundTrips)).toFixed(1)} µs, ` +
    `answering ${median(results.map((r) => r.answeringUs / r.roundTrips)).toFixed(1)} µs${failed}`
  )
}

if (cluster.isPrimary && process.argv.includes('--run')) {
  runPrimary(option('run'), option('case'))
} else if (cluster.isWorker) {
  runSide(option('worker'), option('case'), undefined, controlOf(process))
} else {
  main()
}
