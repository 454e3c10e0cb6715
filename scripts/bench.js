'use strict'
// `npm run bench`: the quick comparison of this build with clusterphone 1.0.1 and plain cluster
// messaging (../shared/bench), saved as bench/latest.md and bench/results.json, and drawn as
// bench/chart.svg. Extra arguments go to the benchmark (e.g. `npm run bench -- --full`).
// `--floor` adds a column for scripts/floor: the API written by hand on plain `cluster` with only
// what no implementation can skip, so a row's floor shows what any implementation can reach there.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { parseTable, render } = require('./bench-chart')
const { bundle } = require('./bundle')

const root = path.join(__dirname, '..')
const runner = path.join(root, '..', 'shared', 'bench', 'run.sh')
if (!fs.existsSync(runner)) {
  console.error(`bench: ${runner} not found (the shared benchmark sits beside the project)`)
  process.exit(1)
}
const args = process.argv.slice(2)
const full = args.includes('--full')
const floor = args.includes('--floor')
const passThrough = args.filter((arg) => arg !== '--full' && arg !== '--floor')
const outDir = path.join(root, 'bench')
bundle() // measure lib/ as it is now, not a bundle from an older build
fs.mkdirSync(outDir, { recursive: true })
const result = spawnSync(
  'bash',
  [runner, ...(full ? [] : ['--quick']), '--json', path.join(outDir, 'results.json'), ...passThrough, 'clusterphone@1.0.1', 'new=.', ...(floor ? ['floor=./scripts/floor'] : [])],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
)
if (result.status !== 0) {
  console.error(`bench: run.sh exited with ${result.status}`)
  process.exit(result.status ?? 1)
}
fs.writeFileSync(path.join(outDir, 'latest.md'), result.stdout)
const heading = /^## (.*)$/m.exec(result.stdout)
fs.writeFileSync(path.join(outDir, 'chart.svg'), render(parseTable(result.stdout), heading ? heading[1] : 'clusterphone benchmark'))
process.stdout.write(result.stdout)
console.log(`bench: wrote bench/latest.md, bench/results.json, bench/chart.svg`)
