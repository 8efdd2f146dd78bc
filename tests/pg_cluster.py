"""A throwaway PostgreSQL cluster for the tests and benchmarks: initdb in a temp folder, a free
port on 127.0.0.1, removed after. The server refuses to run as root, so as root it runs as the
``postgres`` system user that Debian's package creates (CI runs as root)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SUPERUSER = "nba"


def _bindir() -> Path:
    for name in ("pg_ctl", "initdb"):
        found = shutil.which(name)
        if found:
            return Path(found).resolve().parent
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True)
        return Path(out.stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        pass
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    raise RuntimeError(
        "PostgreSQL's server programs (initdb, pg_ctl) are missing: run `bash scripts/setup.sh` "
        "(it installs Debian's postgresql package) or `apt-get install postgresql`."
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """One running server: ``url(dbname)``, ``create_database()``, ``restart()``, ``stop()``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.log = root / "log"
        self.port = free_port()
        self.bindir = _bindir()
        self._n = 0
        self._as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [*self._as_user, str(self.bindir / args[0]), *args[1:]]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120)

    def init(self) -> None:
        if self._as_user:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8")
        with open(self.data / "pg_hba.conf", "w") as f:
            # trust for the superuser; passwords for the roles the tests make
            f.write(
                f"local all {SUPERUSER} trust\n"
                f"host all {SUPERUSER} 127.0.0.1/32 trust\n"
                "local all all scram-sha-256\n"
                "host all all 127.0.0.1/32 scram-sha-256\n"
            )
        if self._as_user:
            shutil.chown(self.data / "pg_hba.conf", "postgres")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o", opts, "start")

    def restart(self) -> None:
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-m", "fast", "restart"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", mode, "stop", check=False)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The server hung: its processes stopped (SIGSTOP), so connections stay open and the
        kernel still acknowledges what clients send, but nothing answers. Resumed on exit."""
        head = (self.data / "postmaster.pid").read_text().split()[0]
        pids = [int(head)]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pids[0]:  # the postmaster's children: backends, workers
                pids.append(int(stat.parent.name))
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)

    def url(self, dbname: str = "postgres", user: str = SUPERUSER, password: str = "") -> str:
        auth = f"{user}:{password}" if password else user
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}"

    def sql(self, statement: str, dbname: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True, connect_timeout=10) as conn:
            conn.execute(statement)  # type: ignore[arg-type]

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; returns its URL."""
        self._n += 1
        name = f"{prefix}_{os.getpid()}_{self._n}"
        self.sql(f"CREATE DATABASE {name}")
        return self.url(name)


@contextmanager
def cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="nba-pg-"))
    c = Cluster(root)
    try:
        c.init()
        c.start()
        deadline = time.monotonic() + 60
        while True:  # -w waits for the socket; a first connection confirms
            try:
                c.sql("SELECT 1")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield c
    finally:
        c.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
