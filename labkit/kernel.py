"""The ``labkit`` Jupyter kernel: IPython with labkit's network guard in place before any cell runs.

In a plain ``python3`` kernel, a cell that calls boto3 before ``import labkit`` would try to reach
real AWS. The ``labkit`` kernel imports labkit first (which installs :mod:`labkit.safety` and the
interceptor, and imports neither boto3 nor moto), then hands over to ipykernel, so the guard holds
from the first cell, and a request it stops shows the short :class:`~labkit.errors.NoLabRunning`
message rather than a traceback.

``python -m labkit.kernel install [--prefix PREFIX]`` writes the kernel spec (into this
environment, ``sys.prefix``, by default); the spec runs ``python -m labkit.kernel -f {connection_file}``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from collections.abc import Sequence

__all__ = ["KERNEL_NAME", "DISPLAY_NAME", "install_kernelspec", "launch", "main"]

KERNEL_NAME = "labkit"
DISPLAY_NAME = "Python 3 (labkit)"
_MODULE = "labkit.kernel"


def install_kernelspec(*, prefix: str | None = None) -> str:
    """Install the ``labkit`` kernel spec under ``prefix`` (default ``sys.prefix``); returns its folder.

    The spec launches this interpreter, so the kernel sees the same packages as the ``jupyter``
    beside it. Installing again replaces the spec.
    """
    from ipykernel.kernelspec import make_ipkernel_cmd, write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager

    target = sys.prefix if prefix is None else prefix
    # As ipykernel's own install does: frozen modules off, so the debugger can step into them.
    python_arguments = ["-Xfrozen_modules=off"] if platform.python_implementation() == "CPython" else []
    argv = make_ipkernel_cmd(mod=_MODULE, executable=sys.executable, python_arguments=python_arguments)
    manager = KernelSpecManager(kernel_dirs=[os.path.join(target, "share", "jupyter", "kernels")])
    with tempfile.TemporaryDirectory() as staging:
        source = write_kernel_spec(
            os.path.join(staging, KERNEL_NAME), overrides={"argv": argv, "display_name": DISPLAY_NAME}
        )
        return manager.install_kernel_spec(source, kernel_name=KERNEL_NAME, prefix=target)


def launch(argv: Sequence[str] | None = None) -> None:
    """Run an IPython kernel with labkit's guard installed; ``argv`` as ipykernel takes it (``-f FILE``)."""
    import labkit  # noqa: F401  # installs labkit.safety and the interceptor: light, no boto3 or moto
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(list(argv) if argv is not None else None)


def main(argv: Sequence[str] | None = None) -> None:
    """``install [--prefix PREFIX]`` writes the kernel spec; anything else starts the kernel."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] != ["install"]:
        launch(args)
        return
    parser = argparse.ArgumentParser(prog="python -m labkit.kernel install", description="Install the labkit kernel spec.")
    parser.add_argument("--prefix", help="install under PREFIX/share/jupyter/kernels (default: sys.prefix)")
    options = parser.parse_args(args[1:])
    print(f"Installed the {KERNEL_NAME!r} kernel spec in {install_kernelspec(prefix=options.prefix)}")


if __name__ == "__main__":
    # As ipykernel_launcher does: keep the working folder (a learner's notebooks) from shadowing
    # the kernel's own imports; IPython puts it back for the cells.
    if sys.path and (sys.path[0] == "" or os.path.abspath(sys.path[0]) == os.getcwd()):
        del sys.path[0]
    main()
