import { appendFile, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describeError } from './exit-codes.js';
import { ScriptFeeder } from './script.js';
import type { Session } from './session.js';

const HISTORY_SIZE = 1000;

function historyFile(): string {
  return process.env.BUCKETDB_SQL_HISTORY ?? join(homedir(), '.bucketdb_sql_history');
}

async function loadHistory(path: string): Promise<string[]> {
  try {
    return (await readFile(path, 'utf8')).split('\n').filter(Boolean).slice(-HISTORY_SIZE).reverse();
  } catch {
    return [];
  }
}

/**
 * The interactive loop: `sql> ` prompts, `...> ` while a statement continues, errors printed and
 * the loop goes on. History is kept across sessions in ~/.bucketdb_sql_history
 * (BUCKETDB_SQL_HISTORY overrides it). Returns at .quit or end of input.
 */
export async function repl(
  session: Session,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<void> {
  const path = historyFile();
  const terminal = (output as { isTTY?: boolean }).isTTY === true && (input as { isTTY?: boolean }).isTTY === true;
  const rl = createInterface({ input, output, terminal, history: await loadHistory(path), historySize: HISTORY_SIZE });
  const feeder = new ScriptFeeder(session);
  const prompt = () => {
    rl.setPrompt(feeder.pending ? '   ...> ' : 'sql> ');
    rl.prompt();
  };
  rl.on('SIGINT', () => {
    feeder.clear();
    output.write('\n');
    prompt();
  });
  session.io.out(`bucketdb sql — SQLite over a bucket. Enter .help for commands, statements end with ";".`);
  prompt();
  for await (const line of rl) {
    if (line.trim() !== '') await appendFile(path, `${line.replaceAll('\n', ' ')}\n`).catch(() => {});
    try {
      await feeder.feed(line);
    } catch (error) {
      session.io.err(`Error: ${describeError(error)}`);
    }
    if (feeder.quit) break;
    prompt();
  }
  rl.close();
  if (!feeder.quit) output.write('\n');
}
