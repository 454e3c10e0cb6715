#!/usr/bin/env node
'use strict'
// Soak test: a bounded run of real traffic between a cluster primary and workers that are killed
// and re-forked at random, checking that nothing is lost and memory does not grow.
//
//   npm run soak                      # 60 s, 4 workers
//   npm run soak -- --seconds 600 --workers 6 --rate 8000
//   npm run soak -- --advanced        # the channels use `advanced` serialization
//
// The primary streams messages to random workers (also to ones just forked and not ready yet, so
// they queue): replied to at once, later, through a promise, never (so they time out or die), or
// with an error, awaited or not, with short and long timeouts. Workers send to the primary too.
// Every so often a worker is SIGKILLed, exits from a handler, or is disconnected, and a new one is
// forked. At the end every worker goes, and the script checks:
// - lost = awaited acknowledgements that neither resolved nor rejected by the end: must be 0;
// - every rejection is one of the library's: timed out, worker died, or the handler's error;
// - nothing was thrown asynchronously (uncaught exceptions, unhandled rejections);
// - `_stats()` (what the library holds) is all zeros once the workers are gone;
// - heap used after a full GC at the end is at most HEAP_BOUND_MB above the baseline taken after
//   a warm-up (the first WARMUP_FRACTION of the run, at most 10 s), also after a full GC.
// It exits 1 when any of these fails. RSS is printed (start, middle, end) but not bounded: it
// follows the allocator, not the library.
//
// The script re-runs itself with --expose-gc (and the workers inherit it).

const cluster = require('node:cluster')
const path = require('node:path')

const HEAP_BOUND_MB = 16
const WARMUP_FRACTION = 0.2

const IMPL = process.env.CLUSTERPHONE_IMPL || path.join(__dirname, '..')
// Soak lib/ as it is now, not an older bundle.
if (!process.env.CLUSTERPHONE_IMPL && cluster.isPrimary) require('./bundle').bundle()

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  if (i === -1) return fallback
  const value = Number(process.argv[i + 1])
  if (!(value > 0)) {
    console.error(`--${name} needs a positive number`)
    process.exit(2)
  }
  return value
}

if (cluster.isPrimary && typeof globalThis.gc !== 'function') {
  const { spawnSync } = require('node:child_process')
  const result = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
  })
  process.exit(result.status === null ? 1 : result.status)
}

if (cluster.isPrimary) primary()
else worker()

// ------------------------------------------------------------------------------------ the worker

function worker() {
  const clusterphone = require(IMPL)
  const h = clusterphone.handlers
  h.echo = (payload, handle, ack) => ack(payload)
  h.later = (payload, handle, ack) => setTimeout(() => ack(payload), Math.random() * 50)
  h.promise = (payload) => new Promise((resolve) => setTimeout(() => resolve(payload), Math.random() * 20))
  h.never = () => {}
  h.fail = (payload) => {
    throw new Error(`failing on purpose: ${payload.n}`)
  }
  h.exit = () => process.exit(0)
  const other = clusterphone.ns('soak-other')
  other.handlers.echo = (payload, handle, ack) => ack(payload)

  // Traffic to the primary, some awaited; outcomes are not tallied here (the worker may die).
  let n = 0
  const timer = setInterval(() => {
    for (let i = 0; i < 5; i++) {
      const message = clusterphone.sendToMaster(i === 0 ? 'fromWorkerNever' : 'fromWorker', { n: n++ })
      if (i < 3) message.within(i === 2 ? 50 : 2000).acknowledged().catch(() => {})
    }
  }, 20)
  timer.unref()
  process.on('disconnect', () => clearInterval(timer))
}

// ----------------------------------------------------------------------------------- the primary

