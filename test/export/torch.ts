/**
 * Running the exported Python in the tests: Debian's torch under /usr/bin/python3 (installed by
 * scripts/setup-torch.sh), with the OPENBLAS_* variables of the caller's environment unset for
 * that command only. A missing torch fails the test with the set-up step to run.
 */
import { execFileSync } from 'node:child_process';

const PYTHON = '/usr/bin/python3';

export function pythonEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['OPENBLAS_CORETYPE'];
  delete env['OPENBLAS_L2_SIZE'];
  return env;
}

/** Runs `args` with /usr/bin/python3 in `cwd`; returns stdout, or throws with stderr. */
export function runPython(args: readonly string[], cwd: string, timeoutMs = 120_000): string {
  try {
    return execFileSync(PYTHON, args, { cwd, env: pythonEnv(), encoding: 'utf8', timeout: timeoutMs });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    if (/No module named 'torch'/.test(err.stderr ?? '')) {
      throw new Error(
        'torch is not installed for /usr/bin/python3: run `sh scripts/setup-torch.sh` (as root)',
      );
    }
    throw new Error(`${PYTHON} ${args.join(' ')} failed:\n${err.stdout ?? ''}\n${err.stderr ?? err.message}`);
  }
}
