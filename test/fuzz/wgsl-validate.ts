/**
 * Dawn's shader validation of generated WGSL: each distinct module is created once on the
 * device, and its compilation messages and the validation error scope are collected together.
 */
import { requestDevice } from '../../src/runtime/index.js';

export class WgslValidator {
  private readonly seen = new Set<string>();
  private pending: { code: string; owner: string }[] = [];
  validated = 0;

  /** Queues `code` (found in the program `owner` describes: its seed on the first line, then its text) unless it was already validated. */
  add(code: string, owner: string): void {
    if (this.seen.has(code)) return;
    this.seen.add(code);
    this.pending.push({ code, owner });
  }

  get queued(): number {
    return this.pending.length;
  }

  /** Validates everything queued; returns one problem per module Dawn rejects. */
  async flush(): Promise<string[]> {
    const batch = this.pending;
    this.pending = [];
    if (!batch.length) return [];
    const device = await requestDevice();
    const problems: string[] = [];
    await Promise.all(
      batch.map(async ({ code, owner }) => {
        device.pushErrorScope('validation');
        const module = device.createShaderModule({ code });
        const [info, scope] = await Promise.all([module.getCompilationInfo(), device.popErrorScope()]);
        const errors = info.messages.filter((m) => m.type === 'error');
        if (errors.length || scope) {
          const why =
            errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ') || scope!.message;
          problems.push(`${owner.split('\n')[0]}: invalid WGSL (${why})\n${owner}\n--- wgsl ---\n${code}`);
        }
      }),
    );
    this.validated += batch.length;
    return problems;
  }
}
