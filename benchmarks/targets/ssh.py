"""``ssh://user@host[:port]``: copy the runner, the bundle and the eval file, run, fetch the record.

One remote temp folder per session (``mktemp -d``), removed on close. The runner's file set
(:mod:`..payload`) and each bundle's manifest/vocab/labels plus the mode's one model file are sent
as a tar stream over the ssh connection (no scp/sftp needed on the device), each once. Every remote
argument is ``shlex.quote``-d. Before the first job the device is probed so that a refused
connection, a failed login, a missing python or a python without LiteRT each end as one clear line.
"""

from __future__ import annotations

import io
import json
import re
import shlex
import subprocess
import tarfile
from pathlib import Path

from ...contracts import LABELS_NAME, MANIFEST_NAME
from ...errors import EdgekitError
from .. import payload
from . import Job, Target, register, runner_error

_SPEC = re.compile(r"^(?:(?P<user>[^@/:]+)@)?(?P<host>\[[^\]]+\]|[^:/@]+)(?::(?P<port>\d+))?/?$")

PROBE = r"""
import sys
print("python", sys.version.split()[0])
try:
    import numpy
    print("numpy", numpy.__version__)
except Exception as exc:
    print("numpy-missing", exc)
found = None
for mod in ("ai_edge_litert.interpreter", "tflite_runtime.interpreter", "tensorflow"):
    try:
        __import__(mod)
        found = mod
        break
    except Exception:
        pass
print("runtime", found)
"""


