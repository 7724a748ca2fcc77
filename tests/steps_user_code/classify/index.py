"""A processing step: classifies by size; a document named *fail* makes it raise (every attempt)."""


class ClassificationError(Exception):
    pass


def handler(event, context):
    if "fail" in event["key"]:
        raise ClassificationError(f"cannot classify {event['key'].rsplit('/', 1)[-1]}")
    if "bogus" in event["key"]:
        return {"status": "NOT_DECLARED"}
    return {"status": "CLASSIFIED_LARGE" if event["size"] > 100 else "CLASSIFIED_SMALL", "detail": {"after": event["status"]}}
