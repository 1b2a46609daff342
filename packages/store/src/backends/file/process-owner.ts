import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Names the current process in lock and temp-file names: `<pid>.<token>`. The token tells this
 * process apart from an earlier, dead one that had the same pid.
 */
const TOKEN = randomBytes(6).toString('hex');
export const OWNER = `${process.pid}.${TOKEN}`;

/** Whether the process named by `owner` (from OWNER) has certainly exited. */
export function isOwnerDead(owner: string): boolean {
  const match = /^(\d+)\.([0-9a-f]+)/.exec(owner);
  if (!match) return true; // not written by bucketdb: nobody will ever release it
  const pid = Number(match[1]);
  if (pid === process.pid) return match[2] !== TOKEN;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  return isZombie(pid);
}

/** On Linux, an exited process its parent has not yet reaped still answers kill(pid, 0). */
function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}
