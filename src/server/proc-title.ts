/**
 * The process title `ps` shows, from `proc-title-template` as Redis 7.0 expands it: `{name}` takes
 * a variable (title, listen-addr, server-mode, config-file, port, tls-port, unixsocket), `{{` is a
 * literal brace; an unknown name or an unclosed brace makes the template invalid. Pure.
 */
import type { Config } from '../core/config.js';

export type ProcTitleVars = Readonly<Record<'title' | 'listen-addr' | 'server-mode' | 'config-file' | 'port' | 'tls-port' | 'unixsocket', string>>;

export function expandProcTitle(template: string, vars: ProcTitleVars): string | undefined {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, open);
    if (open + 1 >= template.length) return undefined;
    if (template[open + 1] === '{') {
      out += '{';
      i = open + 2;
      continue;
    }
    const close = template.indexOf('}', open + 1);
    if (close < 0) return undefined;
    const name = template.slice(open + 1, close);
    if (!Object.hasOwn(vars, name)) return undefined;
    out += vars[name as keyof ProcTitleVars];
    i = close + 1;
  }
  return out.replace(/^ +| +$/g, '');
}

/** The setting's check: a template that expands, and to something. */
export function normalizeProcTitleTemplate(raw: string): string {
  const sample: ProcTitleVars = { title: 't', 'listen-addr': 'a', 'server-mode': 'm', 'config-file': 'f', port: 'p', 'tls-port': 's', unixsocket: 'u' };
  const expanded = expandProcTitle(raw, sample);
  if (expanded === undefined || expanded === '') throw new Error('template format is invalid or contains unknown variables');
  return raw;
}

/** Sets this process's title from the settings, and again whenever proc-title-template changes. */
export function followProcTitle(config: Config): void {
  const bind = config.str('bind').split(/\s+/).find(Boolean)?.replace(/^-/, '') ?? '*';
  const port = config.int('port') || config.int('tls-port');
  const apply = (): void => {
    const title = expandProcTitle(config.str('proc-title-template'), {
      title: 'ringkv', 'listen-addr': port > 0 ? `${bind}:${port}` : `unixsocket:${config.str('unixsocket')}`,
      'server-mode': config.bool('cluster-enabled') ? '[cluster]' : '', 'config-file': config.file ?? '-',
      port: config.str('port'), 'tls-port': config.str('tls-port'), unixsocket: config.str('unixsocket'),
    });
    if (title !== undefined) process.title = title;
  };
  apply();
  config.onChange((name) => {
    if (name === 'proc-title-template') apply();
  });
}
