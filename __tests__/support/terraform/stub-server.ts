/**
 * A long-running stub provider that Terraform attaches to instead of starting one per command:
 * Terraform's provider-debugging mode, `TF_REATTACH_PROVIDERS`. Each command otherwise starts the
 * provider 1 to 3 times (Node, TLS, schemas: about 0.2 s each), which is most of a stack's time.
 *
 * `"Test": true` tells go-plugin that the process is not Terraform's to stop; the suite stops it.
 * The server keeps the last `ConfigureProvider` settings, so one server must serve one Terraform
 * command at a time (one per lane of the suite's pool).
 */
import { ChildProcess, spawn } from 'child_process';
import { hermeticEnv } from '../hermetic-env';

/** A running stub server and the environment that makes Terraform use it. */
export interface StubServer {
  /** The value of `TF_REATTACH_PROVIDERS`. */
  readonly reattach: string;
  readonly pid: number;
  /** Stops the server (by its process ID) and waits until it has exited. */
  stop(): Promise<void>;
}

const MAGIC_COOKIE = { TF_PLUGIN_MAGIC_COOKIE: 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2' };

/** Starts the bundled stub (`bundle`) as a server for `provider` (e.g. `registry.terraform.io/hashicorp/aws`). */
export function startStubServer(bundle: string, provider: string): Promise<StubServer> {
  const child = spawn(process.execPath, [bundle], {
    env: hermeticEnv({ ...MAGIC_COOKIE, TF_STUB_AWS_SERVE: '1', PLUGIN_PROTOCOL_VERSIONS: '6' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    let stdout = '';
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const line = stdout.split('\n')[0];
      if (!stdout.includes('\n')) return;
      child.stdout?.off('data', onData);
      const [, protocolVersion, network, address] = line.split('|');
      const reattach = JSON.stringify({
        [provider]: { Protocol: 'grpc', ProtocolVersion: Number(protocolVersion), Pid: child.pid, Test: true, Addr: { Network: network, String: address } },
      });
      resolve({ reattach, pid: child.pid as number, stop: () => stop(child) });
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the stub provider server exited (${code}) before its handshake: ${stderr}`)));
    child.once('error', reject);
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
