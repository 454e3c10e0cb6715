'use strict'
// Which prebuilt binary fits this machine, named as napi-rs names them: the triple of
// `clusterphone.<triple>.node` and of the package `clusterphone-<triple>` that npm installs as an
// optional dependency (see `napi.targets` in package.json for the ones that are published).

const fs = require('node:fs')

/** 'glibc' or 'musl' on Linux (detected as the generated binding.js does), null elsewhere. */
function detectLibc() {
  if (process.platform !== 'linux') return null
  try {
    return fs.readFileSync('/usr/bin/ldd', 'latin1').includes('musl') ? 'musl' : 'glibc'
  } catch {
    // No ldd (distroless images, some Alpine): ask the process report.
  }
  const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null
  if (report?.header?.glibcVersionRuntime) return 'glibc'
  const objects = Array.isArray(report?.sharedObjects) ? report.sharedObjects : []
  return objects.some((f) => f.includes('libc.musl-') || f.includes('ld-musl-')) ? 'musl' : 'glibc'
}

/** The napi-rs triple (`platformArchABI`) for a platform, arch and libc. */
function tripleFor(platform, arch, libc) {
  if (platform === 'linux') {
    const abi = libc === 'musl' ? 'musl' : 'gnu'
    return arch === 'arm' ? `linux-arm-${abi}eabihf` : `linux-${arch}-${abi}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  if (platform === 'android' && arch === 'arm') return 'android-arm-eabi'
  return `${platform}-${arch}`
}

/** This process's target: platform, arch, libc, triple, and the binary's file and package names. */
function nativeTarget() {
  const { platform, arch } = process
  const libc = detectLibc()
  const triple = tripleFor(platform, arch, libc)
  return {
    platform,
    arch,
    libc,
    triple,
    fileName: `clusterphone.${triple}.node`,
    packageName: `clusterphone-${triple}`,
  }
}

module.exports = { detectLibc, tripleFor, nativeTarget }
