-- SPDX-License-Identifier: Apache-2.0
-- wrk script for bench/server/load_test.py --client wrk: POST /embed, one request body per
-- line of the file given after `--` (JSON bodies the load test writes), taken in turn.
local bodies = {}
local next_body = 0

function init(args)
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
end

function request()
  next_body = next_body % #bodies + 1
  return wrk.format("POST", "/embed", { ["Content-Type"] = "application/json" }, bodies[next_body])
end
