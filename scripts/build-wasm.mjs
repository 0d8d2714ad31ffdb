// Assembles src/memory/vector-scan.wat into src/memory/vector-scan-wasm.ts (the bytes as base64), so the app
// and the tests need no WebAssembly toolchain. Run after editing the .wat: `node scripts/build-wasm.mjs`;
// `--check` fails when the committed module is stale (the unit tests run it).
import { readFileSync, writeFileSync } from 'node:fs';
import wabt from 'wabt';

const SOURCE = 'src/memory/vector-scan.wat';
const TARGET = 'src/memory/vector-scan-wasm.ts';

const { parseWat } = await wabt();
const module = parseWat(SOURCE, readFileSync(SOURCE, 'utf8'), { simd: true });
const { buffer } = module.toBinary({});
module.destroy();
const text = `// Generated from vector-scan.wat by scripts/build-wasm.mjs: do not edit.\nexport const VECTOR_SCAN_WASM = '${Buffer.from(buffer).toString('base64')}';\n`;
if (process.argv.includes('--check')) {
  if (readFileSync(TARGET, 'utf8') !== text) {
    console.error(`${TARGET} is stale: run node scripts/build-wasm.mjs`);
    process.exit(1);
  }
} else {
  writeFileSync(TARGET, text);
  console.log(`${TARGET}: ${buffer.length} bytes`);
}
