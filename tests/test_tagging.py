"""require_tags and the tags every construct writes."""

from __future__ import annotations

import pytest
from aws_cdk import App, CfnResource, Stack, Tags, aws_sqs as sqs

from serverless_patterns import SecureBucket, require_tags
from serverless_patterns.tagging import untagged_resources


def test_require_tags_fails_synth_naming_each_untagged_resource():
    app = App()
    stack = Stack(app, "Tagged")
    SecureBucket(stack, "Docs")
    sqs.Queue(stack, "Plain", enforce_ssl=True)
    Tags.of(stack).add("Environment", "prod")
    require_tags(app, ["Environment", "Owner"])
    with pytest.raises(Exception) as error:
        app.synth()
    message = str(error.value)
    assert "lack required tag keys (Environment, Owner)" in message
    assert "Tagged/Plain/Resource: missing Owner" in message
    assert "Tagged/Docs/Resource/Resource: missing Owner" in message


def test_require_tags_passes_when_every_taggable_resource_is_tagged():
    app = App()
    stack = Stack(app, "Tagged")
    SecureBucket(stack, "Docs")
    Tags.of(app).add("Environment", "prod")
    Tags.of(app).add("Owner", "platform")
    require_tags(app, ["Environment", "Owner"])
    app.synth()
    assert untagged_resources(app, ["Environment", "Owner"]) == {}


def test_untaggable_resources_are_not_reported():
    app = App()
    stack = Stack(app, "Mixed")
    CfnResource(stack, "Untaggable", type="AWS::SQS::QueuePolicy", properties={"Queues": [], "PolicyDocument": {}})
    require_tags(app, ["Owner"])
    app.synth()


@pytest.mark.parametrize("keys", [[], [""], [None]])
def test_require_tags_rejects_empty_keys(keys):
    with pytest.raises(ValueError, match="require_tags: keys must be non-empty strings"):
        require_tags(App(), keys)
