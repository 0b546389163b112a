"""A background service process tracked by a pid file, started in its own session and stopped with it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ManagedProcess:
    """One daemon of the local stack: its pid file and log file live under the state folder."""

    name: str
    run_dir: Path
    log_dir: Path

    @property
    def pidfile(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def logfile(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The recorded pid if that process is still alive (zombies count as dead)."""
        try:
            pid = int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, IndexError):
            return None
        return None if state in {"Z", "X"} else pid

    def start(self, cmd: list[str], env: dict[str, str] | None = None) -> int:
        """Start ``cmd`` detached (own session, output to the log); returns the pid."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.logfile, "ab") as log:
            proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, **(env or {})},
            )
        self.pidfile.write_text(str(proc.pid))
        return proc.pid

    def stop(self, timeout_s: float = 30.0) -> bool:
        """SIGTERM the process group, SIGKILL after ``timeout_s``; True if something was stopped."""
        pid = self.pid()
        if pid is None:
            self.pidfile.unlink(missing_ok=True)
            return False
        self._signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.pid() is not None:
            time.sleep(0.2)
        if self.pid() is not None:
            self._signal(pid, signal.SIGKILL)
            while self.pid() is not None:
                time.sleep(0.1)
        self._reap(pid)
        self.pidfile.unlink(missing_ok=True)
        return True

    @staticmethod
    def _reap(pid: int, timeout_s: float = 30.0) -> None:
        """Wait until the process is gone: collect its exit status when this process started it (no zombie
        left), else until ``/proc/<pid>`` disappears. A JVM's main thread can show as a zombie while its
        other threads still shut down; it is not waitable (nor gone) until they have."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
            except ChildProcessError:  # not our child (started by another command): wait for it to vanish
                if not Path(f"/proc/{pid}").exists():
                    return
            time.sleep(0.1)

    @staticmethod
    def _signal(pid: int, sig: signal.Signals) -> None:
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            os.kill(pid, sig)