function primary() {
  const seconds = option('seconds', 60)
  const workerCount = option('workers', 4)
  const rate = option('rate', 5000) // messages per second, primary to workers
  const maxInFlight = 20000 // awaited acknowledgements outstanding at most

  const serialization = process.argv.includes('--advanced') ? 'advanced' : 'json'
  cluster.setupPrimary({ exec: __filename, args: process.argv.slice(2), silent: false, serialization })
  const clusterphone = require(IMPL)
  const other = clusterphone.ns('soak-other')
  let fromWorker = 0
  clusterphone.handlers.fromWorker = (w, payload, handle, ack) => {
    fromWorker++
    ack(payload)
  }
  clusterphone.handlers.fromWorkerNever = () => {
    fromWorker++
  }

  const count = {
    sent: 0,
    unawaited: 0,
    awaited: 0,
    resolved: 0,
    rejectedDied: 0,
    rejectedTimeout: 0,
    rejectedHandler: 0,
    rejectedOther: 0,
    refused: 0,
    refusedOther: 0,
    kills: 0,
    forks: 0,
  }
  const problems = []
  const otherReasons = new Map()
  process.on('uncaughtException', (err) => problems.push(`uncaught exception: ${err && err.stack}`))
  process.on('unhandledRejection', (reason) => problems.push(`unhandled rejection: ${reason && reason.stack ? reason.stack : reason}`))

  const settled = () => count.resolved + count.rejectedDied + count.rejectedTimeout + count.rejectedHandler + count.rejectedOther
  const inFlight = () => count.awaited - settled()

  function onResolved() {
    count.resolved++
  }
  function onRejected(err) {
    const message = err && err.message
    if (/worker died/i.test(message)) count.rejectedDied++
    else if (/timed out/i.test(message)) count.rejectedTimeout++
    else if (/handler threw an error: failing on purpose/i.test(message)) count.rejectedHandler++
    else {
      count.rejectedOther++
      otherReasons.set(message, (otherReasons.get(message) || 0) + 1)
    }
  }

  const workers = new Set()
  let running = true
  function spawn() {
    const w = cluster.fork()
    count.forks++
    workers.add(w)
    w.on('exit', () => {
      workers.delete(w)
      if (running) spawn()
    })
  }
  for (let i = 0; i < workerCount; i++) spawn()

  const kinds = ['echo', 'echo', 'echo', 'echo', 'later', 'promise', 'never', 'fail', 'unawaited', 'unawaited', 'other']
  function sendOne() {
    const live = [...workers]
    const w = live[Math.floor(Math.random() * live.length)]
    if (w === undefined) return
    const kind = kinds[Math.floor(Math.random() * kinds.length)]
    const payload = { n: count.sent, pad: 'x'.repeat(Math.floor(Math.random() * 200)) }
    let message
    try {
      if (kind === 'unawaited') message = clusterphone.sendTo(w, 'echo', payload)
      else if (kind === 'other') message = other.sendTo(w, 'echo', payload)
      else message = clusterphone.sendTo(w, kind, payload)
    } catch (err) {
      if (/worker is dead/i.test(err && err.message)) count.refused++
      else {
        count.refusedOther++
        otherReasons.set(`send threw: ${err && err.message}`, (otherReasons.get(`send threw: ${err && err.message}`) || 0) + 1)
      }
      return
    }
    count.sent++
    if (kind === 'unawaited' || inFlight() >= maxInFlight) {
      count.unawaited++
      return
    }
    // Mostly long timeouts (a dying worker must reject them), some short ones (timeouts).
    const within = kind === 'never' && Math.random() < 0.5 ? 20 + Math.random() * 500 : Math.random() < 0.05 ? 200 : 60000
    count.awaited++
    message.within(within).acknowledged().then(onResolved, onRejected)
  }

  const KILLS = [
    (w) => w.process.kill('SIGKILL'),
    (w) => {
      try {
        clusterphone.sendTo(w, 'exit')
      } catch {
        // already going
      }
    },
    (w) => w.disconnect(),
  ]
  function chaos() {
    if (!running) return
    const live = [...workers].filter((w) => w.isConnected())
    if (live.length > 0) {
      const w = live[Math.floor(Math.random() * live.length)]
      KILLS[Math.floor(Math.random() * KILLS.length)](w)
      count.kills++
    }
    setTimeout(chaos, 200 + Math.random() * 1300)
  }

  const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1)
  async function fullGc() {
    for (let i = 0; i < 4; i++) {
      globalThis.gc()
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  function memory(label) {
    const m = process.memoryUsage()
    console.log(`[soak] memory ${label}: heapUsed ${mb(m.heapUsed)} MB, heapTotal ${mb(m.heapTotal)} MB, rss ${mb(m.rss)} MB`)
    return m
  }
  function progress(label) {
    const s = clusterphone._stats()
    console.log(
      `[soak] ${label}: sent ${count.sent} (awaited ${count.awaited}), resolved ${count.resolved}, ` +
        `rejected: died ${count.rejectedDied} timed out ${count.rejectedTimeout} handler ${count.rejectedHandler}, ` +
        `in flight ${inFlight()}, kills ${count.kills}, workers ${workers.size}, from workers ${fromWorker}; ` +
        `held: pending ${s.pending} queued ${s.queued} slots ${s.slots}`,
    )
  }

  const started = Date.now()
  const end = started + seconds * 1000
  const warmupEnd = started + Math.min(10000, seconds * 1000 * WARMUP_FRACTION)
  console.log(`[soak] ${seconds} s, ${workerCount} workers, ~${rate} messages/s to workers, pid ${process.pid}, node ${process.version}`)
  memory('at start')
  let baseline = null
  let middleShown = false
  let lastProgress = started

  const TICK = 10
  const perTick = Math.max(1, Math.round((rate * TICK) / 1000))
  function tick() {
    const now = Date.now()
    if (now >= end) {
      finish()
      return
    }
    for (let i = 0; i < perTick; i++) sendOne()
    if (now - lastProgress >= 10000) {
      lastProgress = now
      progress(`${Math.round((now - started) / 1000)} s`)
    }
    if (baseline === null && now >= warmupEnd) {
      baseline = 'pending'
      fullGc().then(() => {
        baseline = memory('baseline after warm-up and GC')
      })
    }
    if (!middleShown && now >= started + (seconds * 1000) / 2) {
      middleShown = true
      fullGc().then(() => memory('in the middle, after GC'))
    }
    setTimeout(tick, TICK)
  }
  setTimeout(chaos, 1000)
  tick()

  async function finish() {
    running = false
    progress('sending stopped')
    // Replies still on their way come in; then every worker goes, which rejects the rest.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const exits = [...workers].map((w) => new Promise((resolve) => (w.isDead() ? resolve() : w.once('exit', resolve))))
    for (const w of workers) w.process.kill('SIGKILL')
    await Promise.race([Promise.all(exits), new Promise((resolve) => setTimeout(resolve, 10000))])
    const drainEnd = Date.now() + 5000
    while (inFlight() > 0 && Date.now() < drainEnd) await new Promise((resolve) => setTimeout(resolve, 50))
    progress('all workers gone')
    await fullGc()
    const final = memory('at end, after GC')
    const stats = clusterphone._stats()
    const lost = inFlight()

    const failures = []
    if (lost !== 0) failures.push(`${lost} awaited acknowledgements neither resolved nor rejected`)
    if (count.rejectedOther !== 0 || count.refusedOther !== 0) failures.push(`unexpected errors: ${JSON.stringify([...otherReasons])}`)
    if (problems.length > 0) failures.push(...problems.slice(0, 10))
    if (Object.values(stats).some((value) => value !== 0)) failures.push(`the library still holds state: ${JSON.stringify(stats)}`)
    if (baseline !== null && baseline !== 'pending') {
      const grown = final.heapUsed - baseline.heapUsed
      console.log(`[soak] heap growth since the baseline: ${mb(grown)} MB (bound ${HEAP_BOUND_MB} MB)`)
      if (grown > HEAP_BOUND_MB * 1024 * 1024) failures.push(`heap grew by ${mb(grown)} MB (bound ${HEAP_BOUND_MB} MB)`)
    } else {
      failures.push('no memory baseline was taken (run longer)')
    }

    console.log('[soak] summary')
    console.log(`  duration            ${((Date.now() - started) / 1000).toFixed(1)} s`)
    console.log(`  messages sent       ${count.sent} (${count.awaited} awaited, ${count.unawaited} not)`)
    console.log(`  acked (resolved)    ${count.resolved}`)
    console.log(`  rejected            worker died ${count.rejectedDied}, timed out ${count.rejectedTimeout}, handler error ${count.rejectedHandler}, other ${count.rejectedOther}`)
    console.log(`  refused (dead)      ${count.refused} sends threw "worker is dead" synchronously`)
    console.log(`  lost                ${lost}`)
    console.log(`  workers             ${count.forks} forked, ${count.kills} killed at random`)
    console.log(`  from workers        ${fromWorker} messages handled by the primary`)
    console.log(`  _stats() at end     ${JSON.stringify(stats)}`)
    if (failures.length > 0) {
      console.log('[soak] FAILED')
      for (const failure of failures) console.log(`  - ${failure}`)
      process.exit(1)
    }
    console.log('[soak] OK')
    process.exit(0)
  }
}
