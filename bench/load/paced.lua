-- Each connection waits PACE_MS between requests, so both proxies face the same offered load
-- (connections x 1000 / (PACE_MS + latency) requests/s) and their latencies compare fairly:
-- in a closed loop the faster server also drives wrk harder, which inflates its own tail.
local pace = tonumber(os.getenv("PACE_MS") or "2")
function delay()
  return pace
end
