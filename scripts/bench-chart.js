'use strict'
// Draws the benchmark's markdown table as an SVG bar chart: for every scenario with a ratio to
// plain `cluster` messaging, one bar per implementation (1.0.1 beside us), 1.0 marked.
//   node scripts/bench-chart.js bench/latest.md > bench/chart.svg

const fs = require('node:fs')

/** Rows of the table that carry `(×r)` ratios: { label, ratios: [{ impl, ratio }] }. */
function parseTable(markdown) {
  const lines = markdown.split('\n').filter((line) => line.startsWith('|'))
  if (lines.length < 3) return { impls: [], rows: [] }
  const header = lines[0].split('|').slice(1, -1).map((cell) => cell.trim().replace(/`/g, ''))
  const impls = header.slice(2)
  const rows = []
  for (const line of lines.slice(2)) {
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim())
    const ratios = cells.slice(2).map((cell, i) => {
      const match = /\(×([\d.]+)\)/.exec(cell)
      return { impl: impls[i], ratio: match ? Number(match[1]) : null }
    })
    if (ratios.some((r) => r.ratio !== null)) rows.push({ label: cells[0], ratios })
  }
  return { impls, rows }
}

const COLORS = ['#9aa5b1', '#2f80ed', '#27ae60', '#f2994a']

function escape(text) {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Throughput rows (…/s) first, higher is better; then costs (CPU, time, memory), lower is better. */
function grouped(rows) {
  const throughput = rows.filter((row) => row.label.includes('/s'))
  const costs = rows.filter((row) => !row.label.includes('/s'))
  const out = []
  if (throughput.length) out.push({ heading: 'throughput: higher is better' }, ...throughput)
  if (costs.length) out.push({ heading: 'cost: lower is better' }, ...costs)
  return out
}

function render({ impls, rows: tableRows }, title) {
  const rows = grouped(tableRows)
  const labelWidth = 470
  const barArea = 360
  const barHeight = 9
  const rowHeight = impls.length * (barHeight + 2) + 8
  const top = 58
  const height = top + rows.length * rowHeight + 30
  const width = labelWidth + barArea + 70
  const max = Math.max(1.5, ...tableRows.flatMap((row) => row.ratios.map((r) => r.ratio ?? 0)))
  const x = (ratio) => labelWidth + (ratio / max) * barArea
  const out = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`)
  out.push(`<rect width="100%" height="100%" fill="white"/>`)
  out.push(`<text x="10" y="18" font-size="14" font-weight="bold">${escape(title)}</text>`)
  impls.forEach((impl, i) => {
    out.push(`<rect x="${10 + i * 200}" y="30" width="12" height="10" fill="${COLORS[i % COLORS.length]}"/>`)
    out.push(`<text x="${26 + i * 200}" y="39">${escape(impl)}</text>`)
  })
  out.push(`<line x1="${x(1)}" y1="${top - 6}" x2="${x(1)}" y2="${height - 24}" stroke="#333" stroke-dasharray="3,3"/>`)
  out.push(`<text x="${x(1) - 30}" y="${height - 10}">plain cluster = 1.0</text>`)
  rows.forEach((row, r) => {
    const y = top + r * rowHeight
    if (row.heading !== undefined) {
      out.push(`<text x="10" y="${y + rowHeight / 2 + 4}" font-weight="bold" font-style="italic">${escape(row.heading)}</text>`)
      return
    }
    out.push(`<text x="${labelWidth - 8}" y="${y + rowHeight / 2}" text-anchor="end">${escape(row.label)}</text>`)
    row.ratios.forEach(({ ratio }, i) => {
      if (ratio === null) return
      const by = y + i * (barHeight + 2)
      out.push(`<rect x="${labelWidth}" y="${by}" width="${Math.max(1, x(ratio) - labelWidth).toFixed(1)}" height="${barHeight}" fill="${COLORS[i % COLORS.length]}"/>`)
      out.push(`<text x="${(x(ratio) + 4).toFixed(1)}" y="${by + barHeight - 1}" font-size="9">×${ratio.toFixed(2)}</text>`)
    })
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

if (require.main === module) {
  const markdown = fs.readFileSync(process.argv[2] || 'bench/latest.md', 'utf8')
  const heading = /^## (.*)$/m.exec(markdown)
  process.stdout.write(render(parseTable(markdown), heading ? heading[1] : 'clusterphone benchmark'))
}

module.exports = { parseTable, render }
