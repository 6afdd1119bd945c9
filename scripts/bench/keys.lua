-- wrk script: each request is PREFIX .. key .. SUFFIX, keys read from FILE
-- (one per line), taken in turn from a random start per thread.
-- Usage: wrk ... -s scripts/bench/keys.lua URL -- FILE PREFIX [SUFFIX]
local keys, prefix, suffix, i = {}, "", "", 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then keys[#keys + 1] = line end
  end
  prefix = args[2] or ""
  suffix = args[3] or ""
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  i = math.random(#keys)
end

function request()
  i = i % #keys + 1
  return wrk.format(nil, prefix .. keys[i] .. suffix)
end
