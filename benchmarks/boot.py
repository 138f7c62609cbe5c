"""Boot time: a fresh process boots a seeded Lab and answers its first IAM call, against moto.

The peer is moto booting with its AWS managed policies loaded (what labkit offers too) and
answering the same call; for ``Lab(mode="server")``, moto's own server started the same way. Both run in fresh processes, alternating, imports included; the script
prints the median of each, then ``lab.reset()``'s median, and the ratio on its last line.

    python benchmarks/boot.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

LABKIT = """
import time
t = time.perf_counter()
from labkit import Lab
import boto3
lab = Lab().start()
boto3.client("iam").list_users()
print(time.perf_counter() - t)
"""

MOTO = """
import time
t = time.perf_counter()
import os
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
import boto3
from moto import mock_aws
mock = mock_aws(config={"iam": {"load_aws_managed_policies": True}})
mock.start()
boto3.client("iam").list_users()
print(time.perf_counter() - t)
"""

SERVER = """
import time
t = time.perf_counter()
from labkit import Lab
import boto3
lab = Lab(mode="server").start()
boto3.client("iam").list_users()
print(time.perf_counter() - t)
lab.stop()
"""

MOTO_SERVER = """
import time
t = time.perf_counter()
import os, socket, subprocess, sys
import boto3
from botocore.config import Config
sock = socket.socket(); sock.bind(("127.0.0.1", 0)); port = sock.getsockname()[1]; sock.close()
env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
server = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}))
while True:
    try:
        iam.list_users()
        break
    except Exception:
        time.sleep(0.02)
print(time.perf_counter() - t)
server.kill()
"""

RESET = """
import time
from labkit import Lab
lab = Lab().start()
lab.client("iam").create_user(UserName="temp")
times = []
for _ in range(20):
    t = time.perf_counter()
    lab.reset()
    times.append(time.perf_counter() - t)
print(sorted(times)[len(times) // 2])
"""


def run(code: str) -> float:
    # Bytecode caches are written (the warm-up run fills them), as on a learner's machine.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    run(LABKIT), run(MOTO)  # warm the file cache and .pyc files
    labkit_times, moto_times = [], []
    for _ in range(args.rounds):
        labkit_times.append(run(LABKIT))
        moto_times.append(run(MOTO))
    run(SERVER), run(MOTO_SERVER)
    server_times, moto_server_times = [], []
    for _ in range(args.rounds):
        server_times.append(run(SERVER))
        moto_server_times.append(run(MOTO_SERVER))
    lab, moto = statistics.median(labkit_times), statistics.median(moto_times)
    server, moto_server = statistics.median(server_times), statistics.median(moto_server_times)
    print(f"labkit boot to first IAM call: median {lab:.3f} s over {args.rounds} fresh processes")
    print(f"moto (managed policies loaded): median {moto:.3f} s over {args.rounds} fresh processes")
    print(f"labkit Lab(mode='server') boot to first IAM call: median {server:.3f} s")
    print(f"moto's own server (managed policies loaded) start to first IAM call: median {moto_server:.3f} s")
    print(f"lab.reset(): median {run(RESET) * 1000:.1f} ms")
    print(f"server boot ratio labkit/moto: {server / moto_server:.2f} (target <= 1.00)")
    print(f"boot ratio labkit/moto: {lab / moto:.2f} (target <= 0.45)")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"(benchmark took {time.perf_counter() - start:.0f} s)", file=sys.stderr)
