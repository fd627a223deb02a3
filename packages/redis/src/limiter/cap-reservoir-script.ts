import type { Cluster, Redis } from 'ioredis';

/** Sets a bucket's reservoir to min(current, ceiling) after the refills due; see `SharedLimiterStore.capReservoir`. */
const CAP_RESERVOIR_SCRIPT = `
local settings = redis.call('hmget', KEYS[1], 'reservoir', 'reservoirIncreaseInterval',
  'reservoirIncreaseAmount', 'reservoirIncreaseMaximum', 'lastReservoirIncrease')
local reservoir = tonumber(settings[1])
if reservoir == nil then return nil end
local ceiling = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local interval = tonumber(settings[2])
local amount = tonumber(settings[3])
local maximum = tonumber(settings[4])
local last = tonumber(settings[5])
-- The refills bottleneck would add on its next tick, added the same way, so the cap applies to what the bucket holds now.
if interval ~= nil and amount ~= nil and last ~= nil and now >= last + interval then
  local intervals = math.floor((now - last) / interval)
  local increase = amount * intervals
  if maximum ~= nil then increase = math.min(increase, maximum - reservoir) end
  if increase > 0 then reservoir = reservoir + increase end
  redis.call('hset', KEYS[1], 'lastReservoirIncrease', last + intervals * interval)
end
if ceiling < reservoir then reservoir = ceiling end
redis.call('hset', KEYS[1], 'reservoir', reservoir)
return reservoir
`;

type CapReservoirCommand = (key: string, ceiling: number, nowMs: number) => Promise<number | null>;

/** The cap as one Lua script on the bucket's settings hash (bottleneck's key `b_<id>_settings`). */
export function defineCapReservoir(
  client: Redis | Cluster,
): (limiterId: string, ceiling: number) => Promise<number | null> {
  client.defineCommand('tollgateCapReservoir', { numberOfKeys: 1, lua: CAP_RESERVOIR_SCRIPT });
  const command = (
    client as unknown as { tollgateCapReservoir: CapReservoirCommand }
  ).tollgateCapReservoir.bind(client);
  return (limiterId, ceiling) => {
    if (!Number.isSafeInteger(ceiling)) {
      // HINCRBY in bottleneck's scripts needs a whole reservoir.
      return Promise.reject(new TypeError(`a reservoir ceiling must be a whole number, got ${ceiling}`));
    }
    // bottleneck stamps its scripts with the client's clock, so this one does too.
    return command(`b_${limiterId}_settings`, ceiling, Date.now());
  };
}
