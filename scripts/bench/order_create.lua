-- wrk script: POST /api/v1/service-orders, a repair order for a serial read
-- from FILE (the asset's owner becomes the customer), as the call centre does.
-- Usage: wrk ... -s scripts/bench/order_create.lua URL -- FILE
local keys, i = {}, 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then keys[#keys + 1] = line end
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  i = math.random(#keys)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  i = i % #keys + 1
  local body = '{"type":"repair","serial":"' .. keys[i] .. '",' ..
    '"contact":{"name":"压测用户","phone":"13800138000"},' ..
    '"site":{"address":"压测路1号","county_code":"310104"},' ..
    '"problem_area":"不制冷","description":"压测工单：开机半小时仍不制冷"}'
  return wrk.format("POST", "/api/v1/service-orders", nil, body)
end
