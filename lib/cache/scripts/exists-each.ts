import { LuaScript } from '../lua-script'

/** Which of KEYS exist, as 1 or 0 each: EXISTS k1 k2 only counts them. */
export const EXISTS_EACH_SCRIPT = new LuaScript(
  'exists-each',
  `#!lua flags=no-writes,allow-oom
local found = {}
for i, key in ipairs(KEYS) do found[i] = redis.call('EXISTS', key) end
return found
`,
)
