#!/usr/bin/env node
'use strict'
// Machine instructions per round trip on one side of the channel, counted by valgrind (callgrind),
// for plain `cluster` messaging, the floor the API asks for, and clusterphone: the one measure of
// per-message cost on this machine that does not move with the host (V8's seeds fixed, below: a
// count repeats to ~10 instructions a round trip).
//
//   node scripts/instructions.js [--side primary|worker] [--size BYTES] [--mode plain,floor,clusterphone]
//                                [--serialization json|advanced] [--warm 5000] [--counts 5000,15000]
//                                [--node-flags "--predictable --hash-seed=1 --random-seed=1"]
//
// Each mode runs scripts/instructions-harness.js twice (N = 5000 and 15000 after the same warm-up)
// and reports the difference over 10000: startup, compilation and the harness's fixed costs
// cancel out. Needs valgrind; takes ~1 minute per mode and side on 2 cores. `--warm 0 --counts
// 100,2100` counts a process's first messages instead, while V8 still interprets and compiles the
// path (with --single-threaded, its compiler runs on the main thread and is counted too).

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { option } = require('./tools')

const sides = option('side', 'primary,worker').split(',')
const size = option('size', '0')
const modes = option('mode', 'plain,floor,clusterphone').split(',')
const serialization = option('serialization', 'json')
const [FEW, MANY] = option('counts', '5000,15000').split(',').map(Number)
const WARM = option('warm', '5000')
// V8 without its random seeds and time-driven choices: the same build counts the same to ~10
// instructions a round trip, where without these flags counts moved ±3k over the first messages.
// `--node-flags ""` counts as V8 runs by default.
const NODE_FLAGS = option('node-flags', '--predictable --hash-seed=1 --random-seed=1').split(' ').filter(Boolean)

/** Instructions the working process ran for `n` round trips. */
function count(side, mode, n) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-instr-'))
  const pidFile = path.join(dir, 'pid')
  const args = ['--tool=callgrind', '--trace-children=yes', '--smc-check=all-non-file', `--callgrind-out-file=${dir}/cg.%p`, process.execPath, '--single-threaded', ...NODE_FLAGS, path.join(__dirname, 'instructions-harness.js')]
  const env = { ...process.env, SIDE: side, MODE: mode, SIZE: size, SERIALIZATION: serialization, WARM, N: String(n), PID_FILE: pidFile }
  return new Promise((resolve, reject) => {
    const child = spawn('valgrind', args, { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('exit', (code) => {
      try {
        const pid = fs.readFileSync(pidFile, 'utf8').trim()
        const totals = fs.readFileSync(path.join(dir, `cg.${pid}`), 'utf8').match(/^(?:summary|totals): (\d+)/m)
        if (code !== 0 || totals === null) throw new Error(`valgrind exited with ${code}: ${stderr.slice(-500)}`)
        resolve(Number(totals[1]))
      } catch (err) {
        reject(err)
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    })
  })
}

async function main() {
  console.log(`instructions per round trip, ${size === '0' ? '88 B' : `${size} B`} payload, ${serialization} (valgrind, ${process.version})`)
  for (const side of sides) {
    for (const mode of modes) {
      const [few, many] = await Promise.all([count(side, mode, FEW), count(side, mode, MANY)])
      console.log(`${side.padEnd(8)} ${mode.padEnd(13)} ${Math.round((many - few) / (MANY - FEW))}`)
    }
  }
}

main().catch((err) => {
  console.error(err.message)
  process.exit(1)
})
