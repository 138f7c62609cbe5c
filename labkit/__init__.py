"""labkit: an offline AWS IAM lab for Jupyter."""

from labkit import interceptor, safety
from labkit.errors import LabkitError

__all__ = ["Lab", "LabkitError", "open_lab"]

# From the moment labkit is imported, nothing botocore sends can leave this machine.
safety.install()
interceptor.install()


def __getattr__(name: str):  # pragma: no cover - trivial lazy import
    # Lab pulls in boto3 and moto: import it on first use so `import labkit.policy` stays light.
    if name in ("Lab", "open_lab"):
        from labkit import lab

        return getattr(lab, name)
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")
