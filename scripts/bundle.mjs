// Second half of `npm run build`: bundles the server entry that tsc wrote (dist/src/cli.js) into one
// ES module, dist/bundle/ringkv.js, with a source map back to src/*.ts. A node started from it has
// Node's ESM loader resolve, read and compile one file of ours instead of ~280, the largest part
// of its start-up (docs/decisions.md, "Nodes start from one bundled file"). Bundling the tsc
// output rather than src/*.ts keeps one compiler's JavaScript for both entries.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url);
const out = new URL('dist/bundle/', root);

// Left to Node at run time, loaded from node_modules as before:
// - lmdb and xxhash-addon load native addons from paths they compute from their own location;
// - msgpackr is also lmdb's: bundling a second copy would load it twice.
// fengari, pino-pretty and sorted-btree need no entry: src loads them through createRequire, which
// esbuild does not follow.
const EXTERNAL = ['lmdb', 'xxhash-addon', 'msgpackr'];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  absWorkingDir: fileURLToPath(root),
  entryPoints: ['dist/src/cli.js'],
  outfile: 'dist/bundle/ringkv.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: EXTERNAL,
  // CommonJS packages in the bundle (pino, ioredis, prom-client) call require() for Node's own
  // modules; an ES module has none, so give it one.
  banner: { js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);" },
  // Composed with tsc's maps, so positions lead to src/*.ts; the sources themselves stay out (a
  // smaller map to read when a node runs with --enable-source-maps).
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
});
// command-docs.ts reads this beside the module that runs it (new URL('./command-docs.json', import.meta.url)).
copyFileSync(new URL('dist/src/commands/command-docs.json', root), new URL('command-docs.json', out));
// command-info-redis.ts reads this one the same way.
copyFileSync(new URL('dist/src/commands/command-info.json', root), new URL('command-info.json', out));
