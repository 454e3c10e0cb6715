#!/usr/bin/env node
'use strict'
// Round trips/s and CPU per round trip (primary, and all workers together) for one outstanding
// message (or more) per worker, several workers, alternating implementations run after run: the
// series behind the README's fan-out figures, where one run on this host moves ±20% and a median
// of alternating runs is what can be compared.
//
//   node scripts/fanout-ab.js [--rounds 6] [--ms 1500] [--workers 4] [--outstanding 1]
//                             [--warm 700] [--libs plain,floor,clusterphone] [--1k]
//                             [--pre MS [--pre-small]] [--node-flags "--interrupt-budget=8448"]
//
// `--pre MS` runs 100 outstanding per worker for MS first, drained before the measured phase: the
// benchmark runs its fan-out cases one after another in the same processes (`--pre-small`: that
// phase with the 88 B payload, as the benchmark's 88 B cases come before its 1 KB one).
// `--node-flags` go to the primary, and its workers inherit them (V8's tier-up experiments in
// docs/performance.md).
//
// A lib is `plain` (worker.send / process.send, echoed), `floor` (scripts/floor), `clusterphone`
// (this package, as built), a directory holding a clusterphone build, or `PRIMARY:WORKER` to run
// the primary with one and the workers with another (any two of floor, clusterphone or a
// directory: they share 1.x's wire format).

const cluster = require('node:cluster')
const path = require('node:path')
const { small, payloadOf } = require('./payloads')
const { option, median, microseconds } = require('./tools')

let payload = payloadOf(process.argv.includes('--1k') ? 1024 : 0)
const CPU_REQUEST = '__fanout_ab_cpu'

/** The module for a lib name, or null for plain `cluster`. */
function load(name) {
  if (name === 'plain') return null
  if (name === 'floor') return require(path.join(__dirname, 'floor'))
  if (name === 'clusterphone') return require(path.join(__dirname, '..'))
  return require(path.resolve(name))
}

/** One run: a primary with its workers; prints one JSON line and exits. */
function runPrimary(spec, workers, outstanding, ms, warmMs, preMs) {
  const [primaryLib, workerLib = primaryLib] = spec.split(':')
  if ((primaryLib === 'plain') !== (workerLib === 'plain')) throw new Error('plain talks only to plain')
  const lib = load(primaryLib)
  cluster.setupPrimary({ exec: __filename, args: ['--worker', workerLib] })
  const all = []
  for (let i = 0; i < workers; i++) all.push(cluster.fork())
  let done = 0
  let stopping = false
  let inFlight = 0
  let drained = null
  const sendOne = (worker) => {
    if (stopping) {
      if (inFlight === 0 && drained !== null) drained()
      return
    }
    inFlight++
    if (lib === null) worker.send(payload)
    else lib.sendTo(worker, 'echo', payload).ackd().then(() => {
      inFlight--
      done++
      sendOne(worker)
    }, () => {})
  }
  const cpuOf = (worker) => new Promise((resolve) => {
    const listener = (message) => {
      if (message === null || typeof message !== 'object' || message[CPU_REQUEST] === undefined) return
      worker.removeListener('message', listener)
      resolve(message[CPU_REQUEST])
    }
    worker.on('message', listener)
    worker.send({ [CPU_REQUEST]: true })
  })
  for (const worker of all) {
    if (lib === null) worker.on('message', (message) => {
      if (message === null || typeof message !== 'object' || message[CPU_REQUEST] !== undefined) return
      inFlight--
      done++
      sendOne(worker)
    })
  }
  const sleep = (delay) => new Promise((resolve) => setTimeout(resolve, delay))
  let ready = 0
  const started = new Promise((resolve) => {
    for (const worker of all) worker.once('online', () => ++ready === workers && resolve())
  })
  started.then(async () => {
    await sleep(500) // every worker has loaded its library and announced itself
    if (preMs > 0) {
      const measured = payload
      if (process.argv.includes('--pre-small')) payload = small
      for (const worker of all) for (let i = 0; i < 100; i++) sendOne(worker)
      await sleep(preMs)
      stopping = true
      await new Promise((resolve) => (drained = resolve))
      stopping = false
      payload = measured
    }
    for (const worker of all) for (let i = 0; i < outstanding; i++) sendOne(worker)
    await sleep(warmMs) // warm-up: V8 optimizes both sides
    const workerCpu0 = await Promise.all(all.map(cpuOf))
    const count0 = done
    const cpu0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    await sleep(ms)
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    const roundTrips = done - count0
    const primaryCpu = microseconds(process.cpuUsage(cpu0))
    stopping = true
    const workerCpu1 = await Promise.all(all.map(cpuOf))
    const workersCpu = workerCpu1.reduce((sum, cpu, i) => sum + cpu - workerCpu0[i], 0)
    console.log(JSON.stringify({
      perSecond: roundTrips / seconds,
      primaryUs: primaryCpu / roundTrips,
      workersUs: workersCpu / roundTrips,
    }))
    for (const worker of all) worker.process.kill('SIGKILL')
    process.exit(0)
  })
}

function runWorker(name) {
  const lib = load(name)
  process.on('message', (message) => {
    if (message !== null && typeof message === 'object' && message[CPU_REQUEST] !== undefined) {
      process.send({ [CPU_REQUEST]: microseconds(process.cpuUsage()) })
    } else if (lib === null) {
      process.send(message)
    }
  })
  if (lib !== null) lib.handlers.echo = (received, handle, ack) => ack(received)
}

function main() {
  const { execFileSync } = require('node:child_process')
  const rounds = Number(option('rounds', '6'))
  const libs = option('libs', 'plain,floor,clusterphone').split(',')
  const runArgs = ['--workers', option('workers', '4'), '--outstanding', option('outstanding', '1'), '--ms', option('ms', '1500'), '--warm', option('warm', '700'), '--pre', option('pre', '0')]
  if (process.argv.includes('--1k')) runArgs.push('--1k')
  if (process.argv.includes('--pre-small')) runArgs.push('--pre-small')
  const nodeFlags = option('node-flags', '').split(' ').filter(Boolean)
  const results = new Map(libs.map((lib) => [lib, []]))
  for (let round = 0; round < rounds; round++) {
    for (const lib of libs) {
      const out = execFileSync(process.execPath, [...nodeFlags, __filename, '--run', lib, ...runArgs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      results.get(lib).push(JSON.parse(out.trim().split('\n').pop()))
    }
  }
  console.log(`${option('workers', '4')} workers, ${option('outstanding', '1')} outstanding each, ${rounds} alternating runs of ${option('ms', '1500')} ms; medians:`)
  for (const [lib, runs] of results) {
    const perSecond = runs.map((r) => r.perSecond)
    console.log(
      `${lib.padEnd(24)} ${Math.round(median(perSecond)).toString().padStart(7)} round trips/s ` +
        `(${Math.round(Math.min(...perSecond))}-${Math.round(Math.max(...perSecond))}), ` +
        `CPU per round trip: primary ${median(runs.map((r) => r.primaryUs)).toFixed(1)} µs, ` +
        `workers ${median(runs.map((r) => r.workersUs)).toFixed(1)} µs`,
    )
  }
}

if (cluster.isPrimary && process.argv.includes('--run')) {
  runPrimary(option('run'), Number(option('workers', '4')), Number(option('outstanding', '1')), Number(option('ms', '1500')), Number(option('warm', '700')), Number(option('pre', '0')))
} else if (cluster.isWorker) {
  runWorker(option('worker'))
} else {
  main()
}
