#!/usr/bin/env node
// The markdown tables of a bench/compare.sh run, from its results.jsonl (one line per
// system and rate, as the peers' load generator writes them): latency and delivery per
// rate, then CPU per process group.
//   node bench/compare-table.mjs results.jsonl
import { readFileSync } from 'node:fs'

const file = process.argv[2]
if (!file) {
  console.error('usage: node bench/compare-table.mjs results.jsonl')
  process.exit(2)
}
const runs = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l))

const NAMES = {
  seed: 'seed-node',
  'seed-2': 'seed-node, 2 nodes',
  'natter-sqlite': 'Natter SQLite',
  'natter-pg': 'Natter PostgreSQL',
  'natter-pg-2': 'Natter PostgreSQL, 2 nodes',
}
const systems = []
const rates = []
const byKey = new Map()
for (const r of runs) {
  const rate = r.scenario.rate_msgs_per_s
  const sys = r.label.slice(0, r.label.length - String(rate).length - 1)
  if (!systems.includes(sys)) systems.push(sys)
  if (!rates.includes(rate)) rates.push(rate)
  byKey.set(`${sys}@${rate}`, r)
}
rates.sort((a, b) => a - b)

const ms = (x) => (x == null ? '?' : x >= 1000 ? `${(x / 1000).toFixed(1)} s` : x >= 10 ? x.toFixed(0) : x.toFixed(1))
function cell(r) {
  if (!r) return 'not run'
  if (r.aborted) return `aborted (${r.aborted})`
  const l = r.latency_ms || {}
  const d = r.deliveries || {}
  const lat = `${ms(l.p50)} / ${ms(l.p99)}`
  const sentPct = r.messages.target ? (100 * r.messages.sent) / r.messages.target : 100
  const short = sentPct < 99 ? `, ${sentPct.toFixed(0)} % of the rate sent` : ''
  return d.lost ? `${d.loss_pct.toFixed(1)} % not delivered, ${lat}${short}` : `${lat}${short}`
}
const cpu = (r, g) => {
  const v = r?.cpu_send_window?.by_group_pct_of_one_core?.[g]
  return v == null ? '—' : v.toFixed(0)
}

const out = []
out.push('p50 / p99 latency in ms (send to `message:new` at every member), "not delivered" = not received within the drain:')
out.push('')
out.push(`| msg/s | ${systems.map((s) => NAMES[s] || s).join(' | ')} |`)
out.push(`|---|${systems.map(() => '---').join('|')}|`)
for (const rate of rates) {
  out.push(`| ${rate.toLocaleString('en')} | ${systems.map((s) => cell(byKey.get(`${s}@${rate}`))).join(' | ')} |`)
}
out.push('')
out.push('CPU during the send window, % of one core (server processes / PostgreSQL / Redis / load generator):')
out.push('')
out.push(`| msg/s | ${systems.map((s) => NAMES[s] || s).join(' | ')} |`)
out.push(`|---|${systems.map(() => '---').join('|')}|`)
for (const rate of rates) {
  const cells = systems.map((s) => {
    const r = byKey.get(`${s}@${rate}`)
    return r ? `${cpu(r, 'server')} / ${cpu(r, 'postgres')} / ${cpu(r, 'redis')} / ${cpu(r, 'loadgen')}` : 'not run'
  })
  out.push(`| ${rate.toLocaleString('en')} | ${cells.join(' | ')} |`)
}
out.push('')
const rss = systems.map((s) => {
  const r = byKey.get(`${s}@${rates[0]}`)
  const v = r?.server?.rss_mb?.end
  return `${NAMES[s] || s} ${v == null ? '?' : v} MB`
})
out.push(`Server RSS at the end of the ${rates[0]} msg/s step (all nodes together): ${rss.join(', ')}.`)
console.log(out.join('\n'))
