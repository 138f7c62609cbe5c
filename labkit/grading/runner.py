"""Runs a graded notebook in a fresh kernel, within a time limit, and says what went wrong.

nbclient runs the cells. The run keeps no outputs (nothing is judged from them); it counts
their size, interrupts a cell that floods, stops at the time limit, survives a dying kernel,
and lets ``input()`` fail at once. The kernel starts in an empty folder of its own, with its own
IPython and Jupyter configuration folders, and its lab pointed at the grader's lab server.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from labkit.grading.normalise import RunCell

__all__ = ["RunOutcome", "Run", "OUTPUT_LIMIT"]

OUTPUT_LIMIT = 1_000_000  # bytes of output one cell may print before it is interrupted
_STARTUP = 180  # seconds a kernel may take to start (a busy 2-core machine, cold caches), on top of the time limit
_MAX_ERROR_NOTES = 3


@dataclass
class RunOutcome:
    """What happened in a run, in words for the learner, and how long it took."""

    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    aborted: bool = False  # stopped by the grader (Ctrl-C), not by the notebook


@lru_cache(maxsize=1)
def _client_class() -> type:
    from nbclient import NotebookClient

    class GradedClient(NotebookClient):  # type: ignore[misc]
        """nbclient, keeping no outputs and interrupting a cell that prints too much."""

        def __init__(self, *args: Any, run: Run, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.run = run

        def output(self, outs: list[Any], msg: dict[str, Any], display_id: str | None, cell_index: int) -> None:
            content = msg.get("content", {})
            size = len(content.get("text", "")) + sum(len(v) if isinstance(v, str) else 64 for v in content.get("data", {}).values())
            self.run.printed += size
            if self.run.printed > OUTPUT_LIMIT and self.run.flooded is None:
                self.run.flooded = cell_index
                asyncio.ensure_future(self.km.interrupt_kernel())
            return None

        def handle_comm_msg(self, outs: list[Any], msg: dict[str, Any], cell_index: int) -> None:
            return None  # widgets: nothing to keep

        async def async_start_new_kernel(self, **kwargs: Any) -> None:
            await super().async_start_new_kernel(**kwargs)
            self.run._started(getattr(getattr(self.km, "provisioner", None), "process", None))

    return GradedClient


class Run:
    """One graded run of ``cells``; :meth:`abort` (from another thread) kills its kernel."""

    def __init__(self, cells: list[RunCell], *, env: dict[str, str], cwd: str, timeout: float) -> None:
        self.cells = cells
        self.env = env
        self.cwd = cwd
        self.timeout = timeout
        self.printed = 0
        self.flooded: int | None = None
        self.current: int | None = None
        self.deadline: float | None = None
        self.errors: list[tuple[int, str, str]] = []
        self._client: Any = None
        self._process: Any = None
        self._aborted = threading.Event()

    def _remaining(self, cell: Any) -> int:
        if self.deadline is None:
            return int(self.timeout) + 1
        return max(1, int(self.deadline - time.monotonic() + 0.999))

    def _started(self, process: Any) -> None:
        self._process = process
        if self._aborted.is_set():  # stopped while the kernel was starting
            self._kill()

    async def _on_start(self, notebook: Any) -> None:
        self.deadline = time.monotonic() + self.timeout

    async def _on_execute(self, cell: Any, cell_index: int) -> None:
        self.current = cell_index
        self.printed = 0
        self.flooded = None

    async def _on_executed(self, cell: Any, cell_index: int, execute_reply: dict[str, Any]) -> None:
        content = (execute_reply or {}).get("content", {})
        if content.get("status") == "error":
            self.errors.append((cell_index, str(content.get("ename", "")), str(content.get("evalue", ""))))
        if self.flooded == cell_index:
            self.errors.append((cell_index, "flood", ""))

    def abort(self) -> None:
        """Kill the kernel now (the grader is stopping)."""
        self._aborted.set()
        self._kill()

    def _kill(self) -> None:
        # The kernel leads its own process group: kill the group, children the learner started too.
        process = self._process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                pass

    async def _execute(self) -> str | None:
        import nbformat
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c.source) for c in self.cells])
        self._client = _client_class()(
            notebook,
            run=self,
            kernel_name="python3",
            timeout=int(self.timeout) + 1,
            timeout_func=self._remaining,
            startup_timeout=_STARTUP,
            allow_errors=True,
            shutdown_kernel="immediate",
            record_timing=False,
            on_notebook_start=self._on_start,
            on_cell_execute=self._on_execute,
            on_cell_executed=self._on_executed,
        )
        if self._aborted.is_set():
            return "aborted"
        try:
            await asyncio.wait_for(
                self._client.async_execute(env=self.env, cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                self.timeout + _STARTUP + 30,
            )
        except CellTimeoutError:
            return "timeout"
        except asyncio.TimeoutError:
            return "timeout" if self.deadline is not None else "startup"
        except DeadKernelError:
            return "died"
        except RuntimeError as err:
            return "startup" if self.deadline is None else f"error:{err}"
        return None

    def execute(self) -> RunOutcome:
        """Run the cells to the end, the time limit, or the kernel's death."""
        started = time.monotonic()
        try:
            ending = asyncio.run(self._execute())
        except Exception as err:  # nbclient or jupyter_client failing: report it, grade the account
            ending = f"error:{type(err).__name__}: {err}"
        finally:
            self._kill()  # whatever happened, no kernel outlives its run
            if self._client is not None:
                atexit.unregister(self._client._cleanup_kernel)
        outcome = RunOutcome(seconds=time.monotonic() - started, aborted=self._aborted.is_set())
        outcome.notes = self._notes(ending)
        return outcome

    def _where(self, index: int | None) -> str:
        return self.cells[index].origin if index is not None and 0 <= index < len(self.cells) else "a cell"

    def _notes(self, ending: str | None) -> list[str]:
        notes = []
        shown = 0
        errors = [e for e in self.errors if not (e[1] == "KeyboardInterrupt" and (e[0], "flood", "") in self.errors)]
        for index, ename, evalue in errors:
            where = self._where(index)
            if ename == "flood":
                notes.append(f"{where} printed more than {OUTPUT_LIMIT // 1_000_000} MB of output and was interrupted")
            elif ename == "StdinNotImplementedError":
                notes.append(f"{where} called input(), which a graded run cannot answer: the cell failed")
            elif shown < _MAX_ERROR_NOTES:
                shown += 1
                text = evalue if len(evalue) <= 80 else evalue[:77] + "..."
                notes.append(f"{where} raised {ename}: {text}" if text else f"{where} raised {ename}")
        plain = [e for e in errors if e[1] not in ("flood", "StdinNotImplementedError")]
        if len(plain) > _MAX_ERROR_NOTES:
            notes.append(f"{len(plain) - _MAX_ERROR_NOTES} more cells raised errors")
        if ending == "timeout":
            notes.append(f"stopped at the time limit ({self.timeout:g} s) in {self._where(self.current)}; the cells after it did not run")
        elif ending == "died":
            notes.append(f"the kernel died in {self._where(self.current)} (os._exit, a crash or running out of memory); the cells after it did not run")
        elif ending == "startup":
            notes.append("the kernel could not start, so no cell ran")
        elif ending and ending.startswith("error:"):
            notes.append(f"the run stopped in {self._where(self.current)}: {ending[6:][:120]}")
        return notes
