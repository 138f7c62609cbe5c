# %% [markdown]
# # Exercises 01 · Users and groups
#
# Acme is growing. Put the lesson into practice: create users and groups, attach policies to
# groups rather than users, and read who has what. Each exercise ends with a check cell.
# `lab.reset()` starts the whole account over if you get lost.

# %%
import json

import boto3

from labkit import open_lab

lab = open_lab()
iam = boto3.client("iam")

# %% [markdown]
# ## Exercise 1: a new developer
#
# Grace joins the developers. Create her IAM user (Acme's convention: her lower-case first name)
# and make her a member of the `developers` group. Attach nothing to her directly: her
# permissions should come from the group.

# %%
# solution
iam.create_user(UserName="grace", Tags=[{"Key": "team", "Value": "platform"}])
iam.add_user_to_group(GroupName="developers", UserName="grace")
print([g["GroupName"] for g in iam.list_groups_for_user(UserName="grace")["Groups"]])

# %%
lab.check("users.1")

# %% [markdown]
# ## Exercise 2: what reaches Carol?
#
# Carol is in more than one group. Set `answer` to the **sorted** list of the names of every
# managed policy that is attached to one of her groups (or to her).

# %%
# solution
# stub: answer = None
policies = set()
for group in iam.list_groups_for_user(UserName="carol")["Groups"]:
    attached = iam.list_attached_group_policies(GroupName=group["GroupName"])["AttachedPolicies"]
    policies.update(p["PolicyName"] for p in attached)
policies.update(p["PolicyName"] for p in iam.list_attached_user_policies(UserName="carol")["AttachedPolicies"])
answer = sorted(policies)
answer

# %%
lab.check("users.2", answer)

# %% [markdown]
# ## Exercise 3: a group for analysts
#
# Create a group `analysts` with the AWS managed policy `AmazonS3ReadOnlyAccess` attached, and
# add `erin` to it.

# %%
# solution
iam.create_group(GroupName="analysts")
iam.attach_group_policy(GroupName="analysts", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
iam.add_user_to_group(GroupName="analysts", UserName="erin")
print(sorted(u["UserName"] for u in iam.get_group(GroupName="analysts")["Users"]))

# %%
lab.check("users.3")

# %% [markdown]
# ## Exercise 4: an inline policy, and no more than needed
#
# Developers need to read the telemetry bucket `acme-telemetry`: list it, and read its objects.
# Give the `developers` group an inline policy named `TelemetryRead` that allows exactly that:
# `s3:ListBucket` on the bucket, `s3:GetObject` on its objects, nothing else.

# %%
# solution
telemetry_read = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::acme-telemetry"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-telemetry/*"},
    ],
}
iam.put_group_policy(GroupName="developers", PolicyName="TelemetryRead", PolicyDocument=json.dumps(telemetry_read))
print(iam.list_group_policies(GroupName="developers")["PolicyNames"])

# %%
lab.check("users.4")

# %% [markdown]
# ## Exercise 5: from the user to a group
#
# Henry, in operations, has the AWS managed policy `AmazonEC2ReadOnlyAccess` attached to him
# directly. Move it where it belongs: create a group `operators`, attach the policy to it, add
# Henry, and detach the policy from Henry himself. He must keep his EC2 read access.

# %%
# solution
ec2_read = "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"
iam.create_group(GroupName="operators")
iam.attach_group_policy(GroupName="operators", PolicyArn=ec2_read)
iam.add_user_to_group(GroupName="operators", UserName="henry")
iam.detach_user_policy(UserName="henry", PolicyArn=ec2_read)
print(iam.list_attached_user_policies(UserName="henry")["AttachedPolicies"])

# %%
lab.check("users.5")

# %% [markdown]
# ## Check your work
#
# This cell runs every public check of this notebook again and sums up. Your grade comes from the
# grader, which runs the same checks (and any hidden ones) on a fresh run of your whole notebook.

# %%
lab.check_my_work("01_users_and_groups")
