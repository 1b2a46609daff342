import { runDotCommand } from './dot-commands.js';
import type { Session } from './session.js';

/**
 * Feeds SQL text to a session line by line: dot-commands at statement boundaries, statements as
 * soon as they are complete. Keeps an unfinished statement for the next `feed`.
 */
export class ScriptFeeder {
  readonly #session: Session;
  #buffer = '';
  quit = false;

  constructor(session: Session) {
    this.#session = session;
  }

  /** True while a statement has begun but not ended (the REPL shows a continuation prompt). */
  get pending(): boolean {
    return this.#buffer.trim() !== '';
  }

  clear(): void {
    this.#buffer = '';
  }

  /** Runs what `line` completes; throws the first error (the rest of the line is dropped). */
  async feed(line: string): Promise<void> {
    if (!this.pending && line.trimStart().startsWith('.')) {
      const result = await runDotCommand(this.#session, line, (sql) => this.#nested(sql));
      if (result === 'quit') this.quit = true;
      return;
    }
    this.#buffer += `${line}\n`;
    const { statements, rest } = this.#session.splitter.split(this.#buffer);
    this.#buffer = rest.trim() === '' ? '' : rest;
    try {
      for (const sql of statements) await this.#session.execute(sql);
    } catch (error) {
      this.#buffer = '';
      throw error;
    }
  }

  /** Runs whatever is left (a last statement without its `;`). */
  async finish(): Promise<void> {
    const rest = this.#buffer.trim();
    this.#buffer = '';
    if (rest !== '') await this.#session.execute(rest);
  }

  /** Runs a whole script: every line, then the remainder. */
  async run(text: string): Promise<void> {
    for (const line of text.split(/\r?\n/)) {
      if (this.quit) return;
      await this.feed(line);
    }
    await this.finish();
  }

  async #nested(text: string): Promise<void> {
    await new ScriptFeeder(this.#session).run(text);
  }
}
