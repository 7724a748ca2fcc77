"""IAM action lists used by the constructs' grants, named for what they allow.

Every action is spelled out (no ``*`` wildcards), so policies read as a list of
exactly what a principal may do.
"""

S3_READ_OBJECTS = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAttributes"]
S3_WRITE_OBJECTS = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
S3_LIST = ["s3:ListBucket"]

KMS_DECRYPT = ["kms:Decrypt"]
KMS_ENCRYPT = ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"]

# What a service needs from a key to publish into an encrypted SNS topic or SQS queue
# (CloudWatch alarms -> SNS, SNS -> SQS).
KMS_FOR_SERVICE_PUBLISHERS = ["kms:Decrypt", "kms:GenerateDataKey"]
# What CloudWatch Logs needs from a key to encrypt a log group.
KMS_FOR_CLOUDWATCH_LOGS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
]
# X-Ray tracing of a Lambda function (what Lambda's tracing config needs; no resource-level permissions).
XRAY_WRITE = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
# Network interfaces of a Lambda function in a VPC (what AWSLambdaVPCAccessExecutionRole grants).
EC2_LAMBDA_VPC_ENIS = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
]

# DynamoDB items (AuditedTable). Transactions need no actions of their own: TransactGetItems is
# authorised by GetItem, TransactWriteItems by PutItem/UpdateItem/DeleteItem/ConditionCheckItem.
DYNAMODB_READ_DATA = [
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
]
# Secondary indexes answer only queries and scans.
DYNAMODB_READ_INDEX = ["dynamodb:Query", "dynamodb:Scan"]
DYNAMODB_WRITE_DATA = [
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
]
DYNAMODB_READ_STREAM = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
# ListStreams has no resource-level permissions (its resource is "*"); stream consumers such as
# Lambda event source mappings call it.
DYNAMODB_LIST_STREAMS = ["dynamodb:ListStreams"]
# What a caller of a DynamoDB table encrypted with a customer-managed key needs from the key.
KMS_DYNAMODB_READ = ["kms:Decrypt", "kms:DescribeKey"]
KMS_DYNAMODB_WRITE = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]

# Key-policy actions for services that encrypt on your behalf (CloudTrail log files, legacy
# CloudFront log delivery); AWS documents them as kms:GenerateDataKey*, of which S3 and CloudTrail
# call GenerateDataKey. CloudWatch Logs and vended-log delivery (delivery.logs.amazonaws.com) use
# KMS_FOR_CLOUDWATCH_LOGS, the actions AWS's kms:Encrypt*/ReEncrypt*/GenerateDataKey*/Describe*
# stand for.
KMS_GENERATE_DATA_KEY = ["kms:GenerateDataKey"]
KMS_DESCRIBE = ["kms:DescribeKey"]

CLOUDWATCH_LOGS_WRITE = ["logs:CreateLogStream", "logs:PutLogEvents"]

# The API key authorizer reads one permissions item by its key, nothing else (no Query, no Scan).
DYNAMODB_GET_ITEM = ["dynamodb:GetItem"]

# SQS messages (SecureQueue). Producers need the key's GenerateDataKey and Decrypt
# (KMS_FOR_SERVICE_PUBLISHERS); consumers need kms:Decrypt (KMS_DECRYPT).
SQS_SEND = ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
SQS_CONSUME = [
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
]

# What API Gateway's account-level CloudWatch role needs to write REST API execution and access logs
# (the actions of AmazonAPIGatewayPushToCloudWatchLogs).
CLOUDWATCH_LOGS_FOR_API_GATEWAY = [
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
]

# Rotating a Secrets Manager secret with a Lambda function (the four rotation steps), and what the
# function needs from the secret's customer-managed key (limited by the SecretARN encryption
# context). No secretsmanager:GetRandomPassword: it has no resource-level permissions, and the
# built-in rotation function generates values itself.
SECRETS_MANAGER_ROTATE = [
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
]
KMS_FOR_SECRET_ROTATION = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
# Readers and writers of a secret's value (SecureSecret.grant_read / grant_write); with a
# customer-managed key, readers also need kms:Decrypt (KMS_DECRYPT) and writers kms:GenerateDataKey
# and kms:Decrypt (KMS_FOR_SERVICE_PUBLISHERS).
SECRETS_MANAGER_READ = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
SECRETS_MANAGER_WRITE = ["secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret"]

# What a Lambda event source mapping of an SQS queue needs from the function's role (AWS documents
# exactly these three; consumers that change visibility or look queues up by name get SQS_CONSUME).
SQS_EVENT_SOURCE = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]

# Single calls, for grants that name exactly what a handler calls (DocumentPipeline). A presigned
# POST or URL is authorized against its signer, so it needs the action of the request it signs.
S3_PUT_OBJECT = ["s3:PutObject"]
S3_DELETE_OBJECT = ["s3:DeleteObject"]
S3_GET_OBJECT_VERSION = ["s3:GetObjectVersion"]
S3_GET_OBJECT_ANY_VERSION = ["s3:GetObject", "s3:GetObjectVersion"]
DYNAMODB_PUT_ITEM = ["dynamodb:PutItem"]
DYNAMODB_UPDATE_ITEM = ["dynamodb:UpdateItem"]
DYNAMODB_QUERY = ["dynamodb:Query"]
# Powertools Idempotency's DynamoDB persistence layer: it gets, puts (conditionally), updates and
# deletes its records, and documents exactly these permissions.
DYNAMODB_IDEMPOTENCY_RECORDS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
