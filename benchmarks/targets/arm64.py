"""An aarch64 Python + LiteRT under qemu user-mode emulation, built from Debian arm64 packages.

``prepare()`` (``edgekit arm64 prepare``) fills a cache folder, reusing whatever is already there:

```
CACHE/
  apt/        a private apt configuration (arm64 lists; the host's apt is left alone)
  debs/       the arm64 .debs of python3.11 and its libraries, and qemu-user-static (amd64)
  wheels/     aarch64 wheels (numpy, ai-edge-litert and their dependencies)
  sysroot/    the .debs unpacked with dpkg-deb -x; wheels in /usr/local/lib/python3.11/dist-packages
  roots/CPU/  one root per -cpu: symlinks into sysroot plus its own proc/cpuinfo (see below)
  bin/qemu-aarch64-static, bin/python3-aarch64-CPU   (launchers)
  ready.json  what was prepared (the cache is reused only when it matches)
```

Traps handled (docs/toolchain.md §4.2–4.5): pip does not expand ``manylinux_2_x`` tags for ``--platform`` so every
tag is listed; QEMU 7.2 passes the host's x86 ``/proc/cpuinfo`` through, which makes LiteRT's
cpuinfo crash, so each root carries an ARM-format ``proc/cpuinfo`` (qemu ``-L`` reads it there)
whose CPU part matches ``-cpu``; ``-cpu max`` advertises SME and computed wrong int8 results, so a
CPU is always named explicitly. Emulated timings are ~400-550x slower than the modelled core and are
labelled ``emulated`` in every record; predictions and F1 are real.

Host stdlib only: this module runs on the workstation that drives the emulation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ...errors import EdgekitError

logger = logging.getLogger(__name__)

DEBIAN_MIRROR = "http://deb.debian.org/debian"
DEBIAN_SECURITY = "http://deb.debian.org/debian-security"
DEBIAN_SUITE = "bookworm"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"

ARM64_PACKAGES = (
    "libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libexpat1", "libffi8", "libssl3", "libbz2-1.0",
    "liblzma5", "libsqlite3-0", "libcrypt1", "libuuid1", "libncursesw6", "libtinfo6", "libreadline8",
    "libdb5.3", "libnsl2", "libtirpc3", "libgssapi-krb5-2", "libkrb5-3", "libk5crypto3", "libkrb5support0",
    "libcom-err2", "libkeyutils1", "media-types",
    "python3.11-minimal", "libpython3.11-minimal", "libpython3.11-stdlib", "python3.11",
)
QEMU_PACKAGE = "qemu-user-static"
WHEELS = ("ai-edge-litert==2.3.0", "numpy==2.4.6")
PYTHON_VERSION = "3.11"
# pip takes --platform literally: list every manylinux tag a bookworm (glibc 2.36) system accepts
PLATFORMS = ("manylinux2014_aarch64",) + tuple(f"manylinux_2_{m}_aarch64" for m in range(17, 37))

# MIDR fields per core: (implementer, variant, part, revision, features)
_V8_FEATURES = "fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid"
_V82_FEATURES = _V8_FEATURES + " atomics fphp asimdhp asimdrdm lrcpc dcpop asimddp"
CPUS: dict[str, tuple[int, int, int, int, str]] = {
    "cortex-a53": (0x41, 0x0, 0xD03, 4, _V8_FEATURES),
    "cortex-a72": (0x41, 0x0, 0xD08, 2, _V8_FEATURES),
    "cortex-a76": (0x41, 0x4, 0xD0B, 1, _V82_FEATURES),
    "neoverse-n1": (0x41, 0x3, 0xD0C, 1, _V82_FEATURES + " ssbs"),
}
DEFAULT_CPU = "cortex-a72"
EMULATED_CORES = 4

READY = "ready.json"


def default_cache_dir() -> Path:
    """``EDGEKIT_ARM64_CACHE``, else ``$XDG_CACHE_HOME/edgekit/arm64`` (``~/.cache/edgekit/arm64``)."""
    if os.environ.get("EDGEKIT_ARM64_CACHE"):
        return Path(os.environ["EDGEKIT_ARM64_CACHE"]).expanduser().resolve()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return (base / "edgekit" / "arm64").resolve()


def _spec() -> dict:
    return {"packages": list(ARM64_PACKAGES), "qemu": QEMU_PACKAGE, "wheels": list(WHEELS),
            "python": PYTHON_VERSION, "suite": DEBIAN_SUITE, "cpus": sorted(CPUS), "layout": 2}


def _spec_hash() -> str:
    return hashlib.sha256(json.dumps(_spec(), sort_keys=True).encode()).hexdigest()[:16]


def cpuinfo_text(cpu: str, cores: int = EMULATED_CORES) -> str:
    """An ARM-format /proc/cpuinfo for ``cpu`` (what LiteRT's cpuinfo parses to pick kernels)."""
    if cpu not in CPUS:
        raise EdgekitError(f"unknown arm64 CPU {cpu!r}; choose one of {', '.join(sorted(CPUS))}")
    implementer, variant, part, revision, features = CPUS[cpu]
    blocks = []
    for i in range(cores):
        blocks.append(
            f"processor\t: {i}\nBogoMIPS\t: 50.00\nFeatures\t: {features}\n"
            f"CPU implementer\t: 0x{implementer:02x}\nCPU architecture: 8\nCPU variant\t: 0x{variant:x}\n"
            f"CPU part\t: 0x{part:03x}\nCPU revision\t: {revision}\n")
    return "\n".join(blocks) + "\n"


@dataclass(frozen=True)
class Arm64Env:
    cache: Path
    qemu: Path
    sysroot: Path

    def root(self, cpu: str) -> Path:
        if cpu not in CPUS:
            raise EdgekitError(f"unknown arm64 CPU {cpu!r}; choose one of {', '.join(sorted(CPUS))}")
        return self.cache / "roots" / cpu

    def python_command(self, cpu: str = DEFAULT_CPU) -> list[str]:
        """argv prefix that runs the emulated aarch64 python3.11 (always with an explicit -cpu)."""
        root = self.root(cpu)
        return [str(self.qemu), "-L", str(root), "-cpu", cpu, str(root / "usr" / "bin" / "python3.11")]

    def launcher(self, cpu: str = DEFAULT_CPU) -> Path:
        """A shell script that behaves like ``python3`` on an ARM board (used as the ssh target's python)."""
        return self.cache / "bin" / f"python3-aarch64-{cpu}"

    def env(self) -> dict[str, str]:
        """Host environment for the guest: nothing of the host's Python leaks in."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "QEMU_"))}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def qemu_version(self) -> str:
        out = subprocess.run([str(self.qemu), "--version"], capture_output=True, text=True, timeout=30).stdout
        return (out.splitlines() or ["qemu-aarch64 (unknown)"])[0].strip()


# ---------------------------------------------------------------------------------------------- prepare
def _run(cmd: list[str], what: str, env: dict | None = None, cwd: Path | None = None, timeout: int = 900) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    except FileNotFoundError:
        raise EdgekitError(f"{what}: {cmd[0]} not found (arm64 preparation needs a Debian host with apt and dpkg)") from None
    except subprocess.TimeoutExpired:
        raise EdgekitError(f"{what}: timed out after {timeout}s") from None
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-3:]
        raise EdgekitError(f"{what} failed (exit {proc.returncode}): {' | '.join(tail)}")
    return proc.stdout


def _apt_config(cache: Path) -> Path:
    apt = cache / "apt"
    for sub in ("state/lists/partial", "cache/archives/partial", "etc/sources.list.d", "etc/preferences.d"):
        (apt / sub).mkdir(parents=True, exist_ok=True)
    (apt / "state" / "status").touch()
    signed = f" signed-by={KEYRING}" if Path(KEYRING).is_file() else ""
    (apt / "etc" / "sources.list").write_text(
        f"deb [arch=arm64{signed}] {DEBIAN_MIRROR} {DEBIAN_SUITE} main\n"
        f"deb [arch=arm64{signed}] {DEBIAN_MIRROR} {DEBIAN_SUITE}-updates main\n"
        f"deb [arch=arm64{signed}] {DEBIAN_SECURITY} {DEBIAN_SUITE}-security main\n")
    conf = apt / "apt.conf"
    conf.write_text(
        f'Dir::State "{apt}/state";\nDir::State::status "{apt}/state/status";\n'
        f'Dir::Cache "{apt}/cache";\nDir::Etc::SourceList "{apt}/etc/sources.list";\n'
        f'Dir::Etc::SourceParts "{apt}/etc/sources.list.d";\nDir::Etc::Preferences "{apt}/etc/preferences.d";\n'
        f'Dir::Etc::PreferencesParts "{apt}/etc/preferences.d";\n'
        'APT::Architecture "arm64";\nAPT::Architectures { "arm64"; };\nAcquire::Languages "none";\n'
        'APT::Sandbox::User "root";\n')
    return conf


def _download_debs(cache: Path) -> list[Path]:
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    have = {p.name.split("_")[0] for p in debs.glob("*_arm64.deb")} | {p.name.split("_")[0] for p in debs.glob("*_all.deb")}
    missing = [p for p in ARM64_PACKAGES if p not in have]
    if missing:
        conf = _apt_config(cache)
        env = {**os.environ, "APT_CONFIG": str(conf), "DEBIAN_FRONTEND": "noninteractive"}
        logger.info(f"arm64: apt-get update (private arm64 lists in {cache / 'apt'})")
        _run(["apt-get", "update", "-qq"], "apt-get update (arm64 lists)", env=env)
        logger.info(f"arm64: downloading {len(missing)} arm64 .debs")
        _run(["apt-get", "download", "-qq", *[f"{p}:arm64" if not p == "media-types" else p for p in missing]],
             "apt-get download (arm64)", env=env, cwd=debs)
    if not list(debs.glob(f"{QEMU_PACKAGE}_*.deb")):
        logger.info("arm64: downloading qemu-user-static (host architecture)")
        _run(["apt-get", "download", "-qq", QEMU_PACKAGE], "apt-get download qemu-user-static", cwd=debs)
    return sorted(debs.glob("*.deb"))


def _extract(deb: Path, dest: Path) -> None:
    _run(["dpkg-deb", "-x", str(deb), str(dest)], f"dpkg-deb -x {deb.name}")


def _relativize_symlinks(root: Path) -> None:
    """Absolute symlinks in a .deb point into the host once unpacked elsewhere: make them relative."""
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if p.is_symlink():
                target = os.readlink(p)
                if target.startswith("/"):
                    rel = os.path.relpath(root / target.lstrip("/"), p.parent)
                    p.unlink()
                    p.symlink_to(rel)


def _download_wheels(cache: Path) -> Path:
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    stamp = wheels / ".complete"
    if stamp.is_file() and stamp.read_text() == json.dumps(WHEELS):
        return wheels
    logger.info(f"arm64: downloading aarch64 wheels ({', '.join(WHEELS)}) for cp311")
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "--python-version", PYTHON_VERSION,
           "--implementation", "cp", "--abi", "cp311", "-d", str(wheels)]
    for plat in PLATFORMS:
        cmd += ["--platform", plat]
    _run(cmd + list(WHEELS), "pip download (aarch64 wheels)", timeout=1200)
    stamp.write_text(json.dumps(WHEELS))
    return wheels


def _install_wheels(wheels: Path, sysroot: Path) -> None:
    site = sysroot / "usr" / "local" / "lib" / f"python{PYTHON_VERSION}" / "dist-packages"
    site.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--find-links", str(wheels), "--only-binary=:all:",
           "--python-version", PYTHON_VERSION, "--implementation", "cp", "--abi", "cp311", "--target", str(site),
           "--no-compile", "--upgrade"]
    for plat in PLATFORMS:
        cmd += ["--platform", plat]
    _run(cmd + list(WHEELS), "pip install --target (aarch64 wheels)")


def _make_root(env_cache: Path, sysroot: Path, cpu: str) -> Path:
    """roots/CPU: relative symlinks to the sysroot's top-level folders, plus its own proc/cpuinfo."""
    root = env_cache / "roots" / cpu
    root.mkdir(parents=True, exist_ok=True)
    for entry in sysroot.iterdir():
        if entry.name == "proc":
            continue
        link = root / entry.name
        if not link.is_symlink():
            if link.exists():
                shutil.rmtree(link)
            link.symlink_to(os.path.relpath(entry, root))
    (root / "proc").mkdir(exist_ok=True)
    (root / "proc" / "cpuinfo").write_text(cpuinfo_text(cpu))
    return root


def _write_launcher(env: Arm64Env, cpu: str) -> Path:
    path = env.launcher(cpu)
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = " ".join(_sh_quote(a) for a in env.python_command(cpu))
    path.write_text(
        "#!/bin/sh\n"
        f"# aarch64 python3.11 under qemu user-mode emulation, -cpu {cpu} (written by `edgekit arm64 prepare`)\n"
        "unset PYTHONHOME PYTHONPATH_HOST VIRTUAL_ENV\n"
        f"export EDGEKIT_EMULATED='qemu-aarch64 -cpu {cpu}'\n"
        f"exec {cmd} \"$@\"\n")
    path.chmod(0o755)
    return path


def _sh_quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


def load(cache: str | Path | None = None) -> Arm64Env:
    """The prepared environment in ``cache``; a clear error when it is missing or stale."""
    cache = Path(cache).resolve() if cache else default_cache_dir()
    marker = cache / READY
    if not marker.is_file():
        raise EdgekitError(f"arm64 environment not prepared in {cache}: run `edgekit arm64 prepare`")
    info = json.loads(marker.read_text())
    if info.get("spec") != _spec_hash():
        raise EdgekitError(f"arm64 environment in {cache} is from another edgekit version: run `edgekit arm64 prepare`")
    return Arm64Env(cache, cache / "bin" / "qemu-aarch64-static", cache / "sysroot")


def prepare(cache: str | Path | None = None, force: bool = False) -> Arm64Env:
    """Download and unpack everything (reusing the cache), then smoke-test numpy + LiteRT under qemu."""
    cache = Path(cache).resolve() if cache else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    marker = cache / READY
    if marker.is_file() and not force:
        try:
            env = load(cache)
            logger.info(f"arm64: reusing {cache}")
            return env
        except EdgekitError:
            pass
    t0 = time.perf_counter()
    debs = _download_debs(cache)
    wheels = _download_wheels(cache)
    marker.unlink(missing_ok=True)
    sysroot = cache / "sysroot"
    tmp = Path(tempfile.mkdtemp(prefix=".sysroot.", dir=cache))
    try:
        logger.info(f"arm64: unpacking {len(debs) - 1} .debs into the sysroot")
        qemu_deb = [d for d in debs if d.name.startswith(QEMU_PACKAGE + "_")]
        for deb in debs:
            if deb not in qemu_deb:
                _extract(deb, tmp)
        _relativize_symlinks(tmp)
        logger.info("arm64: installing aarch64 wheels into the sysroot")
        _install_wheels(wheels, tmp)
        qtmp = Path(tempfile.mkdtemp(prefix=".qemu.", dir=cache))
        _extract(qemu_deb[-1], qtmp)
        (cache / "bin").mkdir(exist_ok=True)
        shutil.copy2(qtmp / "usr" / "bin" / "qemu-aarch64-static", cache / "bin" / "qemu-aarch64-static")
        shutil.rmtree(qtmp, ignore_errors=True)
        if sysroot.exists():
            shutil.rmtree(sysroot)
        os.replace(tmp, sysroot)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if (cache / "roots").exists():
        shutil.rmtree(cache / "roots")
    env = Arm64Env(cache, cache / "bin" / "qemu-aarch64-static", sysroot)
    for cpu in CPUS:
        _make_root(cache, sysroot, cpu)
        _write_launcher(env, cpu)
    logger.info(f"arm64: smoke test (numpy + LiteRT under {env.qemu_version()}, -cpu {DEFAULT_CPU})")
    probe = ("import platform, numpy, ai_edge_litert.interpreter as i; "
             "print(platform.machine(), numpy.__version__, i.Interpreter.__name__)")
    out = _run([*env.python_command(DEFAULT_CPU), "-c", probe], "arm64 smoke test", env=env.env(), timeout=600).split()
    if not out or out[0] != "aarch64":
        raise EdgekitError(f"arm64 smoke test: expected aarch64, got {' '.join(out)!r}")
    info = {"spec": _spec_hash(), **_spec(), "qemu_version": env.qemu_version(), "numpy": out[1],
            "debs": sorted(d.name for d in debs), "prepared_seconds": round(time.perf_counter() - t0, 1)}
    marker.write_text(json.dumps(info, indent=2) + "\n")
    logger.info(f"arm64: ready in {cache} ({info['prepared_seconds']:.0f}s)")
    return env
