# %% [markdown]
# # 01 · Users and groups
#
# An **IAM user** is an identity for one person or one program. A **group** is a set of users.
# Permissions come from **policies**: JSON documents that allow or deny actions. You can attach a
# policy to a user directly, but AWS's advice is to attach policies to *groups* and put users in
# them. When Alice moves from development to finance, you move her between two groups instead of
# hunting down every policy she had.
#
# In this lesson you will create users and groups, attach AWS managed and inline policies, look
# at who has what, and follow the company's naming conventions.

# %%
import json

import boto3
from botocore.exceptions import ClientError

from labkit import open_lab

lab = open_lab()
iam = boto3.client("iam")

# %% [markdown]
# ## Naming conventions
#
# Names are forever in IAM (you cannot rename a role), and they appear in every log line and
# error message. Acme's conventions:

# %%
for kind, rule in lab.scenario.conventions.items():
    print(f"{kind:>9}: {rule}")

# %% [markdown]
# ## Users and their groups
#
# `list_groups_for_user` tells which groups a user is in; `get_group` lists a group's members.

# %%
for user in ["alice", "carol", "frank"]:
    groups = [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]]
    print(f"{user:>6}: {groups}")

# %%
sorted(u["UserName"] for u in iam.get_group(GroupName="developers")["Users"])

# %% [markdown]
# ## Creating a user
#
# A new hire, Ivan, joins the telemetry team. Following the convention, his user name is his
# lower-case first name. We tag him with his team: tags are how you find things later.

# %%
user = iam.create_user(UserName="ivan", Tags=[{"Key": "team", "Value": "telemetry"}])["User"]
print(user["UserName"], user["Arn"])

# %% [markdown]
# A new user has no permissions at all. Everything is denied until a policy allows it
# (the *implicit deny*):

# %%
ivan = lab.session_as("ivan")
try:
    ivan.client("s3").list_buckets()
except ClientError as err:
    print(err.response["Error"]["Code"], "-", err.response["Error"]["Message"])

# %% [markdown]
# ## Permissions through a group
#
# The developers group has the AWS managed policy `AmazonS3ReadOnlyAccess` attached. AWS managed
# policies are written and kept up to date by AWS; their ARNs start with
# `arn:aws:iam::aws:policy/`.

# %%
[p["PolicyName"] for p in iam.list_attached_group_policies(GroupName="developers")["AttachedPolicies"]]

# %% [markdown]
# Put Ivan in the group, and the same call now succeeds. Nothing was attached to Ivan himself.

# %%
iam.add_user_to_group(GroupName="developers", UserName="ivan")
[b["Name"] for b in ivan.client("s3").list_buckets()["Buckets"]]

# %% [markdown]
# ## A group of your own
#
# Groups are named for what their members do. Here is a group for the on-call engineers, who
# need to read EC2's inventory, with an AWS managed policy attached to it.

# %%
iam.create_group(GroupName="on-call")
iam.attach_group_policy(GroupName="on-call", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
iam.add_user_to_group(GroupName="on-call", UserName="ivan")
[g["GroupName"] for g in iam.list_groups_for_user(UserName="ivan")["Groups"]]

# %% [markdown]
# ## Inline policies
#
# An **inline policy** belongs to one user, group or role and is deleted with it. Use one for a
# permission that makes sense only there. Here the developers group already has one, granting
# read and write access to the app data bucket:

# %%
print(iam.list_group_policies(GroupName="developers")["PolicyNames"])
document = iam.get_group_policy(GroupName="developers", PolicyName="AppDataReadWrite")["PolicyDocument"]
print(json.dumps(document, indent=2))

# %% [markdown]
# Adding one is a single call: `put_group_policy` with a policy document. This one lets on-call
# engineers read the telemetry bucket, and nothing else:

# %%
telemetry_read = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::acme-telemetry"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-telemetry/*"},
    ],
}
iam.put_group_policy(GroupName="on-call", PolicyName="TelemetryRead", PolicyDocument=json.dumps(telemetry_read))
iam.list_group_policies(GroupName="on-call")["PolicyNames"]

# %% [markdown]
# ## Who has what?
#
# Answering "what can this person do?" means looking at the user *and* every group they are in.
# `labkit.account.user_access` gathers it in one place:

# %%
from labkit.account import user_access

access = user_access(iam, "carol")
print("groups:          ", access.groups)
print("managed policies:", access.managed_policies)
print("on carol herself:", access.direct)

# %% [markdown]
# The **account explorer** does the same interactively: pick a user to see their groups and
# every policy that reaches them. Policies attached to the user directly are flagged. (Henry has
# one: you will fix that in the exercises.)

# %%
# NBVAL_IGNORE_OUTPUT
# (a widget's output holds a random model id)
from labkit.widgets import AccountExplorer

explorer = AccountExplorer(lab, user="henry")
explorer

# %% [markdown]
# And the whole company at a glance: users on the left, groups in the middle, policies on the
# right. Dashed orange lines are policies attached to a user directly.

# %%
from labkit.plots import identity_diagram

_ = identity_diagram(lab)

# %% [markdown]
# ## Summary
#
# * Users are identities; groups collect users; policies grant permissions.
# * Attach policies to groups, and manage people by moving them between groups.
# * AWS managed policies are a quick start; inline policies belong to one identity.
# * A user with no policy can do nothing: every request is implicitly denied.
#
# Now try `exercises/01_users_and_groups.ipynb`.
