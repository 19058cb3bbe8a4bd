/**
 * Progress of a long command on stderr: a bar redrawn in place on a terminal, and plain lines
 * otherwise (a log file or CI output gets readable lines, not carriage returns).
 */
export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export function createProgress(sink: ProgressSink, total: number, unit: string) {
  const tty = sink.isTTY === true;
  let lastLine = '';
  return {
    update(done: number, note: string): void {
      if (tty) {
        const width = Math.max(10, Math.min(40, (sink.columns ?? 80) - 60));
        const filled = total === 0 ? width : Math.round((done / total) * width);
        const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${unit} ${note}`;
        sink.write(`\r${line}${' '.repeat(Math.max(0, lastLine.length - line.length))}`);
        lastLine = line;
      } else {
        sink.write(`${done}/${total} ${unit} ${note}\n`);
      }
    },
    /** Ends the bar's line, so what is printed next starts on its own. */
    finish(): void {
      if (tty && lastLine) sink.write('\n');
    },
  };
}
