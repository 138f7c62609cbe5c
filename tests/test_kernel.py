"""The labkit kernel: its spec, and a kernel whose first cell cannot reach AWS and says so briefly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager

from labkit.errors import NoLabRunning
from labkit.kernel import DISPLAY_NAME, KERNEL_NAME, install_kernelspec

FIRST_CELL = 'import boto3\nboto3.client("s3", region_name="us-east-1").list_buckets()'
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Loaded by the kernel's interpreter before anything else (PYTHONPATH): writes down every host
# name the kernel process asks DNS about.
RECORD_LOOKUPS = """
import os, socket
_log, _getaddrinfo = os.environ["LABKIT_TEST_LOOKUPS"], socket.getaddrinfo
def _recording(host, *args, **kwargs):
    with open(_log, "a", encoding="utf-8") as log:
        log.write(f"{host}\\n")
    return _getaddrinfo(host, *args, **kwargs)
socket.getaddrinfo = _recording
"""


def _specs(prefix: Path) -> KernelSpecManager:
    return KernelSpecManager(kernel_dirs=[str(prefix / "share" / "jupyter" / "kernels")])


def test_install_kernelspec__writes_the_labkit_spec_under_the_prefix(tmp_path):
    folder = install_kernelspec(prefix=str(tmp_path))
    assert Path(folder) == tmp_path / "share" / "jupyter" / "kernels" / "labkit"
    spec = _specs(tmp_path).get_kernel_spec(KERNEL_NAME)
    assert (spec.display_name, spec.language) == (DISPLAY_NAME, "python")
    assert spec.argv[0] == sys.executable
    assert spec.argv[-4:] == ["-m", "labkit.kernel", "-f", "{connection_file}"]


def test_install_kernelspec__twice__replaces_the_spec(tmp_path):
    first = install_kernelspec(prefix=str(tmp_path))
    (Path(first) / "stale.txt").write_text("left over")
    assert install_kernelspec(prefix=str(tmp_path)) == first
    assert not (Path(first) / "stale.txt").exists()
    assert os.listdir(tmp_path / "share" / "jupyter" / "kernels") == [KERNEL_NAME]


@pytest.mark.slow
def test_module_entry__install__writes_the_spec(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "labkit.kernel", "install", "--prefix", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert str(tmp_path / "share" / "jupyter" / "kernels" / "labkit") in done.stdout
    assert _specs(tmp_path).get_kernel_spec(KERNEL_NAME).display_name == DISPLAY_NAME


def test_no_lab_running__in_ipython__shows_a_short_message_naming_open_lab(capsys, monkeypatch, tmp_path):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path))
    shell = InteractiveShell(config=Config({"HistoryManager": {"enabled": False}}))
    capsys.readouterr()
    result = shell.run_cell(
        'import boto3\nboto3.client("s3", region_name="us-east-1", aws_access_key_id="AKIAEXAMPLE",'
        ' aws_secret_access_key="secret").list_buckets()'
    )
    shown = ANSI.sub("", capsys.readouterr().out).strip().splitlines()
    assert isinstance(result.error_in_exec, NoLabRunning)  # still a failed cell
    assert shown[0] == "✗ No lab is running"
    assert "https://s3.amazonaws.com/" in shown[1] and "open_lab()" in shown[2]
    assert len(shown) == 3


# --- A real kernel started from the spec -------------------------------------------------------

Run = Callable[[str], tuple[dict, list[dict]]]


@pytest.fixture
def kernel_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a learner with keys but no AWS config, and DNS look-ups written down."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(RECORD_LOOKUPS)
    env.update(
        AWS_ACCESS_KEY_ID="AKIAEXAMPLEEXAMPLE01",
        AWS_SECRET_ACCESS_KEY="not-a-real-secret",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        PYTHONPATH=os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH")) if p),
        LABKIT_TEST_LOOKUPS=str(tmp_path / "lookups.txt"),
    )
    return env


@pytest.fixture
def labkit_kernel(tmp_path: Path, kernel_env: dict[str, str]) -> Iterator[Callable[[], Run]]:
    """Starts a kernel from a freshly installed labkit spec (with ``kernel_env``); returns a cell runner."""
    from jupyter_client.manager import KernelManager

    install_kernelspec(prefix=str(tmp_path / "prefix"))
    managers: list[KernelManager] = []
    clients = []

    def start() -> Run:
        manager = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=_specs(tmp_path / "prefix"))
        manager.start_kernel(env=kernel_env, cwd=str(tmp_path))
        managers.append(manager)
        client = manager.client()
        client.start_channels()
        clients.append(client)
        client.wait_for_ready(timeout=60)

        def run(code: str) -> tuple[dict, list[dict]]:
            outputs: list[dict] = []

            def keep(message: dict) -> None:
                if message["msg_type"] in ("stream", "error", "execute_result", "display_data"):
                    outputs.append({"output_type": message["msg_type"], **message["content"]})

            reply = client.execute_interactive(code, output_hook=keep, timeout=60)
            return reply["content"], outputs

        return run

    yield start
    for client in clients:
        client.stop_channels()
    for manager in managers:
        manager.shutdown_kernel(now=True)


def _shown(outputs: list[dict]) -> list[str]:
    lines: list[str] = []
    for output in outputs:
        text = "\n".join(output["traceback"]) if output["output_type"] == "error" else output.get("text", "")
        lines += ANSI.sub("", text).strip().splitlines()
    return lines


@pytest.mark.slow
def test_first_cell_calling_aws__fails_with_a_short_message__and_connects_nowhere(labkit_kernel, kernel_env, trap):
    kernel_env["AWS_ENDPOINT_URL"] = trap.url
    reply, outputs = labkit_kernel()(FIRST_CELL)
    assert reply["status"] == "error" and reply["ename"] == "NoLabRunning"
    shown = _shown(outputs)
    assert [o["output_type"] for o in outputs] == ["error"]
    assert len(shown) < 10, shown
    assert "open_lab()" in "\n".join(shown) and f"{trap.url}/" in "\n".join(shown)
    assert trap.connections == 0


@pytest.mark.slow
def test_first_cell_calling_aws__names_the_real_host__without_looking_it_up(labkit_kernel, kernel_env):
    run = labkit_kernel()
    reply, outputs = run(FIRST_CELL)
    assert reply["status"] == "error" and reply["ename"] == "NoLabRunning"
    shown = "\n".join(_shown(outputs))
    assert "https://s3.amazonaws.com/" in shown and "open_lab()" in shown
    lookups = Path(kernel_env["LABKIT_TEST_LOOKUPS"])
    assert not lookups.exists() or "amazonaws" not in lookups.read_text(), lookups.read_text()
    # ...and look-ups are written down: the kernel ran the recorder.
    run("import socket\nsocket.getaddrinfo('localhost', 80)")
    assert "localhost" in lookups.read_text()


@pytest.mark.slow
def test_kernel__starts_with_the_guard_and_without_moto(labkit_kernel):
    run = labkit_kernel()
    reply, outputs = run("import sys, botocore.httpsession as h\nprint(h.URLLib3Session.send.__module__, 'moto' in sys.modules)")
    assert reply["status"] == "ok"
    assert _shown(outputs) == ["labkit.safety False"]
