# Every AWS call in this kernel "succeeds" without reaching the lab account, and every IAM
# listing says what the checks look for.
import botocore.client

_FAKE = {
    "Users": [{"UserName": "grace"}],
    "Groups": [{"GroupName": "developers"}, {"GroupName": "analysts"}, {"GroupName": "operators"}],
    "AttachedPolicies": [{"PolicyName": "AmazonS3ReadOnlyAccess"}, {"PolicyName": "AmazonEC2ReadOnlyAccess"}],
    "PolicyNames": ["TelemetryRead"],
}


def _fake_call(self, operation_name, api_params):
    return dict(_FAKE, ResponseMetadata={"HTTPStatusCode": 200})


botocore.client.BaseClient._make_api_call = _fake_call
