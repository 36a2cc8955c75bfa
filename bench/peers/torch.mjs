// PyTorch peer: a long-lived `python3 bench/torch_bench.py --serve` child, driven one sample at a
// time, so that its runs interleave with Tessera's and tfjs's in the same measuring loop. It runs on
// the CPU unless TORCH_DEVICE (inherited by the child) names another device, e.g. cuda.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../torch_bench.py', import.meta.url));

/** The Python to use: $TESSERA_BENCH_PYTHON, else Debian's /usr/bin/python3 (python3-torch), else python3. */
export function pythonPath() {
  return process.env.TESSERA_BENCH_PYTHON || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

/**
 * Starts the PyTorch server. Resolves to `{ ok: true, info, impl, close }`, or `{ ok: false, why }`
 * when Python or torch (or the TORCH_DEVICE asked for) is missing (the suite then reports PyTorch
 * as absent and goes on). `info.label` is the column title, 'PyTorch CPU' or e.g. 'PyTorch CUDA';
 * off the CPU, `info.torch` (the version the results record) also names the device.
 */
export async function startTorch() {
  const py = pythonPath();
  let child;
  try {
    child = spawn(py, [SCRIPT, '--serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    return { ok: false, why: `could not start ${py}: ${e.message}` };
  }
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  let stderr = '';
  let exited = null;
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
  lines.on('line', (l) => waiting.shift()?.resolve(l));
  child.on('error', (e) => {
    exited = e.message;
    for (const w of waiting.splice(0)) w.reject(new Error(`${py}: ${e.message}`));
  });
  child.on('exit', (code) => {
    exited ??= `exited with code ${code}`;
    for (const w of waiting.splice(0)) w.reject(new Error(`${py} ${exited}: ${stderr.trim().split('\n').pop() ?? ''}`));
  });
  const call = (req) =>
    new Promise((resolve, reject) => {
      if (exited) return reject(new Error(`${py} ${exited}`));
      waiting.push({
        resolve: (l) => {
          try {
            const rep = JSON.parse(l);
            if (rep.error) reject(new Error(rep.error));
            else resolve(rep);
          } catch (e) {
            reject(new Error(`bad reply from torch_bench.py: ${l.slice(0, 200)}`));
          }
        },
        reject,
      });
      child.stdin.write(JSON.stringify(req) + '\n');
    });
  let info;
  try {
    info = await call({ cmd: 'hello' });
  } catch (e) {
    child.kill();
    return { ok: false, why: `PyTorch is not available (${py}): ${e.message}` };
  }
  const device = info.device ?? 'cpu';
  info.label = `PyTorch ${device.split(':')[0].toUpperCase()}`;
  if (device !== 'cpu') info.torch = `${info.torch} on ${device}${info.deviceName ? ` (${info.deviceName})` : ''}`;
  let n = 0;
  const impl = {
    name: 'torch',
    async setup(bench) {
      const id = `${bench.id}#${n++}`;
      await call({ cmd: 'setup', id, spec: bench.spec });
      return {
        run: async (inner) => {
          // The reply carries the time measured inside Python; the pipe round trip is excluded.
          const rep = await call({ cmd: 'run', id, inner });
          return rep.ms;
        },
        facts: async () => call({ cmd: 'facts', id }),
        dispose: () => void call({ cmd: 'dispose', id }).catch(() => {}),
        reportsOwnTime: true,
      };
    },
  };
  const close = () => {
    try {
      child.stdin.end(JSON.stringify({ cmd: 'exit' }) + '\n');
    } catch {}
  };
  return { ok: true, info, impl, close };
}
