'use strict'
// CPU per sequential round trip (one message in flight), built up from plain `cluster` messaging
// to clusterphone one piece at a time, so the cost of each piece shows:
//
//   node scripts/turn-cost.js [--rounds 2] [--n 30000]
//
// Steps: 0 plain `w.send` echo; 1 the 1.x envelope both ways; 2 + a Promise per message resolved
// by the reply; 3 + a callback on each write; 4 + a `setImmediate` per turn; 5 clusterphone.
// Only step 5 loads the library, in both processes (a library loaded in a plain step would add its
// own messages, which that step would count as replies). On a VM most of a sequential round trip
// is the kernel waking the other process, and that counts as CPU too, noisily. Where the guest's
// cpuidle driver is haltpoll, setting /sys/module/haltpoll/parameters/guest_halt_poll_ns high for
// the run (and back after) makes an idle CPU poll instead of halting: what is left is the work.

const cluster = require('node:cluster')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const STEPS = ['plain cluster', '+ envelopes', '+ a Promise per message', '+ a write callback', '+ setImmediate per turn', 'clusterphone']
const payload = { data: { type: 'payload', reason: 'benchmarking', awesome: true, levelOfAwesome: 9001 } }
const WARM = 2000

if (!cluster.isPrimary) worker(Number(process.env.TURN_COST_STEP), require)
else if (process.argv.includes('--step')) measure(option('--step', 0), option('--n', 30000)).then((r) => console.log(JSON.stringify(r)))
else primary()

function option(name, fallback) {
  const at = process.argv.indexOf(name)
  return at === -1 ? fallback : Number(process.argv[at + 1])
}

function primary() {
  const rounds = option('--rounds', 2)
  const n = option('--n', 30000)
  const results = STEPS.map(() => [])
  for (let round = 0; round < rounds; round++) {
    // Each run in a fresh primary: a library loaded once would stay loaded for the plain steps.
    for (let step = 0; step < STEPS.length; step++) {
      const out = execFileSync(process.execPath, [__filename, '--step', String(step), '--n', String(n)], { encoding: 'utf8' })
      results[step].push(JSON.parse(out.trim().split('\n').pop()))
    }
  }
  console.log('| step | primary µs per round trip | worker µs |\n| --- | --- | --- |')
  STEPS.forEach((name, step) => {
    const range = (key) => results[step].map((r) => r[key].toFixed(1)).join(', ')
    console.log(`| ${name} | ${range('primary')} | ${range('worker')} |`)
  })
}

/** One run of `step` in a fresh worker: CPU per round trip in both processes after a warm-up. */
function measure(step, n) {
  const library = step === 5 ? require(path.join(__dirname, '..')) : null
  const worker = cluster.fork({ TURN_COST_STEP: String(step) })
  let done = 0
  let seq = 0
  let resolveReply = null
  let cpuAtMark = null
  const noop = () => {}
  const endTurn = () => {}
  return new Promise((resolve) => {
    function sendOne() {
      if (library !== null) return void library.sendTo(worker, 'echo', payload).ackd().then(onReply)
      const message = step >= 1 ? { __clusterphone: { ns: '_', cmd: 'echo', seq: ++seq, payload } } : payload
      if (step >= 4) setImmediate(endTurn)
      if (step >= 3) worker.send(message, undefined, undefined, noop)
      else worker.send(message)
      if (step >= 2) new Promise((res) => (resolveReply = res)).then(onReply)
    }
    function onReply() {
      if (++done === WARM) {
        cpuAtMark = process.cpuUsage()
        worker.send({ turnCost: 'mark' })
      }
      if (done === n) worker.send({ turnCost: 'end' })
      else sendOne()
    }
    worker.on('message', (message) => {
      if (message && message.turnCost === 'stats') {
        const cpu = process.cpuUsage(cpuAtMark)
        const count = n - WARM
        worker.once('exit', () => resolve({ primary: (cpu.user + cpu.system) / count, worker: message.cpu / count }))
        worker.disconnect()
        return
      }
      if (library !== null || (step >= 1 && !(message && message.__clusterphone))) return
      if (step >= 2) resolveReply(message)
      else onReply()
    })
    worker.once('online', () => setTimeout(sendOne, 100))
  })
}

function worker(step, load) {
  let cpuAtMark = null
  if (step === 5) load(path.join(__dirname, '..')).handlers.echo = (value, handle, ack) => ack(value)
  process.on('message', (message) => {
    if (message && message.turnCost === 'mark') return void (cpuAtMark = process.cpuUsage())
    if (message && message.turnCost === 'end') {
      const cpu = process.cpuUsage(cpuAtMark)
      return void process.send({ turnCost: 'stats', cpu: cpu.user + cpu.system })
    }
    if (step === 5) return
    if (step >= 1) {
      const envelope = message.__clusterphone
      process.send({ __clusterphone: { ns: envelope.ns, ack: envelope.seq, reply: envelope.payload, error: undefined } })
    } else {
      process.send(message)
    }
  })
}
