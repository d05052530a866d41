"""One command's Ray: connect to a running cluster (``ray:ADDRESS``) or start a local instance (``ray``).

:class:`RaySession` is a context manager. With an address it first opens a plain TCP connection to
the head's port, so an unreachable or mistyped address is one line in seconds (Ray itself would retry
for minutes); ``auto`` is resolved the way ``ray.init`` resolves it (``RAY_ADDRESS``, then the cluster
started on this machine). Without an address it starts a local Ray instance with the custom resources
asked for (its node offers every target of a bench matrix) and stops it on exit. A process that is
already connected (edgekit called from a Ray driver of its own) keeps its connection.

Ray's Python log lines and its workers' output stay in its session folder unless edgekit's logger is
at DEBUG (``--verbose``); its C++ info and warning lines are chatter the CLI's stderr filter drops
(:mod:`edgekit.cli.quiet`).
"""

from __future__ import annotations

import logging
import socket
from types import ModuleType

from ..errors import EdgekitError, first_line

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'edgekit[ray]'"
CONNECT_TIMEOUT_S = 5.0
# environment of every Ray worker process of the command (Ray's worker processes are not edgekit's CLI:
# nothing filters TensorFlow's start-up chatter there)
WORKER_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2"}


def import_ray() -> ModuleType:
    """``ray``, or one line naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise EdgekitError(f"--executor ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def _verbose() -> bool:
    return logging.getLogger("edgekit").isEnabledFor(logging.DEBUG)


def head_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (``auto``, ``ray://HOST:PORT`` and ``[IPv6]:PORT`` too) → ``(host, port)``; one line when
    it is neither."""
    if address == "auto":
        from ray._private.services import canonicalize_bootstrap_address_or_die

        try:
            address = canonicalize_bootstrap_address_or_die("auto")
        except ConnectionError:
            raise EdgekitError("--executor ray:auto: no running Ray cluster found on this machine (start one with "
                               "'ray start --head', or give the head's HOST:PORT)") from None
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit():
        raise EdgekitError(f"--executor ray:{address}: give the head node's HOST:PORT (e.g. ray:10.0.0.5:6379) or "
                           "ray:auto")
    return host.strip("[]"), int(port)


def check_reachable(address: str) -> None:
    """One line when nothing answers at the head's port (before Ray would retry for minutes)."""
    host, port = head_address(address)
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or first_line(exc))
        raise EdgekitError(f"cannot reach a Ray cluster at {host}:{port} ({reason})") from None


class RaySession:
    """Ray for the duration of a ``with`` block: connected to ``address``, or a local instance declaring
    ``resources`` (custom resource name → capacity) that is stopped at the end."""

    def __init__(self, address: str | None, resources: dict[str, float] | None = None) -> None:
        self.address = address
        self.resources = dict(resources or {})
        self.ray: ModuleType | None = None
        self._owned = False

    def __enter__(self) -> "RaySession":
        ray = import_ray()
        self.ray = ray
        if ray.is_initialized():
            return self
        verbose = _verbose()
        kwargs = dict(logging_level=logging.INFO if verbose else logging.ERROR, log_to_driver=verbose,
                      runtime_env={"env_vars": WORKER_ENV})
        if self.address:
            check_reachable(self.address)
            try:
                ray.init(address=self.address, **kwargs)
            except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as exc:
                raise EdgekitError(f"cannot connect to the Ray cluster at {self.address}: {first_line(exc)} (this "
                                   "machine needs the cluster's Ray version and, under token authentication, its "
                                   "token: RAY_AUTH_TOKEN or ~/.ray/auth_token)") from None
            where = f"the Ray cluster at {self.address}"
        else:
            ray.init(resources=self.resources, include_dashboard=False, **kwargs)
            where = "a local Ray instance"
        self._owned = True
        alive = [n for n in ray.nodes() if n["Alive"]]
        logger.info(f"ray: {where}, {len(alive)} node(s), {ray.cluster_resources().get('CPU', 0):g} CPUs")
        return self

    def __exit__(self, *exc) -> None:
        if self._owned and self.ray is not None:
            self.ray.shutdown()
            self._owned = False

    def node_resources(self) -> dict[str, dict[str, float]]:
        """Each alive node's total resources, by node id."""
        return {n["NodeID"]: dict(n["Resources"]) for n in self.ray.nodes() if n["Alive"]}

    def this_node(self) -> str:
        """The id of the node this process (the driver) runs on."""
        return self.ray.get_runtime_context().get_node_id()


class OnSession:
    """An executor holding a :class:`RaySession` (``self.session``) for the duration of its ``with`` block."""

    session: RaySession

    def __enter__(self):
        self.session.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.session.__exit__(*exc)
