# %% [markdown]
# # 00 · Welcome to the IAM lab
#
# This kit gives you a complete AWS account to practise **Identity and Access Management (IAM)**
# on, inside this notebook. It is not a real account: it is a mock that lives in this Python
# kernel, built on [moto](https://docs.getmoto.org). That means:
#
# * no AWS account, no credit card, no cost;
# * nothing you do can reach real AWS, even if this machine has AWS credentials: labkit blocks
#   every request that would leave the machine;
# * you can break things freely, and `lab.reset()` puts everything back.
#
# In this lesson you will start the lab, meet the company that lives in it, make your first API
# calls, and see how graded checks and hints work.

# %% [markdown]
# ## Start the lab
#
# `open_lab()` boots the mocked account and seeds it with a small company. Running the cell
# again reuses the lab that is already running, so your work is kept.

# %%
from labkit import open_lab

lab = open_lab()
lab

# %% [markdown]
# ## The company
#
# The account belongs to **Acme Rockets**, a small company building rocket telemetry software.
# Its people, teams, roles and buckets come from a scenario file: an instructor can write their
# own. Companies agree on naming conventions so that anyone can tell what a name stands for;
# here are Acme's:

# %%
for kind, rule in lab.scenario.conventions.items():
    print(f"{kind:>9}: {rule}")

# %% [markdown]
# ## Making calls
#
# Inside a running lab, ordinary `boto3` code talks to the lab account, acting as its
# **administrator**. This is the same code you would write against real AWS.

# %%
import boto3

iam = boto3.client("iam")
for user in iam.list_users()["Users"]:
    print(user["UserName"], user["Arn"])

# %% [markdown]
# `lab.client("s3")` is a shortcut for the same thing. The company keeps its data in S3 buckets:

# %%
s3 = lab.client("s3")
for bucket in s3.list_buckets()["Buckets"]:
    print(bucket["Name"])

# %%
s3.get_object(Bucket="acme-app-data", Key="config/app.json")["Body"].read().decode()

# %% [markdown]
# ## Acting as someone else
#
# The administrator may do anything. Everyone else may do only what their **policies** allow.
# `lab.session_as("frank")` gives you a boto3 session that signs requests with Frank's own access
# keys. Frank joined this week and is in no group yet, so he has no permissions at all: AWS
# answers `AccessDenied`, and says why.

# %%
from botocore.exceptions import ClientError

frank = lab.session_as("frank")
try:
    frank.client("iam").list_users()
except ClientError as err:
    print(err.response["Error"]["Code"])
    print(err.response["Error"]["Message"])

# %% [markdown]
# Alice is a developer. Her group grants her read access to S3, so the same kind of call works
# for her, while changing IAM does not:

# %%
alice = lab.session_as("alice")
print([b["Name"] for b in alice.client("s3").list_buckets()["Buckets"]])
try:
    alice.client("iam").create_user(UserName="mallory")
except ClientError as err:
    print(err.response["Error"]["Code"])

# %% [markdown]
# ## Checks and hints
#
# Exercises end with a check cell such as `lab.check("welcome.1", answer)`. A check looks at the
# lab account (and at your answer, when the exercise asks for one) and either shows the points you
# earned or tells you, briefly, what is still missing, with a hint. Here is one failing on
# purpose, with a wrong answer:

# %% tags=["raises-exception"]
lab.check("welcome.1", answer=3)

# %% [markdown]
# And the same check passing:

# %%
user_count = len(iam.list_users()["Users"])
lab.check("welcome.1", answer=user_count)

# %% [markdown]
# ## Starting over
#
# Everything you change stays changed until you reset. `lab.reset()` throws all changes away
# and brings back the freshly seeded company, in a fraction of a second.

# %%
iam.create_user(UserName="temporary")
print("before reset:", "temporary" in [u["UserName"] for u in iam.list_users()["Users"]])
lab.reset()
print("after reset: ", "temporary" in [u["UserName"] for u in iam.list_users()["Users"]])

# %% [markdown]
# ## Next
#
# Try the warm-up exercises in `exercises/00_welcome.ipynb`, then go on to
# `01_users_and_groups`.