class SshTarget(Target):
    def __init__(self, user: str | None, host: str, port: int | None = None, *, python: str = "python3",
                 identity: str | None = None, ssh_options: list[str] | None = None, timeout: float = 7200,
                 connect_timeout: int = 10) -> None:
        self.user, self.host, self.port = user, host, port
        self.python = python
        self.identity = identity
        self.extra = list(ssh_options or [])
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.spec = f"ssh://{user + '@' if user else ''}{host}{':' + str(port) if port else ''}"
        self.remote_dir: str | None = None
        self._sent: set[str] = set()
        self.info: dict = {}

    # ----------------------------------------------------------------------------------- transport
    def _ssh_argv(self) -> list[str]:
        argv = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={self.connect_timeout}",
                "-o", "ServerAliveInterval=30", "-o", "LogLevel=ERROR"]
        if self.port:
            argv += ["-p", str(self.port)]
        if self.identity:
            argv += ["-i", str(self.identity), "-o", "IdentitiesOnly=yes"]
        argv += self.extra
        argv.append(f"{self.user}@{self.host}" if self.user else self.host)
        return argv

    def _exec(self, command: str, *, stdin: bytes | None = None, timeout: float | None = None,
              what: str = "command") -> subprocess.CompletedProcess:
        """Run one remote shell command (already quoted); transport failures become clear errors."""
        try:
            proc = subprocess.run([*self._ssh_argv(), command], input=stdin, capture_output=True,
                                  timeout=timeout or self.timeout)
        except FileNotFoundError:
            raise EdgekitError("ssh client not found on this machine (install openssh-client)") from None
        except subprocess.TimeoutExpired:
            raise EdgekitError(f"{self.spec}: {what} timed out after {timeout or self.timeout:.0f}s") from None
        if proc.returncode == 255:  # ssh's own failure, not the remote command's
            raise EdgekitError(self._explain(proc.stderr.decode(errors="replace")))
        return proc

    def _explain(self, stderr: str) -> str:
        text = " ".join(stderr.split())
        low = text.lower()
        where = f"{self.host}:{self.port or 22}"
        if "connection refused" in low:
            return f"{self.spec}: connection refused by {where} (is sshd running and listening on that port?)"
        if "could not resolve" in low or "name or service not known" in low:
            return f"{self.spec}: cannot resolve host {self.host!r}"
        if "timed out" in low:
            return f"{self.spec}: connection to {where} timed out"
        if "permission denied" in low or "authentication" in low:
            return f"{self.spec}: login refused (key authentication failed for {self.user or 'the default user'})"
        if "host key verification failed" in low:
            return f"{self.spec}: host key verification failed (add the host to known_hosts or pass ssh options)"
        return f"{self.spec}: ssh failed ({text or 'no message'})"

    # ------------------------------------------------------------------------------------- session
    def check(self) -> None:
        """Connect, probe python/numpy/LiteRT, create the remote folder."""
        if self.remote_dir is not None:
            return
        py = shlex.quote(self.python)
        proc = self._exec(f"command -v {py} >/dev/null 2>&1 || exit 127; {py} - ", stdin=PROBE.encode(),
                          timeout=600, what="probe")
        out = proc.stdout.decode(errors="replace")
        if proc.returncode == 127:
            raise EdgekitError(f"{self.spec}: no python on the device ({self.python!r} not found; "
                               "pass --remote-python PATH)")
        if proc.returncode != 0:
            last = (proc.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
            raise EdgekitError(f"{self.spec}: {self.python} failed to start ({last})")
        facts = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
        if "numpy-missing" in facts:
            raise EdgekitError(f"{self.spec}: the device's python has no numpy (pip install 'edgekit[device]' "
                               "or numpy ai-edge-litert)")
        if facts.get("runtime", "None") == "None":
            raise EdgekitError(f"{self.spec}: the device's python has no TFLite runtime "
                               "(pip install ai-edge-litert; tflite-runtime is a legacy fallback)")
        self.info = facts
        proc = self._exec("mktemp -d \"${TMPDIR:-/tmp}/edgekit-bench.XXXXXX\"", timeout=120, what="mktemp")
        remote = proc.stdout.decode().strip()
        if proc.returncode != 0 or not remote.startswith("/"):
            raise EdgekitError(f"{self.spec}: cannot create a remote temp folder")
        self.remote_dir = remote

    def _send(self, files: dict[str, Path | bytes], key: str) -> None:
        """Upload ``{remote relative path: local file or its bytes}`` as one tar stream (once per key)."""
        if key in self._sent:
            return
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for rel, local in sorted(files.items()):
                if isinstance(local, bytes):
                    info = tarfile.TarInfo(rel)
                    info.size = len(local)
                    tar.addfile(info, io.BytesIO(local))
                else:
                    tar.add(str(local), arcname=rel, recursive=False)
        proc = self._exec(f"tar -C {shlex.quote(self.remote_dir)} -xf -", stdin=buf.getvalue(), what="upload")
        if proc.returncode != 0:
            last = (proc.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1]
            raise EdgekitError(f"{self.spec}: upload failed ({last})")
        self._sent.add(key)

    def _send_payload(self) -> None:
        with_dir = payload.cached(_local_cache())
        files = {str(p.relative_to(with_dir)): p for p in with_dir.rglob("*") if p.is_file()}
        self._send({f"runner/{k}": v for k, v in files.items()}, "payload")

    def _send_bundle(self, job: Job) -> str:
        from ...runtime.bundle import Bundle

        bundle = Bundle.open(job.bundle)
        entry = bundle.mode_entry(job.mode)
        name = f"{bundle.manifest['model']['name']}-{bundle.manifest['modes'][job.mode]['sha256'][:12]}"
        rel = f"bundles/{_safe(name)}"
        # a one-mode bundle: its manifest lists only the mode sent, so the device's validation holds
        manifest = json.dumps(bundle.manifest_for([job.mode]), indent=1).encode("utf-8")
        files: dict[str, Path | bytes] = {
            f"{rel}/{MANIFEST_NAME}": manifest,
            f"{rel}/{bundle.manifest['tokenizer']['vocab_file']}": bundle.path / bundle.manifest["tokenizer"]["vocab_file"],
            f"{rel}/{entry['file']}": bundle.model_file(job.mode)}
        if (bundle.path / LABELS_NAME).is_file():
            files[f"{rel}/{LABELS_NAME}"] = bundle.path / LABELS_NAME
        self._send(files, rel)
        return rel

    def _send_data(self, job: Job) -> str | None:
        if job.data is None:
            return None
        data = Path(job.data)
        if not data.is_file():
            raise EdgekitError(f"eval file not found: {data}")
        from ...fsutil import sha256_file

        rel = f"data/{sha256_file(data)[:12]}/{_safe(data.name)}"
        files = {rel: data}
        if (data.parent / "split.json").is_file():  # dataset name comes from it
            files[str(Path(rel).parent / "split.json")] = data.parent / "split.json"
        self._send(files, rel)
        return rel

    def run(self, job: Job) -> dict:
        from ...provenance import git_commit

        self.check()
        self._send_payload()
        bundle_rel = self._send_bundle(job)
        data_rel = self._send_data(job)
        args = job.runner_args(f"../{bundle_rel}", f"../{data_rel}" if data_rel else None)
        args += ["--target", self.spec, "--git-commit", git_commit()]
        command = (f"cd {shlex.quote(self.remote_dir + '/runner')} && "
                   f"{shlex.quote(self.python)} -m edgekit.benchmarks.runner " + " ".join(shlex.quote(a) for a in args))
        proc = self._exec(command, what=f"{job.mode} benchmark")
        out = proc.stdout.decode(errors="replace")
        if proc.returncode != 0:
            raise EdgekitError(runner_error(proc.stderr.decode(errors="replace") + out,
                                            f"{self.spec} {Path(job.bundle).name}/{job.mode}"))
        try:
            record = json.loads(out[out.index("{"):])
        except ValueError:
            raise EdgekitError(f"{self.spec}: the runner printed no result record") from None
        record["bundle"]["path"] = str(job.bundle)
        if job.data is not None:
            record["dataset"]["path"] = str(job.data)
        return record

    def close(self) -> None:
        if self.remote_dir:
            try:
                self._exec(f"rm -rf {shlex.quote(self.remote_dir)}", timeout=60, what="cleanup")
            except EdgekitError:
                pass
            self.remote_dir = None
            self._sent.clear()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _local_cache() -> Path:
    import os
    import tempfile

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edgekit"
    try:
        base.mkdir(parents=True, exist_ok=True)
        return base
    except OSError:
        return Path(tempfile.gettempdir())


def parse_spec(rest: str) -> tuple[str | None, str, int | None]:
    m = _SPEC.match(rest)
    if not m:
        raise EdgekitError(f"bad ssh target 'ssh://{rest}'; expected ssh://user@host[:port]")
    port = int(m.group("port")) if m.group("port") else None
    if port is not None and not 0 < port < 65536:
        raise EdgekitError(f"bad port in ssh://{rest}")
    return m.group("user"), m.group("host").strip("[]"), port


@register("ssh", "ssh://user@host[:port] (a board with python3 + LiteRT)")
def _factory(rest: str, **options) -> Target:
    user, host, port = parse_spec(rest)
    return SshTarget(user, host, port, python=options.get("remote_python") or "python3",
                     identity=options.get("ssh_identity"), ssh_options=options.get("ssh_options"),
                     timeout=options.get("timeout") or 7200)
