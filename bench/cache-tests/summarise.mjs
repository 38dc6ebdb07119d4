// Results of cache-tests runs by kind, with the required and set-up failures listed (LIST=1).
// Run from the suite's directory: node cdn-summarise.mjs RESULTS.json...
import fs from 'fs'
import tests from './tests/index.mjs'
import { determineTestResult, resultTypes } from './test-engine/lib/results.mjs'

const names = Object.fromEntries(Object.entries(resultTypes).map(([k, v]) => [v[2], k]))
for (const file of process.argv.slice(2)) {
  const results = JSON.parse(fs.readFileSync(file, 'utf8'))
  const counts = {}
  const failed = []
  for (const suite of tests) {
    for (const t of suite.tests) {
      const n = names[determineTestResult(tests, t.id, results)[2]]
      counts[n] = (counts[n] || 0) + 1
      if (n === 'fail' || n === 'setup_fail' || n === 'harness_fail') failed.push(`  ${n}: ${t.id}`)
    }
  }
  console.log(file, JSON.stringify(counts))
  if (process.env.LIST && failed.length) console.log(failed.join('\n'))
}
