'use strict'
// `npm version` runs this after `napi version` (which sets the version of every npm/<triple>/
// package): it pins the root's optionalDependencies on those packages to the new version, in
// package.json and package-lock.json, so the root always asks for binaries of its own version,
// and writes the version into lib/shared.js (which does not read package.json at load).

const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')

function update(file, edit) {
  const full = path.join(ROOT, file)
  if (!fs.existsSync(full)) return
  const json = JSON.parse(fs.readFileSync(full, 'utf8'))
  edit(json)
  fs.writeFileSync(full, `${JSON.stringify(json, null, 2)}\n`)
}

const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
const pin = (deps) => {
  for (const name of Object.keys(deps || {})) if (name.startsWith('clusterphone-')) deps[name] = version
}
update('package.json', (json) => pin(json.optionalDependencies))
update('package-lock.json', (json) => pin(json.packages?.['']?.optionalDependencies))

const SHARED = path.join(ROOT, 'lib', 'shared.js')
const VERSION_LINE = /^const VERSION = '[^']*'$/m
const shared = fs.readFileSync(SHARED, 'utf8')
if (!VERSION_LINE.test(shared)) throw new Error("lib/shared.js has no `const VERSION = '…'` line to update")
fs.writeFileSync(SHARED, shared.replace(VERSION_LINE, `const VERSION = '${version}'`))
