#!/usr/bin/env node
// Makes sure the system programs the test suites need are installed.
// Usage: node scripts/ensure-system.mjs redis [nginx] [chromium]
// As root with apt-get available, missing Debian packages are installed;
// otherwise it exits 1 naming the packages to install.
import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))

// need -> binaries it provides, and the Debian packages that provide them.
const NEEDS = {
  redis: { bins: ['redis-server', 'redis-cli'], packages: ['redis-server', 'redis-tools'] },
  nginx: { bins: ['nginx'], packages: ['nginx-light'] },
  chromium: { bins: ['chromium'], packages: ['chromium'] },
}

function which(bin, path = process.env.PATH ?? '') {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, bin), constants.X_OK)
      return join(dir, bin)
    } catch {
      // not in this dir
    }
  }
  return null
}

function run(command, args, env = process.env) {
  console.log(`ensure-system: ${command} ${args.join(' ')}`)
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env })
  if (result.status !== 0) {
    console.error(`ensure-system: \`${command} ${args.join(' ')}\` failed`)
    process.exit(result.status ?? 1)
  }
}

// Debian puts nginx in /usr/sbin, which is often not on a normal user's PATH; the demo and the
// tests look there too, so it counts as installed.
const SBIN = '/usr/local/sbin:/usr/sbin:/sbin'
const OK_IN_SBIN = new Set(['nginx'])

function locate(bin) {
  return which(bin) ?? (OK_IN_SBIN.has(bin) ? which(bin, SBIN) : null)
}

function missingBins(names) {
  return names.flatMap((name) => NEEDS[name].bins).filter((bin) => !locate(bin))
}

// npm packages first: a fresh clone has none.
if (!existsSync(join(root, 'node_modules'))) {
  run('npm', [existsSync(join(root, 'package-lock.json')) ? 'ci' : 'install'])
}

const requested = process.argv.slice(2)
const unknown = requested.filter((name) => !(name in NEEDS))
if (unknown.length > 0) {
  console.error(`ensure-system: unknown need(s) ${unknown.join(', ')}; known: ${Object.keys(NEEDS).join(', ')}`)
  process.exit(2)
}

// Tests use the given servers instead of starting their own.
const externalRedis = Boolean(process.env.REDIS_URL && process.env.REDIS_CLUSTER_NODES)
const needs = requested.filter((name) => !(name === 'redis' && externalRedis))

const missing = needs.filter((name) => missingBins([name]).length > 0)
if (missing.length === 0) process.exit(0)

const packages = missing.flatMap((name) => NEEDS[name].packages)
const canInstall = process.getuid?.() === 0 && which('apt-get')
if (canInstall) {
  // apt-get update once, for all packages together.
  run('apt-get', ['update'])
  run('apt-get', ['install', '-y', ...packages], { ...process.env, DEBIAN_FRONTEND: 'noninteractive' })
}

const stillMissing = missingBins(missing)
if (stillMissing.length === 0) process.exit(0)

const offPath = stillMissing.filter((bin) => which(bin, SBIN))
const absent = stillMissing.filter((bin) => !offPath.includes(bin))
if (absent.length > 0) {
  const absentPackages = missing
    .filter((name) => NEEDS[name].bins.some((bin) => absent.includes(bin)))
    .flatMap((name) => NEEDS[name].packages)
  console.error(`sessionvault tests need ${humanList(absent)}: run \`sudo apt-get install ${absentPackages.join(' ')}\``)
}
for (const bin of offPath) {
  console.error(`sessionvault tests need ${bin} on PATH: it is at ${which(bin, SBIN)}, add its directory to PATH`)
}
process.exit(1)

function humanList(items) {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)}` : items[0]
}
