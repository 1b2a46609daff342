import { formatTable } from './harness.js';
import { CLIENT_CPU, type Pinning, SERVER_CPU } from './server-pinning.js';

export type Row = Record<string, string | number>;

/** How the benchmark ran, for the report's method section. */
export interface ServerMethod {
  /** wrk's version when it drove the 4 KiB cells; undefined when the Node client did. */
  wrk: string | undefined;
  wrkSeconds: number;
  pinning: Pinning;
  rounds: number;
  seconds: number;
  loadBefore: string | undefined;
  loadAfter: string | undefined;
}

export interface ServerResults {
  rows: Row[];
  ratioRows: Row[];
  cpuRows: Row[];
  verdicts: string[];
}

/** The body of docs/benchmarks/server.md. */
export function serverReport(method: ServerMethod, results: ServerResults): string {
  return `
4 KiB PUT and GET (ops/s) at concurrency 1, 16 and 64, 4 KiB PUTs that replace existing keys at
concurrency 16, and a 256 MiB PUT and GET (MB/s, MiB per second), against servers on 127.0.0.1,
each in its own process:

- **ours**: \`startServer\` over a \`FileStore\` in a temp dir (\`bucketdb server --data DIR\`): SigV4
  checked, every write durable before the answer. A small body (declared length ≤ 1 MiB) is
  written with its header in one write to a temp file opened \`O_DSYNC\`; larger ones stream,
  then \`fdatasync\`. A new key is committed by \`link\` (no lock), an existing one by \`rename\`
  under the key's lock; then an fsync of the directory, shared by concurrent writers. A GET opens
  the file and reads its header and first 16 KiB with blocking calls, which hold all of a small
  object (docs/design/file-store.md).
- **s3rver**: npm \`s3rver\`, the usual JavaScript fake. It never fsyncs.
- **bare-sigv4**: the ceiling, a \`node:http\` handler that verifies SigV4 with the server's own
  \`authenticate\` and then does the same durable file work as ours with the same shortcuts (one
  \`O_DSYNC\` write for a small body, \`fdatasync\` for a streamed one, rename, the shared directory
  fsync; a GET of a small object answered by a blocking open and one 16 KiB read) and nothing
  else: no routing, no other checks, no metadata. **bare-sigv4-nosync**: the same without any
  fsync, the ceiling for ours-nosync.
- **ours-nosync**: ours over a FileStore that does not fsync (\`bucketdb server --no-fsync\`; a
  write survives the server being killed, not a power loss), which then also writes small objects
  with blocking calls: the durability s3rver offers, so the fair comparison with s3rver.
  **ours-memory**: ours over a MemoryStore, what HTTP, routing and SigV4 cost without any file work.

${wrap(clientText(method))}

${wrap(pinningText(method.pinning))}

${wrap(runText(method))}

Run: \`npx tsx packages/bench/src/server.ts\` (\`BENCH_SECONDS\`, \`BENCH_ROUNDS\`; \`BENCH_PIN=0\`
for no pinning).

${formatTable(results.rows)}

${formatTable(results.ratioRows)}

Server CPU time per small-object operation (µs, user + system of the server process, threads
included, over the measured requests; median of the runs). It usually moves less with the
machine's load than the rates do:

${formatTable(results.cpuRows)}

Targets:

${results.verdicts.map((line) => `- ${line}`).join('\n')}

What stands between ours and the targets it misses, from V8 profiles of the measured seconds
(\`BENCH_CELLS\`, \`BENCH_PROFILE\`): docs/design/server.md, "Performance".
`;
}

const NODE_CLIENT = `node:http with a keep-alive agent, every request signed by the AWS SDK's
SigV4 signer with \`UNSIGNED-PAYLOAD\` (the full SDK client costs a few milliseconds of CPU per
request, which on this machine capped every server alike at a few hundred ops/s)`;

const SDK_COLUMN = `The last column is ours through the full SDK with its default settings:
aws-chunked framing with a CRC32 trailer, which the server verifies.`;

function clientText({ wrk, wrkSeconds }: ServerMethod): string {
  if (!wrk) {
    return `**wrk was not installed** (\`apt-get install wrk\`), so every cell used a Node client:
${NODE_CLIENT}. That client spends about as much CPU per request as the servers do, so the 4 KiB
rates partly measure the client. ${SDK_COLUMN}`;
  }
  return `The 4 KiB cells are driven by wrk (C, epoll; about 3 µs of user CPU per request; here
\`${wrk}\`), one thread with 1, 16 or 64 connections, ${wrkSeconds} s per run. wrk cannot sign, so it sends
presigned URLs in turn (SigV4 query authentication with \`UNSIGNED-PAYLOAD\`, signed by the AWS
SDK's signer just before the run): every server, the ceilings included, checks a signature on
every request. PUTs of new keys get enough distinct URLs that no key is written twice in a run (sized
from the rate of the previous run of the cell); overwrites replace, and GETs read, 1000 existing
4 KiB objects. The first round of each cell starts with a 1 s warm-up run that is not counted. A
run in which any request failed (an answer outside 2xx, a socket error, a timeout) stops the
benchmark: no rate of failed requests is reported.

The 256 MiB cells use a Node client: ${NODE_CLIENT}. ${SDK_COLUMN}`;
}

function pinningText(pinning: Pinning): string {
  return pinning.enabled
    ? `CPU pinning (${pinning.reason}): each server process, all its threads included, runs on
CPU ${SERVER_CPU} alone, and the client (wrk, and the benchmark process with its Node client) on
CPU ${CLIENT_CPU}, so every server gets exactly one core and the client never takes CPU from it.`
    : `No CPU pinning (${pinning.reason}): client and server share the cores, so a server that
needs less CPU leaves more to the client, and the rates measure both.`;
}

function runText(method: ServerMethod): string {
  const small = method.wrk ? `${method.wrkSeconds} s` : `about ${method.seconds} s`;
  return `Each number is the median of ${method.rounds} runs (${small} for 4 KiB, one transfer for
256 MiB), the servers taking turns run by run. Load average ${method.loadBefore} when the run
started and ${method.loadAfter} when it ended, on a machine shared with other work: compare
numbers within one run only.`;
}

/** Fills prose paragraphs (blank-line separated) to `width` columns, as the rest of the report is. */
function wrap(text: string, width = 100): string {
  return text
    .split(/\n\s*\n/)
    .map((paragraph) => {
      const lines: string[] = [];
      for (const word of paragraph.trim().split(/\s+/)) {
        const last = lines.length - 1;
        if (last >= 0 && (lines[last] as string).length + 1 + word.length <= width) lines[last] += ` ${word}`;
        else lines.push(word);
      }
      return lines.join('\n');
    })
    .join('\n\n');
}
