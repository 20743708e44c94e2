/**
 * Redis's testing knobs that DEBUG sets, kept per node (two nodes simulated in one process each
 * have their own): SET-ACTIVE-EXPIRE and PAUSE-CRON stop active expiry, SET-DISABLE-DENY-SCRIPTS
 * lets scripts run commands flagged noscript (test suites drive CLIENT LIST or DEBUG from a script).
 */
export class DebugKnobs {
  activeExpire = true;
  cronPaused = false;
  denyScriptsDisabled = false;

  /** Whether active expiry runs (neither knob stopped it). */
  get activeExpiryOn(): boolean {
    return this.activeExpire && !this.cronPaused;
  }
}
