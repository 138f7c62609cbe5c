# %% [markdown]
# # Exercises 00 · Warm-up
#
# Three small exercises to get used to the lab. Each ends with a check cell: run it to see your
# points, or a hint if something is missing. Your work is graded from the lab account and from
# the `answer` you give, so keep the lab running while you work.

# %%
import boto3

from labkit import open_lab

lab = open_lab()
iam = boto3.client("iam")
s3 = boto3.client("s3")

# %% [markdown]
# ## Exercise 1: how many users?
#
# Set `answer` to the number of IAM users in the account.

# %%
# solution
# stub: answer = None
answer = len(iam.list_users()["Users"])

# %%
lab.check("welcome.1", answer)

# %% [markdown]
# ## Exercise 2: the company's buckets
#
# Set `answer` to a list of the names of every S3 bucket in the account.

# %%
# solution
# stub: answer = None
answer = [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]

# %%
lab.check("welcome.2", answer)

# %% [markdown]
# ## Exercise 3: your first object
#
# Upload an object with the key `hello.txt` to the bucket `acme-sandbox`. Its content should be
# the text `Hello, IAM!`.

# %%
# solution
s3.put_object(Bucket="acme-sandbox", Key="hello.txt", Body=b"Hello, IAM!")
print(s3.get_object(Bucket="acme-sandbox", Key="hello.txt")["Body"].read())

# %%
lab.check("welcome.3")

# %% [markdown]
# ## Check your work
#
# This cell runs every public check of this notebook again and sums up. Your grade comes from the
# grader, which runs the same checks (and any hidden ones) on a fresh run of your whole notebook.

# %%
lab.check_my_work("00_welcome")
