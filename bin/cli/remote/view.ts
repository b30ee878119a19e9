/**
 * Shows the progress model while an execution runs: redrawn in place on a terminal, and on a pipe each line once
 * (a line is printed again only when it changes), so logs stay readable.
 */
import type { Output } from '../output.js';
import type { ProgressModel } from './history.js';
import { renderProgress } from './render.js';

export interface ProgressView {
  update(model: ProgressModel): void;
  /** Leaves the last frame on screen. */
  end(): void;
}

/** `write` is the terminal's stderr: redrawing many lines needs cursor movement that Output's one status line lacks. */
export function terminalView(write: (s: string) => void): ProgressView {
  let drawn = 0;
  return {
    update(model) {
      const lines = renderProgress(model);
      const up = drawn > 0 ? `\x1b[${drawn}F` : '';
      write(`${up}${lines.map((l) => `\x1b[2K${l}\n`).join('')}\x1b[0J`);
      drawn = lines.length;
    },
    end() {
      drawn = 0;
    },
  };
}

export function plainView(out: Output): ProgressView {
  const printed = new Set<string>();
  return {
    update(model) {
      for (const l of renderProgress(model)) {
        if (printed.has(l)) continue;
        printed.add(l);
        out.info(l);
      }
    },
    end() {},
  };
}
