"""Amazon SQS and SNS: queues named by URL, topics by ARN, tag-on-create and publishing to endpoints."""

from __future__ import annotations

from labkit.actions.mapping import Request, Rules, Value
from labkit.actions.model import Target

__all__ = ["RULES"]


def _queue_url(req: Request) -> tuple[str, str] | None:
    """(account, queue name) from QueueUrl: ``https://sqs.<region>.amazonaws.com/<account>/<name>``."""
    url = req.params.get("QueueUrl")
    if not isinstance(url, str):
        return None
    parts = [p for p in url.split("?", 1)[0].split("/") if p]
    return (parts[-2], parts[-1]) if len(parts) >= 3 else None


def _queue_name(req: Request) -> Value:
    found = _queue_url(req)
    if found is not None:
        return found[1]
    name = req.params.get("QueueName")
    return name if isinstance(name, str) and name else None


def _queue_account(req: Request) -> Value:
    found = _queue_url(req)
    return found[0] if found is not None and found[0].isdigit() else None


def _topic_name(req: Request) -> Value:
    name = req.params.get("Name") if req.operation == "CreateTopic" else None
    return name if isinstance(name, str) and name else None


RULES = {
    "sqs": Rules("sqs", variables={"QueueName": _queue_name, "Account": _queue_account}),
    "sns": Rules("sns", variables={"TopicName": _topic_name}),
}


@RULES["sqs"].handler("CreateQueue")
def _create_queue(req: Request) -> list[Target]:
    """"To be able to tag a queue on creation, you must have the sqs:CreateQueue and sqs:TagQueue
    permissions" (SQS API Reference, CreateQueue)."""
    targets = req.targets("sqs:CreateQueue")
    if req.params.get("tags"):
        targets += req.targets("sqs:TagQueue")
    return targets


@RULES["sns"].handler("Publish")
def _publish(req: Request) -> list[Target]:
    """Publishing to a topic is authorized on the topic; to a phone number or a platform endpoint
    (which are not topics) on ``*``."""
    if req.params.get("TopicArn"):
        return req.targets("sns:Publish")
    return req.targets("sns:Publish", resources=["*"])


@RULES["sns"].handler("Unsubscribe", "GetSubscriptionAttributes", "SetSubscriptionAttributes")
def _subscription(req: Request) -> list[Target]:
    """Calls on a subscription are authorized on its topic (``<topic ARN>:<subscription id>``)."""
    arn = req.params.get("SubscriptionArn")
    if not isinstance(arn, str) or arn.count(":") < 6:
        raise req.unmapped("no SubscriptionArn")
    return req.targets(f"sns:{req.operation}", resources=[arn.rsplit(":", 1)[0]])
