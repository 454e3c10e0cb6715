'use strict'
// npm run pack:local [-- --no-build] [-- --out DIR] [-- --json]
//
// Builds this machine's binary (as `npm run build` does) and writes the tarballs that would be
// published for it, into DIR (default ./dist):
//   clusterphone-<version>.tgz           the root package: the JS layer, typings, binding.js
//                                        (no binary: see `files` in package.json)
//   clusterphone-<triple>-<version>.tgz  this platform's binary package: npm/<triple>/ (from
//                                        `napi create-npm-dirs`) plus clusterphone.<triple>.node
// Installing both (`npm install ./clusterphone-<version>.tgz ./clusterphone-<triple>-<version>.tgz`)
// is what `npm install clusterphone` gives a user on this platform. The tree is left as it is: the
// binary package is staged in a temporary directory.
//
// --no-build packs the binary already built (what __test__/package.test.js does).

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { nativeTarget } = require('../lib/platform')
const { bundle } = require('./bundle')

const ROOT = path.join(__dirname, '..')

/** How to run npm from here: its CLI script with this node when it can be found, else `npm`. */
function npmCommand() {
  const candidates = [
    process.env.npm_execpath,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'bin', 'npm-cli.js'),
  ]
  const cli = candidates.find((file) => file && /npm-cli\.js$/.test(file) && fs.existsSync(file))
  if (cli) return { file: process.execPath, args: [cli], shell: false }
  return { file: process.platform === 'win32' ? 'npm.cmd' : 'npm', args: [], shell: process.platform === 'win32' }
}

/** Runs npm with `args` in `cwd`; returns its stdout (its stderr goes into the error if it fails). */
function npm(args, { cwd, env = process.env, stdio = 'pipe', timeout } = {}) {
  const command = npmCommand()
  try {
    return execFileSync(command.file, [...command.args, ...args], {
      cwd,
      env,
      stdio,
      timeout,
      shell: command.shell,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    })
  } catch (error) {
    error.message = `npm ${args.join(' ')} (in ${cwd}) failed: ${error.message}\n${error.stderr || ''}`
    throw error
  }
}

/** `npm pack` of `dir` into `outDir`; returns the tarball's path and its file list. */
function pack(dir, outDir) {
  const out = npm(['pack', '--json', '--ignore-scripts', '--pack-destination', outDir], { cwd: dir })
  const [result] = JSON.parse(out.slice(out.indexOf('[')))
  return { file: path.join(outDir, result.filename), files: result.files.map((f) => f.path).sort() }
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'))
}

/**
 * Writes the root tarball and this platform's binary tarball into `outDir`.
 * Returns { target, root: { file, files }, platform: { file, files } }.
 */
function packLocal({ build = true, outDir = path.join(ROOT, 'dist') } = {}) {
  if (build) npm(['run', 'build'], { cwd: ROOT, stdio: 'inherit' })
  else bundle() // lib/ as one file is cheap to redo, and a stale one would ship old code.
  const target = nativeTarget()
  const manifest = readJson(path.join(ROOT, 'package.json'))
  const binary = path.join(ROOT, target.fileName)
  if (!fs.existsSync(binary)) {
    throw new Error(`${target.fileName} is not built (run \`npm run build\`, or pack:local without --no-build)`)
  }
  if (!fs.existsSync(path.join(ROOT, 'binding.js'))) {
    throw new Error('binding.js is not generated (run `npm run build`)')
  }
  const npmDir = path.join(ROOT, 'npm', target.triple)
  if (!fs.existsSync(path.join(npmDir, 'package.json'))) {
    throw new Error(`npm/${target.triple}/package.json is missing: ${target.triple} is not in napi.targets ` +
      '(add it, then run `npx napi create-npm-dirs`)')
  }
  const platformManifest = readJson(path.join(npmDir, 'package.json'))
  const pinned = (manifest.optionalDependencies || {})[target.packageName]
  if (platformManifest.version !== manifest.version || pinned !== manifest.version) {
    throw new Error(`version mismatch: clusterphone ${manifest.version}, npm/${target.triple} ` +
      `${platformManifest.version}, optionalDependencies["${target.packageName}"] ${pinned} ` +
      '(run `npx napi version && node scripts/sync-versions.js`)')
  }

  fs.mkdirSync(outDir, { recursive: true })
  const root = pack(ROOT, outDir)
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'clusterphone-pack-'))
  try {
    for (const name of fs.readdirSync(npmDir)) fs.copyFileSync(path.join(npmDir, name), path.join(staging, name))
    fs.copyFileSync(binary, path.join(staging, target.fileName))
    const platform = pack(staging, outDir)
    return { target, root, platform }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true })
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2)
  const outIndex = argv.indexOf('--out')
  const outDir = outIndex >= 0 ? path.resolve(argv[outIndex + 1]) : undefined
  try {
    const result = packLocal({ build: !argv.includes('--no-build'), outDir })
    if (argv.includes('--json')) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
    } else {
      for (const { file, files } of [result.root, result.platform]) {
        process.stdout.write(`${path.relative(process.cwd(), file)}\n${files.map((f) => `  ${f}\n`).join('')}`)
      }
    }
  } catch (error) {
    process.stderr.write(`pack:local: ${error.message}\n`)
    process.exitCode = 1
  }
}

module.exports = { packLocal, npm }
