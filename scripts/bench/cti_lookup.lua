-- wrk script for the screen pop: GET /api/v1/cti/lookup?phone=... with the
-- stored numbers of many customers (FILE: one normalised number a line, e.g.
-- from `shouhou bench-sql keys`), each request writing the number another way
-- a telephone system or an agent would: +86 and 0086 prefixes, spaces,
-- dashes, brackets around the area code, extensions ("转 8", "ext. 8").
-- wrk's "Non-2xx or 3xx responses" line counts numbers the server refused.
-- Usage: wrk ... -s scripts/bench/cti_lookup.lua URL -- FILE
local nums, i, k = {}, 0, 0

local function esc(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function formats(n)
  if #n == 11 and n:sub(1, 1) == "1" then
    return { n, "+86 " .. n:sub(1, 3) .. " " .. n:sub(4, 7) .. " " .. n:sub(8),
             n:sub(1, 3) .. "-" .. n:sub(4, 7) .. "-" .. n:sub(8), "0086" .. n, "+86-" .. n }
  elseif n:sub(1, 1) == "0" and #n >= 10 then
    local a = (n:sub(2, 2) == "1" or n:sub(2, 2) == "2") and 3 or 4
    local area, loc = n:sub(1, a), n:sub(a + 1)
    local h = math.floor(#loc / 2)
    return { area .. "-" .. loc, "(" .. area .. ") " .. loc:sub(1, h) .. "-" .. loc:sub(h + 1),
             "+86 " .. area:sub(2) .. " " .. loc, area .. loc .. " 转 8", area .. "-" .. loc .. " ext. 12" }
  end
  return { n }
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then nums[#nums + 1] = formats(line) end
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  i = math.random(#nums)
end

function request()
  i = i % #nums + 1
  k = k + 1
  local f = nums[i]
  return wrk.format(nil, "/api/v1/cti/lookup?phone=" .. esc(f[k % #f + 1]))
end
