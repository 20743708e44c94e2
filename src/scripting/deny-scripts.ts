/**
 * DEBUG SET-DISABLE-DENY-SCRIPTS: Redis's testing knob that lets scripts run commands flagged
 * noscript (CLIENT LIST, DEBUG PROTOCOL), which test suites use to drive a script from outside.
 * Process-wide, as Redis's server field is.
 */
let denyScriptsDisabled = false;

export function setDenyScriptsDisabled(disabled: boolean): void {
  denyScriptsDisabled = disabled;
}

export function scriptsMayRunNoscript(): boolean {
  return denyScriptsDisabled;
}
