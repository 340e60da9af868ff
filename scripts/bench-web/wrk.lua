-- The wrk script of scripts/bench-web.sh. Environment:
--   FD_MODE    get | schedule | pick-up
--   FD_PATH    the path requested
--   FD_COOKIE  a Cookie header (the signed-in session), optional
--   FD_ORIGIN  http://host:port, sent as Origin: writes must come from the server's origin
--   FD_RUN     a number that gives this run's shipment ids to it alone (schedule, pick-up)
--   FD_POOL    how many shipments each thread scheduled for this run (pick-up)
--   FD_ACCEPT_ENCODING  sent as Accept-Encoding (as a browser does: "gzip, br"), optional
-- Each thread schedules, or picks up, shipments of its own: `schedule` with ids it chooses,
-- `pick-up` the same ids at version 1, so every pick-up is a real command that succeeds.
-- At the end one JSON line: requests, seconds, requests/s, p50/p99 in ms, errors, the fewest
-- commands any thread sent (the pool a following pick-up run may use) and the answers by status.

local mode = os.getenv("FD_MODE") or "get"
local path = os.getenv("FD_PATH") or "/"
local run = tonumber(os.getenv("FD_RUN") or "0")
local pool = tonumber(os.getenv("FD_POOL") or "0")

local headers = {}
if os.getenv("FD_COOKIE") then headers["Cookie"] = os.getenv("FD_COOKIE") end
if os.getenv("FD_ACCEPT_ENCODING") then headers["Accept-Encoding"] = os.getenv("FD_ACCEPT_ENCODING") end
if mode == "get" then
  headers["Accept"] = "text/html"
else
  headers["Accept"] = "application/json"
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  headers["Origin"] = os.getenv("FD_ORIGIN")
end

local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

sent = 0

local function shipment_id(i)
  return string.format("%08x-%04x-4000-8000-%012x", run, tid, i)
end

function request()
  if mode == "get" then
    return wrk.format("GET", path, headers)
  end
  local body
  if mode == "schedule" then
    body = "shipment_id=" .. shipment_id(sent)
      .. "&origin=Rotterdam&destination=Milan&pickup_at=2026-12-01T08:00"
  else
    body = "shipment_id=" .. shipment_id(sent % pool) .. "&expected_version=1"
  end
  sent = sent + 1
  return wrk.format("POST", path, headers, body)
end

-- Commands count their answers by status, so failures can be told apart (only commands: it makes
-- wrk parse every response).
statuses = {}
if mode ~= "get" then
  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local fewest = nil
  local by_status = {}
  for _, thread in ipairs(threads) do
    local n = thread:get("sent")
    if fewest == nil or n < fewest then fewest = n end
    for status, count in pairs(thread:get("statuses")) do
      by_status[status] = (by_status[status] or 0) + count
    end
  end
  local answers = {}
  for status, count in pairs(by_status) do
    table.insert(answers, string.format('"%d": %d', status, count))
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p99_ms": %.3f, '
      .. '"status_errors": %d, "socket_errors": %d, "fewest_sent": %d, "statuses": {%s}}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout, fewest or 0, table.concat(answers, ", ")))
end
