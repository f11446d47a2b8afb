-- wrk script for bench/create_rate.py: POST realistic tickets to /api/v1/tickets.
--   wrk -s bench/create_rate.lua URL -- EMAILS_FILE TAGS_FILE NEW_SHARE SEED [BULK]
-- With BULK > 1 each request opens BULK tickets through POST /api/v1/tickets/bulk.
-- The payloads follow bench/create_rate.py's Payloads: mostly existing customers by email,
-- some new addresses, a greeting and 1-3 paragraphs, realistic channels, priorities and tags.
-- wrk is the load generator because it costs ~0.1 ms of CPU per request; the Python client
-- cost ~2 ms, on the same two cores as the server it measures.

local subjects = {
  "Cannot sign in since the last update", "Invoice %d charged twice", "Export to CSV times out",
  "Order %d has not arrived", "How do I add a second admin?", "App crashes when I upload a photo",
  "Refund for order %d", "Password reset email never arrives", "Feature request: dark mode on mobile",
  "Sync between phone and laptop stopped", "Wrong VAT number on invoice %d", "Two-factor codes rejected",
}
local sentences = {
  "Since this morning nothing works the way it did yesterday.",
  "I have already tried restarting the app and clearing the cache.",
  "Our whole team is blocked until this is fixed, so please treat it as urgent.",
  "The error message says something about a timeout, then the page goes blank.",
  "I attached nothing because the upload fails as well.",
  "Could you also tell me whether this affects our other workspace?",
  "My account number is in the signature below.",
  "We are on the business plan and renewed last month.",
  "This happened once before and your colleague fixed it within the hour.",
  "Thanks in advance for looking into it.",
}
local channels = { "email", "email", "email", "email", "email", "phone", "phone", "chat", "chat",
                   "web_form", "in_app", "social" }
local priorities = { 1, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4 }

local emails, tags = {}, {}
local new_share = 0.2
bulk = 1  -- global: done() reads it from a thread (thread:get sees globals only)
local counter = 0
local thread_tag = ""

local threads = {}
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_number", next_thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then emails[#emails + 1] = line end
  end
  for line in io.lines(args[2]) do
    if #line > 0 then tags[#tags + 1] = line end
  end
  new_share = tonumber(args[3]) or 0.2
  bulk = tonumber(args[5]) or 1
  math.randomseed((tonumber(args[4]) or 1) * 1000 + thread_number)
  thread_tag = tostring(thread_number) .. "x" .. tostring(os.time())
end

local function pick(list) return list[math.random(#list)] end

local function sample(list, k)
  local copy, out = {}, {}
  for i = 1, #list do copy[i] = list[i] end
  for i = 1, math.min(k, #copy) do
    local j = math.random(i, #copy)
    copy[i], copy[j] = copy[j], copy[i]
    out[#out + 1] = copy[i]
  end
  return out
end

local function quoted(list)
  local out = {}
  for i, value in ipairs(list) do out[i] = '"' .. value .. '"' end
  return table.concat(out, ",")
end

local function ticket()
  counter = counter + 1
  local paragraphs = {}
  for p = 1, math.random(1, 3) do
    paragraphs[p] = table.concat(sample(sentences, math.random(2, 5)), " ")
  end
  local body = "Hello,\\n\\n" .. table.concat(paragraphs, "\\n\\n") .. "\\n\\nBest regards"
  local requester
  if #emails == 0 or math.random() < new_share then
    local n = thread_tag .. "n" .. counter
    requester = '"requester_email":"wrk' .. n .. '@create-rate.bench.example","requester_name":"New Customer ' .. n .. '"'
  else
    requester = '"requester_email":"' .. pick(emails) .. '"'
  end
  local fields = {
    '"subject":"' .. string.format(pick(subjects), math.random(10000, 99999)) .. '"',
    '"body":"' .. body .. '"',
    requester,
    '"channel":"' .. pick(channels) .. '"',
    '"priority":' .. pick(priorities),
  }
  if #tags > 0 and math.random() < 0.6 then
    fields[#fields + 1] = '"tags":[' .. quoted(sample(tags, math.random(1, 2))) .. ']'
  end
  return "{" .. table.concat(fields, ",") .. "}"
end

function request()
  -- wrk.format uses only the headers it is given: add the ones from -H (the token).
  local headers = { ["Content-Type"] = "application/json" }
  for name, value in pairs(wrk.headers) do headers[name] = value end
  if bulk <= 1 then
    return wrk.format("POST", "/api/v1/tickets", headers, ticket())
  end
  local list = {}
  for i = 1, bulk do list[i] = ticket() end
  return wrk.format("POST", "/api/v1/tickets/bulk", headers, '{"tickets":[' .. table.concat(list, ",") .. "]}")
end

statuses = {}

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status ~= 201 and not first_error then
    first_error = tostring(status) .. ": " .. string.sub(body, 1, 300)
  end
end

function done(summary, latency, requests)
  local created, totals, others, first = 0, {}, {}, ""
  -- init() ran in each thread's own Lua state: ask a thread how many tickets a request holds.
  local per_request = (threads[1] and threads[1]:get("bulk")) or 1
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + count
    end
    local err = thread:get("first_error")
    if err and first == "" then first = err end
  end
  for status, count in pairs(totals) do
    if status == 201 then created = count * per_request else others[#others + 1] = '"' .. status .. '":' .. count end
  end
  first = first:gsub('[%c"\\]', " ")
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"created":%d,"seconds":%.3f,"socket_errors":%d,"statuses":{%s},' ..
    '"p50_ms":%.2f,"p95_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"first_error":"%s"}\n',
    summary.requests, created, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(others, ","), latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, first))
end
