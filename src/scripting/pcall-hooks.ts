import { lua, type LuaJsFunction, type LuaState } from './fengari-api.js';

/** What the fix below reaches inside a fengari state (fields of its lua_State and CallInfo). */
interface FengariState {
  allowhook: number;
  ci: { callstatus: number };
}

/** CallInfo bit holding the caller's 'allowhook' across a yieldable pcall (lstate.js CIST_OAH). */
const CIST_OAH = 1;

/**
 * fengari 0.1.5's lua_pcallk keeps the caller's 'allowhook' in its CallInfo with
 * `callstatus &= ~CIST_OAH | allowhook`, which can clear the bit but never set it (Lua's setoah
 * assigns it). A yieldable pcall (every pcall of a script, which runs in a coroutine) that catches
 * an error restores 'allowhook' from that bit: 0, so the run's count hook never fired again. The
 * busy-script yield and SCRIPT KILL both work through that hook, so a script that caught one error
 * (pcall(error), or the kill error itself) and then looped could not be stopped and held the event
 * loop for good. pcall and xpcall are wrapped to set the bit first, as Lua's setoah would.
 */
export function keepHooksThroughPcall(L: LuaState): void {
  for (const name of ['pcall', 'xpcall']) {
    lua.lua_getglobal(L, name);
    const library: LuaJsFunction | null = lua.lua_tocfunction(L, -1);
    lua.lua_pop(L, 1);
    if (library === null) throw new Error(`the Lua base library has no ${name}`);
    lua.lua_pushjsfunction(L, (L2) => {
      // Runs in the wrapper's own CallInfo, which the library function then uses as its own.
      const state = L2 as unknown as FengariState;
      if (state.allowhook) state.ci.callstatus |= CIST_OAH;
      return library(L2);
    });
    lua.lua_setglobal(L, name);
  }
}
