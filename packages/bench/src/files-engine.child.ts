// The transfer engine in a process of its own, as an application runs it: long-lived, one
// S3Store, no process start per copy, a heap holding nothing else. Reads one JSON command per
// line on stdin, {"op":"upload","file","key"} or {"op":"download","key","file"}, and answers each
// on stdout with {"cpu"} (this process's CPU seconds for the copy) or {"error"}. Exits when stdin ends.
// Usage: files-engine.child.ts <endpoint>
import { createInterface } from 'node:readline';
import { downloadFile, uploadFile } from '@bucketdb/files';
import { s3 } from './files-servers.js';

interface Command {
  op: 'upload' | 'download';
  file: string;
  key: string;
}

const store = s3(process.argv[2] ?? '');
for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as Command;
  const before = process.cpuUsage();
  try {
    if (command.op === 'upload') await uploadFile(store, command.file, command.key, { resume: false });
    else await downloadFile(store, command.key, command.file, { resume: false });
    const used = process.cpuUsage(before);
    process.stdout.write(`${JSON.stringify({ cpu: (used.user + used.system) / 1e6 })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: String(error) })}\n`);
  }
}
await store.close();
